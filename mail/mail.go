// Package mail sends Atrium's emails (invitations and password reset links)
// over SMTP, off the request path. A request only enqueues; one worker
// goroutine delivers, with a bounded number of retries, so a slow or broken
// mail server never fails or slows an invite. Every link carries a secret
// ticket: nothing here logs a link, and error texts are scrubbed before they
// reach a log line.
package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	netmail "net/mail"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// Invitation is one invitation email.
type Invitation struct {
	To              string // recipient address
	URL             string // the invitation link (secret: never logged)
	ProjectName     string
	ApplicationName string
}

// PasswordReset is one email with a password reset link.
type PasswordReset struct {
	To              string // recipient address
	URL             string // the reset link (secret: never logged)
	ProjectName     string
	ApplicationName string
}

// letter is what the outbox sends, whatever the kind of email: one link
// and the words around it.
type letter struct {
	kind            string // for the log: "invitation", "password reset"
	to, url         string
	subject, intro  string // intro is the first sentence, without its stop
	action          string // what the link does: "accept the invitation"
	closing         string // a last sentence, or ""
	forName, orProj string // the application's name, else the project's
	prep            string // how the name joins subject and intro: "to", "for"
}

func (l letter) letter() letter { return l }

// email is an email the outbox knows how to write.
type email interface{ letter() letter }

func (inv Invitation) letter() letter {
	return letter{kind: "invitation", to: inv.To, url: inv.URL, forName: inv.ApplicationName, orProj: inv.ProjectName,
		subject: "You are invited", intro: "You have been invited", action: "accept the invitation", prep: "to"}
}

func (r PasswordReset) letter() letter {
	return letter{kind: "password reset", to: r.To, url: r.URL, forName: r.ApplicationName, orProj: r.ProjectName,
		subject: "Reset your password", intro: "Someone asked to reset your password", action: "choose a new password", prep: "for",
		closing: "The link works once, for one hour. If you did not ask for it, ignore this email: your password stays as it is."}
}

// Config of the outbox.
type Config struct {
	// SMTPURL is "" for mail off. smtp:// uses STARTTLS when the server offers
	// it; smtps:// is implicit TLS. user:pass turns on SMTP AUTH (PLAIN or
	// LOGIN, whichever the server offers). The port defaults to 587 for smtp
	// and 465 for smtps.
	SMTPURL string
	From    string // sender address; required when SMTPURL is set
	// Attempts is the total tries per message (default 4).
	Attempts int
	// Backoff is the first retry delay, doubling after each try (default 2s).
	Backoff time.Duration
	// QueueSize bounds the pending messages (default 1000); when it is full
	// SendInvitation drops the message and logs an error rather than block.
	QueueSize int
	// InsecureSkipVerify accepts any server certificate: tests only.
	InsecureSkipVerify bool
}

// String and LogValue hide the SMTP password should a Config be printed.
func (c Config) String() string {
	return fmt.Sprintf("{SMTPURL:%s From:%s Attempts:%d Backoff:%s QueueSize:%d InsecureSkipVerify:%t}",
		redactedURL(c.SMTPURL), c.From, c.Attempts, c.Backoff, c.QueueSize, c.InsecureSkipVerify)
}

// LogValue implements slog.LogValuer.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

func redactedURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "[unparsable]" // the text may hold the password: print none of it
	}
	return u.Redacted()
}

const (
	defaultAttempts  = 4
	defaultBackoff   = 2 * time.Second
	defaultQueueSize = 1000
	maxBackoff       = 5 * time.Minute
	opTimeout        = 30 * time.Second // each SMTP command
	attemptTimeout   = 2 * time.Minute  // one whole try: dial, TLS, AUTH, send
)

// ParseConfig validates an SMTP URL and a sender address. An empty URL is
// valid and means mail is off. Errors never quote the URL: it may hold the
// password, and a malformed one can put the password anywhere.
func ParseConfig(smtpURL, from string) (Config, error) {
	cfg := Config{SMTPURL: strings.TrimSpace(smtpURL), From: strings.TrimSpace(from)}
	if cfg.SMTPURL == "" {
		return cfg, nil
	}
	if _, err := parseServer(cfg.SMTPURL); err != nil {
		return Config{}, err
	}
	if cfg.From == "" {
		return Config{}, errors.New("ATRIUM_MAIL_FROM is required when ATRIUM_SMTP_URL is set")
	}
	if _, err := netmail.ParseAddress(cfg.From); err != nil {
		return Config{}, fmt.Errorf("ATRIUM_MAIL_FROM %q is not an email address", cfg.From)
	}
	return cfg, nil
}

// server is a parsed SMTP URL.
type server struct {
	host        string
	port        int
	implicitTLS bool
	user, pass  string
}

func parseServer(raw string) (server, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return server{}, errors.New("ATRIUM_SMTP_URL is not a valid URL (percent-encode special characters in the user and password)")
	}
	var s server
	switch u.Scheme {
	case "smtp":
		s.port = 587
	case "smtps":
		s.port, s.implicitTLS = 465, true
	default:
		return server{}, errors.New("ATRIUM_SMTP_URL must start with smtp:// or smtps://")
	}
	if u.Opaque != "" {
		return server{}, errors.New("ATRIUM_SMTP_URL must start with smtp:// or smtps://")
	}
	if s.host = u.Hostname(); s.host == "" {
		return server{}, errors.New("ATRIUM_SMTP_URL has no host")
	}
	// A path usually means a '/' in an unencoded password cut the URL short.
	if strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" {
		return server{}, errors.New("ATRIUM_SMTP_URL must be only scheme, user, password, host and port (percent-encode special characters in the password)")
	}
	if p := u.Port(); p != "" {
		if s.port, err = strconv.Atoi(p); err != nil || s.port < 1 || s.port > 65535 {
			return server{}, errors.New("ATRIUM_SMTP_URL has an invalid port")
		}
	}
	if u.User != nil {
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
		if s.user == "" || s.pass == "" {
			return server{}, errors.New("ATRIUM_SMTP_URL must give both a user and a password, or neither")
		}
	}
	return s, nil
}

// Outbox sends mail in the background. Its methods are safe for concurrent
// use, and on a nil *Outbox (which behaves as mail off, silently).
type Outbox struct {
	log *slog.Logger
	cfg Config
	srv server

	mu     sync.RWMutex // guards closed against sends on the closed queue
	closed bool
	queue  chan letter // nil when mail is off

	ctx    context.Context // cancelled when Close gives up waiting
	cancel context.CancelFunc
	done   chan struct{} // closed when the worker has stopped
}

// NewOutbox returns an outbox; when mail is on it starts one worker. An
// invalid Config (one not from ParseConfig) turns mail off with an error log
// rather than stop the service: invitations still work, by link.
func NewOutbox(cfg Config, log *slog.Logger) *Outbox {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	o := &Outbox{log: log}
	parsed, err := ParseConfig(cfg.SMTPURL, cfg.From)
	switch {
	case err != nil:
		log.Error("mail is off: invalid mail configuration", "error", err)
		return o
	case parsed.SMTPURL == "":
		log.Info("mail is off: ATRIUM_SMTP_URL is not set")
		return o
	}
	cfg.SMTPURL, cfg.From = parsed.SMTPURL, parsed.From
	o.srv, _ = parseServer(cfg.SMTPURL)
	if cfg.Attempts <= 0 {
		cfg.Attempts = defaultAttempts
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = defaultBackoff
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = defaultQueueSize
	}
	o.cfg = cfg
	o.queue = make(chan letter, cfg.QueueSize)
	o.ctx, o.cancel = context.WithCancel(context.Background())
	o.done = make(chan struct{})
	tlsMode := "starttls-when-offered"
	if o.srv.implicitTLS {
		tlsMode = "implicit"
	}
	log.Info("mail is on", "smtp_host", o.srv.host, "smtp_port", o.srv.port, "tls", tlsMode,
		"auth", o.srv.user != "", "from", cfg.From)
	go o.work()
	return o
}

// Enabled reports whether mail is on.
func (o *Outbox) Enabled() bool { return o != nil && o.queue != nil }

// SendInvitation enqueues inv and returns at once; it never blocks on the
// mail server or a full queue.
func (o *Outbox) SendInvitation(inv Invitation) { o.send(inv.letter()) }

// SendPasswordReset enqueues r as SendInvitation does.
func (o *Outbox) SendPasswordReset(r PasswordReset) { o.send(r.letter()) }

func (o *Outbox) send(l letter) {
	if o == nil {
		return
	}
	domain := slog.String("to_domain", domainOf(l.to))
	if !o.Enabled() {
		o.log.Info(l.kind+" email not sent: mail is off", domain)
		return
	}
	o.mu.RLock()
	closed, queued := o.closed, false
	if !closed {
		select {
		case o.queue <- l:
			queued = true
			queueDepth.Inc()
		default:
		}
	}
	o.mu.RUnlock()
	switch {
	case closed:
		failuresTotal.WithLabelValues(failClosed).Inc()
		o.log.Error(l.kind+" email dropped: mail outbox is closed", domain)
	case !queued:
		failuresTotal.WithLabelValues(failQueueFull).Inc()
		o.log.Error(l.kind+" email dropped: mail queue is full", domain, "queue_size", cap(o.queue))
	}
}

// Close stops accepting messages and waits for the queue to drain. When ctx
// ends first, it aborts the message in flight, drops (and logs) the rest and
// returns ctx's error once the worker has stopped.
func (o *Outbox) Close(ctx context.Context) error {
	if !o.Enabled() {
		return nil
	}
	o.mu.Lock()
	if !o.closed {
		o.closed = true
		close(o.queue)
	}
	o.mu.Unlock()
	defer o.cancel()
	select {
	case <-o.done:
		return nil
	case <-ctx.Done():
		o.cancel()
		<-o.done
		return ctx.Err()
	}
}

func (o *Outbox) work() {
	defer close(o.done)
	for l := range o.queue {
		queueDepth.Dec()
		if o.ctx.Err() != nil {
			failuresTotal.WithLabelValues(failAborted).Inc()
			o.log.Error(l.kind+" email dropped: mail outbox closed before sending it", "to_domain", domainOf(l.to))
			continue
		}
		o.deliver(l)
	}
}

// deliver tries l up to Attempts times. Only 4xx replies and network
// errors are retried: a 5xx says retrying cannot help.
func (o *Outbox) deliver(l letter) {
	scrub := scrubber(l, o.srv.pass)
	domain := slog.String("to_domain", domainOf(l.to))
	msg, err := o.message(l)
	if err != nil {
		failuresTotal.WithLabelValues(failInvalid).Inc()
		o.log.Error(l.kind+" email not sent: invalid message", domain, "error", scrub(err))
		return
	}
	wait := o.cfg.Backoff
	for attempt := 1; ; attempt++ {
		err := o.attempt(msg)
		if err == nil {
			sentTotal.Inc()
			o.log.Info(l.kind+" email sent", domain, "attempt", attempt)
			return
		}
		if o.ctx.Err() != nil {
			failuresTotal.WithLabelValues(failAborted).Inc()
			o.log.Error(l.kind+" email not sent: mail outbox closed while sending it", domain, "attempts", attempt, "error", scrub(err))
			return
		}
		if attempt >= o.cfg.Attempts || permanent(err) {
			failuresTotal.WithLabelValues(failUndelivered).Inc()
			o.log.Error(l.kind+" email not sent", domain, "attempts", attempt, "error", scrub(err))
			return
		}
		o.log.Warn(l.kind+" email attempt failed; will retry", domain, "attempt", attempt,
			"retry_in", wait, "error", scrub(err))
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-o.ctx.Done():
			t.Stop()
			failuresTotal.WithLabelValues(failAborted).Inc()
			o.log.Error(l.kind+" email not sent: mail outbox closed before a retry", domain, "attempts", attempt)
			return
		}
		wait = min(wait*2, maxBackoff)
	}
}

// attempt makes one connection and sends msg over it.
func (o *Outbox) attempt(msg *gomail.Msg) error {
	ctx, cancel := context.WithTimeout(o.ctx, attemptTimeout)
	defer cancel()
	tlsConfig := &tls.Config{ServerName: o.srv.host, MinVersion: tls.VersionTLS12, InsecureSkipVerify: o.cfg.InsecureSkipVerify}
	// go-mail honours ctx only while dialling and leaves the connection open
	// when the greeting, STARTTLS or AUTH fails: closing it when the attempt
	// ends fixes both, and lets Close abort a send stuck on a slow server.
	dial := func(dctx context.Context, _, _ string) (net.Conn, error) {
		addr := net.JoinHostPort(o.srv.host, strconv.Itoa(o.srv.port)) // go-mail's own breaks IPv6 literals
		d := &net.Dialer{}
		var conn net.Conn
		var err error
		if o.srv.implicitTLS {
			conn, err = (&tls.Dialer{NetDialer: d, Config: tlsConfig}).DialContext(dctx, "tcp", addr)
		} else {
			conn, err = d.DialContext(dctx, "tcp", addr)
		}
		if err == nil {
			context.AfterFunc(ctx, func() { _ = conn.Close() })
		}
		return conn, err
	}
	opts := []gomail.Option{
		gomail.WithPort(o.srv.port),
		gomail.WithTimeout(opTimeout),
		gomail.WithTLSConfig(tlsConfig),
		gomail.WithDialContextFunc(dial),
	}
	if o.srv.implicitTLS {
		opts = append(opts, gomail.WithSSL())
	} else {
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if o.srv.user != "" {
		opts = append(opts, gomail.WithSMTPAuthCustom(&plainOrLogin{user: o.srv.user, pass: o.srv.pass, host: o.srv.host}))
	}
	c, err := gomail.NewClient(o.srv.host, opts...)
	if err != nil {
		return err
	}
	err = c.DialAndSendWithContext(ctx, msg)
	if err != nil && msg.IsDelivered() {
		// The server took the message; a failed RSET or QUIT afterwards
		// must not make us send it twice.
		return nil
	}
	return err
}

// plainOrLogin is SMTP AUTH with PLAIN, else LOGIN, whichever the server
// offers. go-mail's auto-discovery will not pick either on a connection it
// did not encrypt itself, which includes our own smtps dialling. Like
// go-mail's, both refuse to send the password unencrypted (except to
// localhost), so a stripped STARTTLS offer cannot leak it.
type plainOrLogin struct {
	user, pass, host string
	smtp.Auth
}

func (a *plainOrLogin) Start(s *smtp.ServerInfo) (string, []byte, error) {
	switch {
	case slices.Contains(s.Auth, "PLAIN"):
		a.Auth = smtp.PlainAuth("", a.user, a.pass, a.host, false)
	case slices.Contains(s.Auth, "LOGIN"):
		a.Auth = smtp.LoginAuth(a.user, a.pass, a.host, false)
	default:
		return "", nil, errors.New("SMTP server offers neither AUTH PLAIN nor AUTH LOGIN")
	}
	return a.Auth.Start(s)
}

// permanent reports an SMTP 5xx reply.
func permanent(err error) bool {
	var se *gomail.SendError
	if errors.As(err, &se) {
		return se.ErrorCode() >= 500
	}
	var te *textproto.Error
	return errors.As(err, &te) && te.Code >= 500
}

// scrubber returns err's text without the link, its ticket, the recipient
// or the SMTP password: servers and go-mail may quote any of them.
func scrubber(l letter, pass string) func(error) string {
	var pairs []string
	add := func(secret, with string, minLen int) {
		if len(secret) >= minLen {
			pairs = append(pairs, secret, with)
		}
	}
	add(l.url, "["+l.kind+" link]", 1) // first: NewReplacer prefers earlier pairs
	if u, err := url.Parse(l.url); err == nil {
		// The ticket, alone or decoded; short parts are no secret and
		// replacing them would garble the message.
		add(u.RawQuery, "[redacted]", 8)
		add(u.Fragment, "[redacted]", 8)
		for _, vs := range u.Query() {
			for _, v := range vs {
				add(v, "[redacted]", 8)
			}
		}
	}
	add(l.to, "[recipient]@"+domainOf(l.to), 1)
	add(pass, "[password]", 1)
	r := strings.NewReplacer(pairs...)
	return func(err error) string { return r.Replace(err.Error()) }
}

// domainOf is the part of an address safe to log.
func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return strings.ToLower(strings.Trim(addr[i+1:], " >"))
	}
	return "(invalid)"
}

var htmlBody = template.Must(template.New("email").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body>
<p>{{.Intro}}. Open this link to {{.Action}}:</p>
<p><a href="{{.URL}}">{{.URL}}</a></p>
{{with .Closing}}<p>{{.}}</p>
{{end}}</body></html>
`))

// message builds the email: plain text with an HTML alternative, the link
// and nothing more (no images, tracking or external assets).
func (o *Outbox) message(e email) (*gomail.Msg, error) {
	l := e.letter()
	if u, err := url.Parse(l.url); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("the " + l.kind + " link is not an http(s) URL")
	}
	name := oneLine(l.forName)
	if name == "" {
		name = oneLine(l.orProj)
	}
	subject, intro := l.subject, l.intro
	if name != "" {
		subject, intro = subject+" "+l.prep+" "+name, intro+" "+l.prep+" "+name
	}
	var html strings.Builder
	data := struct{ Subject, Intro, Action, URL, Closing string }{subject, intro, l.action, l.url, l.closing}
	if err := htmlBody.Execute(&html, data); err != nil {
		return nil, err
	}
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := m.From(o.cfg.From); err != nil {
		return nil, err
	}
	if err := m.To(l.to); err != nil {
		return nil, err
	}
	m.Subject(subject)
	text := fmt.Sprintf("%s. Open this link to %s:\n\n%s\n", intro, l.action, l.url)
	if l.closing != "" {
		text += "\n" + l.closing + "\n"
	}
	m.SetBodyString(gomail.TypeTextPlain, text)
	m.AddAlternativeString(gomail.TypeTextHTML, html.String())
	return m, nil
}

// oneLine drops control characters, so a name cannot break the Subject
// header or the text layout.
func oneLine(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s))
}
