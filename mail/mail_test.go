package mail

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"html"
	"io"
	"log"
	"log/slog"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	netmail "net/mail"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"atrium/testenv"
)

// Secrets that no log line may contain, in any test.
const (
	ticket    = "tkt_S3cr3t-0123456789abcdefXYZ"
	inviteURL = "https://atrium.example/invitation?ticket=" + ticket
	smtpPass  = "s3cr/et pa$$"
	recipient = "alice@example.org"
)

// guard bounds every wait so a bug fails the test instead of hanging it;
// no assertion depends on it.
const guard = 10 * time.Second

func invitation() Invitation {
	return Invitation{To: recipient, URL: inviteURL, ProjectName: "Proj", ApplicationName: "Acme"}
}

// logBuffer collects slog output written from the worker goroutine.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newLog returns a logger whose output is checked for secrets when the test
// ends (after the outbox is closed: cleanups run last-registered first).
func newLog(t *testing.T) (*slog.Logger, *logBuffer) {
	t.Helper()
	b := &logBuffer{}
	t.Cleanup(func() {
		logs := b.String()
		if testing.Verbose() {
			t.Log("logs:\n" + logs)
		}
		for _, secret := range []string{ticket, url.QueryEscape(ticket), smtpPass, url.QueryEscape(smtpPass), recipient} {
			if strings.Contains(logs, secret) {
				t.Errorf("a log line contains the secret %q:\n%s", secret, logs)
			}
		}
	})
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

func wantLog(t *testing.T, b *logBuffer, parts ...string) {
	t.Helper()
	logs := b.String()
	for _, p := range parts {
		if !strings.Contains(logs, p) {
			t.Errorf("logs lack %q:\n%s", p, logs)
		}
	}
}

// newOutbox starts an outbox and closes it when the test ends.
func newOutbox(t *testing.T, cfg Config, log *slog.Logger) *Outbox {
	t.Helper()
	o := NewOutbox(cfg, log)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), guard)
		defer cancel()
		if err := o.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return o
}

func closeOutbox(t *testing.T, o *Outbox) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	if err := o.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// sendQuickly fails the test, rather than hang it, if SendInvitation blocks.
func sendQuickly(t *testing.T, o *Outbox, inv Invitation) {
	t.Helper()
	returned := make(chan struct{})
	go func() {
		o.SendInvitation(inv)
		close(returned)
	}()
	recv(t, returned, "SendInvitation to return")
}

func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(guard):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// --- an in-process SMTP server ---

type delivery struct {
	from string
	to   []string
	data []byte
	tls  bool
	user string
}

type serverOpts struct {
	addr        string // default 127.0.0.1:0
	startTLS    bool   // offer STARTTLS
	implicitTLS bool   // smtps
	insecure    bool   // allow AUTH without TLS
	mechs       []string
	user, pass  string                // require AUTH when set
	rcpt        func(to string) error // may reject RCPT
	data        func(call int) error  // may reject or stall DATA; call counts from 1
}

type testServer struct {
	opts serverOpts
	port int
	got  chan delivery

	mu                   sync.Mutex
	dataCalls, authCalls int
}

func (s *testServer) counts() (data, auth int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dataCalls, s.authCalls
}

func (s *testServer) url(scheme, userinfo string) string {
	if userinfo != "" {
		userinfo += "@"
	}
	return fmt.Sprintf("%s://%s%s", scheme, userinfo, net.JoinHostPort(s.host(), fmt.Sprint(s.port)))
}

func (s *testServer) host() string {
	h, _, _ := net.SplitHostPort(s.opts.addr)
	return h
}

func startServer(t *testing.T, opts serverOpts) *testServer {
	t.Helper()
	if opts.addr == "" {
		opts.addr = "127.0.0.1:0"
	}
	ts := &testServer{opts: opts, got: make(chan delivery, 64)}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{srv: ts, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = opts.insecure
	srv.ErrorLog = log.New(io.Discard, "", 0)
	if opts.startTLS || opts.implicitTLS {
		srv.TLSConfig = selfSigned(t)
	}
	l, err := net.Listen("tcp", opts.addr)
	if err != nil {
		testenv.Missing(t, testenv.Network, fmt.Sprintf("cannot listen on %s: %v", opts.addr, err))
	}
	ts.port = l.Addr().(*net.TCPAddr).Port
	if opts.implicitTLS {
		l = tls.NewListener(l, srv.TLSConfig)
		srv.TLSConfig = nil // no STARTTLS on top
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ts
}

func selfSigned(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv4(127, 0, 0, 2)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

type session struct {
	srv  *testServer
	conn *smtp.Conn
	user string
	from string
	to   []string
}

func (s *session) AuthMechanisms() []string { return s.srv.opts.mechs }

func (s *session) Auth(mech string) (sasl.Server, error) {
	s.srv.mu.Lock()
	s.srv.authCalls++
	s.srv.mu.Unlock()
	check := func(user, pass string) error {
		if user != s.srv.opts.user || pass != s.srv.opts.pass {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		s.user = user
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, user, pass string) error { return check(user, pass) }), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.srv.opts.user != "" && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.srv.opts.rcpt != nil {
		if err := s.srv.opts.rcpt(to); err != nil {
			return err
		}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.srv.mu.Lock()
	s.srv.dataCalls++
	call := s.srv.dataCalls
	s.srv.mu.Unlock()
	if s.srv.opts.data != nil {
		if err := s.srv.opts.data(call); err != nil {
			return err
		}
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.srv.got <- delivery{from: s.from, to: s.to, data: data, tls: isTLS, user: s.user}
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

// loginServer is the server side of AUTH LOGIN, which go-sasl lacks.
type loginServer struct {
	check func(user, pass string) error
	step  int
	user  string
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	l.step++
	switch l.step {
	case 1:
		return []byte("Username:"), false, nil
	case 2:
		l.user = string(resp)
		return []byte("Password:"), false, nil
	default:
		return nil, true, l.check(l.user, string(resp))
	}
}

var errTempFail = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}

// --- tests ---

// parsed is a received message, MIME-decoded.
type parsed struct {
	subject, text, html string
	header              netmail.Header
}

func parse(t *testing.T, data []byte) parsed {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("read message: %v", err)
	}
	var p parsed
	p.header = m.Header
	if p.subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject")); err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type = %q (%v), want multipart/alternative", m.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := mr.NextPart() // decodes quoted-printable itself
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(part)
		if err != nil {
			t.Fatal(err)
		}
		pt, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		switch pt {
		case "text/plain":
			p.text = strings.ReplaceAll(string(body), "\r\n", "\n")
		case "text/html":
			p.html = string(body)
		default:
			t.Errorf("unexpected part %q", pt)
		}
	}
	return p
}

func TestDeliversTextAndHTML(t *testing.T) {
	log, logs := newLog(t)
	srv := startServer(t, serverOpts{})
	o := newOutbox(t, Config{SMTPURL: srv.url("smtp", ""), From: "Atrium <noreply@atrium.example>"}, log)
	if !o.Enabled() {
		t.Fatal("mail should be on")
	}
	inv := invitation()
	inv.URL += "&lang=en" // an '&' that HTML must escape
	inv.ApplicationName = "Acme <Labs> & Co"
	o.SendInvitation(inv)

	d := recv(t, srv.got, "the delivery")
	if d.from != "noreply@atrium.example" || len(d.to) != 1 || d.to[0] != recipient {
		t.Errorf("envelope from %q to %q", d.from, d.to)
	}
	m := parse(t, d.data)
	if m.subject != "You are invited to Acme <Labs> & Co" {
		t.Errorf("Subject = %q", m.subject)
	}
	if got := m.header.Get("To"); !strings.Contains(got, recipient) {
		t.Errorf("To = %q", got)
	}
	if !strings.Contains(m.text, "\n"+inv.URL+"\n") {
		t.Errorf("text part lacks the link on its own line:\n%s", m.text)
	}
	if !strings.Contains(html.UnescapeString(m.html), `href="`+inv.URL+`"`) {
		t.Errorf("HTML part lacks the link:\n%s", m.html)
	}
	if !strings.Contains(m.html, "Acme &lt;Labs&gt; &amp; Co") || strings.Contains(m.html, "<Labs>") {
		t.Errorf("HTML part does not escape the name:\n%s", m.html)
	}
	if n := strings.Count(m.html, "<a "); n != 1 || strings.Contains(m.html, "<img") || strings.Contains(m.html, "src=") {
		t.Errorf("HTML part should hold one link and no assets:\n%s", m.html)
	}
	closeOutbox(t, o)
	wantLog(t, logs, "mail is on", "invitation email sent", "to_domain=example.org")
}

func TestSubjectFallsBackToProject(t *testing.T) {
	o := &Outbox{cfg: Config{From: "noreply@atrium.example"}}
	m, err := o.message(Invitation{To: recipient, URL: inviteURL, ProjectName: "Proj\r\nBcc: evil@x"})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := m.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	p := parse(t, b.Bytes())
	if p.subject != "You are invited to ProjBcc: evil@x" || p.header.Get("Bcc") != "" {
		t.Errorf("Subject = %q, Bcc = %q", p.subject, p.header.Get("Bcc"))
	}
	if _, err := o.message(Invitation{To: recipient, URL: "javascript:alert(1)"}); err == nil {
		t.Error("a non-http link was accepted")
	}
}

func TestSTARTTLSAndAuth(t *testing.T) {
	for _, mech := range []string{sasl.Plain, sasl.Login} {
		t.Run(mech, func(t *testing.T) {
			log, logs := newLog(t)
			// Without insecure, the server offers AUTH only after STARTTLS,
			// so a delivery proves both.
			srv := startServer(t, serverOpts{startTLS: true, mechs: []string{mech}, user: "atrium", pass: smtpPass})
			o := newOutbox(t, Config{
				SMTPURL:            srv.url("smtp", url.UserPassword("atrium", smtpPass).String()),
				From:               "noreply@atrium.example",
				InsecureSkipVerify: true,
			}, log)
			o.SendInvitation(invitation())
			d := recv(t, srv.got, "the delivery")
			if !d.tls || d.user != "atrium" {
				t.Errorf("tls=%v user=%q, want STARTTLS and AUTH", d.tls, d.user)
			}
			closeOutbox(t, o)
			wantLog(t, logs, "auth=true", "tls=starttls-when-offered")
		})
	}
}

func TestImplicitTLS(t *testing.T) {
	log, _ := newLog(t)
	srv := startServer(t, serverOpts{implicitTLS: true, mechs: []string{sasl.Plain}, user: "atrium", pass: smtpPass})
	o := newOutbox(t, Config{
		SMTPURL:            srv.url("smtps", url.UserPassword("atrium", smtpPass).String()),
		From:               "noreply@atrium.example",
		InsecureSkipVerify: true,
	}, log)
	o.SendInvitation(invitation())
	if d := recv(t, srv.got, "the delivery"); !d.tls || d.user != "atrium" {
		t.Errorf("tls=%v user=%q", d.tls, d.user)
	}
}

func TestUntrustedCertificateFails(t *testing.T) {
	log, logs := newLog(t)
	srv := startServer(t, serverOpts{startTLS: true})
	o := newOutbox(t, Config{SMTPURL: srv.url("smtp", ""), From: "noreply@atrium.example", Attempts: 2, Backoff: time.Millisecond}, log)
	o.SendInvitation(invitation())
	closeOutbox(t, o)
	if data, _ := srv.counts(); data != 0 {
		t.Errorf("sent over a connection with an unverified certificate")
	}
	wantLog(t, logs, "invitation email not sent", "certificate")
}

// Over a plaintext connection to a non-local host the password is never
// sent, even when the server offers AUTH PLAIN (say, because an attacker
// stripped STARTTLS).
func TestNoPasswordOverPlaintext(t *testing.T) {
	log, logs := newLog(t)
	srv := startServer(t, serverOpts{addr: "127.0.0.2:0", insecure: true, mechs: []string{sasl.Plain}, user: "atrium", pass: smtpPass})
	o := newOutbox(t, Config{
		SMTPURL:  srv.url("smtp", url.UserPassword("atrium", smtpPass).String()),
		From:     "noreply@atrium.example",
		Attempts: 2, Backoff: time.Millisecond,
	}, log)
	o.SendInvitation(invitation())
	closeOutbox(t, o)
	if _, auth := srv.counts(); auth != 0 {
		t.Errorf("client sent AUTH %d times over plaintext", auth)
	}
	wantLog(t, logs, "invitation email not sent", "unencrypted connection")
}

func TestRetriesTransientFailure(t *testing.T) {
	log, logs := newLog(t)
	srv := startServer(t, serverOpts{data: func(call int) error {
		if call == 1 {
			return errTempFail
		}
		return nil
	}})
	o := newOutbox(t, Config{SMTPURL: srv.url("smtp", ""), From: "noreply@atrium.example", Backoff: 10 * time.Millisecond}, log)
	o.SendInvitation(invitation())
	closeOutbox(t, o) // waits for the retry
	if data, _ := srv.counts(); data != 2 || len(srv.got) != 1 {
		t.Errorf("DATA calls = %d, delivered = %d; want 2 and 1", data, len(srv.got))
	}
	wantLog(t, logs, "level=WARN", "will retry", "451", "invitation email sent", "attempt=2")
}

func TestGivesUpAfterAttempts(t *testing.T) {
	log, logs := newLog(t)
	srv := startServer(t, serverOpts{data: func(int) error { return errTempFail }})
	o := newOutbox(t, Config{SMTPURL: srv.url("smtp", ""), From: "noreply@atrium.example", Attempts: 3, Backoff: time.Millisecond}, log)
	o.SendInvitation(invitation())
	closeOutbox(t, o)
	if data, _ := srv.counts(); data != 3 || len(srv.got) != 0 {
		t.Errorf("DATA calls = %d, delivered = %d; want 3 and 0", data, len(srv.got))
	}
	wantLog(t, logs, `level=ERROR msg="invitation email not sent"`, "attempts=3", "to_domain=example.org")
}

// A 5xx is final: no retry. The server's reply quotes the recipient and
// the link, which the log line must not.
func TestPermanentFailureIsNotRetriedAndIsScrubbed(t *testing.T) {
	log, logs := newLog(t)
	var calls atomic.Int32
	srv := startServer(t, serverOpts{rcpt: func(to string) error {
		calls.Add(1)
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no mailbox " + to + " for " + inviteURL}
	}})
	o := newOutbox(t, Config{SMTPURL: srv.url("smtp", ""), From: "noreply@atrium.example", Attempts: 4, Backoff: time.Millisecond}, log)
	o.SendInvitation(invitation())
	closeOutbox(t, o)
	if n := calls.Load(); n != 1 {
		t.Errorf("RCPT calls = %d, want 1", n)
	}
	wantLog(t, logs, "invitation email not sent", "550", "[recipient]@example.org", "[invitation link]")
}

// SendInvitation returns while the server is still stuck in DATA: it never
// waits for the mail server. Both sends run under sendQuickly, so a send
// that blocked would fail the test instead of hanging it; the second one is
// made while the server is provably holding the first message.
func TestSendDoesNotWaitForServer(t *testing.T) {
	log, _ := newLog(t)
	entered, release := make(chan struct{}), make(chan struct{})
	var finished atomic.Bool
	srv := startServer(t, serverOpts{data: func(call int) error {
		if call == 1 {
			close(entered)
			<-release
			finished.Store(true)
		}
		return nil
	}})
	o := newOutbox(t, Config{SMTPURL: srv.url("smtp", ""), From: "noreply@atrium.example"}, log)
	defer close(release)

	sendQuickly(t, o, invitation())
	recv(t, entered, "the server to receive DATA")
	sendQuickly(t, o, invitation())
	if finished.Load() {
		t.Fatal("the server finished the first message before it was released")
	}
}

func TestQueueFullDropsWithoutBlocking(t *testing.T) {
	log, logs := newLog(t)
	entered, release := make(chan struct{}), make(chan struct{})
	srv := startServer(t, serverOpts{data: func(call int) error {
		if call == 1 {
			close(entered)
			<-release
		}
		return nil
	}})
	o := newOutbox(t, Config{SMTPURL: srv.url("smtp", ""), From: "noreply@atrium.example", QueueSize: 1}, log)
	o.SendInvitation(invitation()) // taken by the worker, which then stalls
	recv(t, entered, "the server to receive DATA")
	sendQuickly(t, o, invitation()) // fills the queue
	sendQuickly(t, o, invitation()) // dropped
	wantLog(t, logs, `level=ERROR msg="invitation email dropped: mail queue is full"`, "queue_size=1")
	close(release)
	closeOutbox(t, o)
	if n := len(srv.got); n != 2 {
		t.Errorf("delivered %d, want 2", n)
	}
}

func TestCloseDrainsQueue(t *testing.T) {
	log, logs := newLog(t)
	srv := startServer(t, serverOpts{})
	o := newOutbox(t, Config{SMTPURL: srv.url("smtp", ""), From: "noreply@atrium.example"}, log)
	for range 5 {
		o.SendInvitation(invitation())
	}
	closeOutbox(t, o)
	if n := len(srv.got); n != 5 {
		t.Errorf("delivered %d before Close returned, want 5", n)
	}
	o.SendInvitation(invitation())
	wantLog(t, logs, "invitation email dropped: mail outbox is closed")
	if err := o.Close(context.Background()); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestCloseStopsAtDeadline(t *testing.T) {
	log, logs := newLog(t)
	entered, release := make(chan struct{}), make(chan struct{})
	srv := startServer(t, serverOpts{data: func(call int) error {
		if call == 1 {
			close(entered)
			<-release
		}
		return nil
	}})
	defer close(release)
	o := newOutbox(t, Config{SMTPURL: srv.url("smtp", ""), From: "noreply@atrium.example"}, log)
	o.SendInvitation(invitation())
	recv(t, entered, "the server to receive DATA")
	o.SendInvitation(invitation())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := o.Close(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Close = %v, want context.Canceled", err)
	}
	// Close returned with the server still stalled: the send in flight was
	// aborted, and the queued one dropped.
	wantLog(t, logs, "invitation email not sent: mail outbox closed while sending it",
		"invitation email dropped: mail outbox closed before sending it")
}

func TestMailOff(t *testing.T) {
	log, logs := newLog(t)
	o := newOutbox(t, Config{SMTPURL: " ", From: "noreply@atrium.example"}, log)
	if o.Enabled() {
		t.Fatal("mail should be off")
	}
	o.SendInvitation(invitation())
	wantLog(t, logs, `level=INFO msg="mail is off: ATRIUM_SMTP_URL is not set"`,
		`level=INFO msg="invitation email not sent: mail is off" to_domain=example.org`)

	var nilOutbox *Outbox
	nilOutbox.SendInvitation(invitation())
	if nilOutbox.Enabled() || nilOutbox.Close(context.Background()) != nil {
		t.Error("a nil Outbox should be off")
	}
}

func TestInvalidConfigTurnsMailOff(t *testing.T) {
	log, logs := newLog(t)
	o := newOutbox(t, Config{SMTPURL: "smtp://atrium:" + url.QueryEscape(smtpPass) + "@mail.example", From: "nope"}, log)
	if o.Enabled() {
		t.Fatal("mail should be off")
	}
	wantLog(t, logs, "mail is off: invalid mail configuration", "ATRIUM_MAIL_FROM")
}

func TestParseConfig(t *testing.T) {
	const from = "noreply@atrium.example"
	ok := []struct{ url, from string }{
		{"", ""},
		{"smtp://mail.example", from},
		{"smtp://u:p%2Fw@mail.example:2525", from},
		{"SMTPS://mail.example/", "Atrium <noreply@atrium.example>"},
		{"smtp://[::1]:25", from},
	}
	for _, c := range ok {
		cfg, err := ParseConfig(c.url, c.from)
		if err != nil {
			t.Errorf("ParseConfig(%q, %q): %v", c.url, c.from, err)
		} else if cfg.SMTPURL != c.url {
			t.Errorf("ParseConfig(%q).SMTPURL = %q", c.url, cfg.SMTPURL)
		}
	}

	bad := []struct{ url, from, want string }{
		{"http://u:hunter2@mail.example", from, "smtp:// or smtps://"},
		{"u:hunter2@mail.example:587", from, "smtp:// or smtps://"},
		{"smtp://u:hunter2@:587", from, "no host"},
		{"smtp://u:hunter2@mail.example", "", "ATRIUM_MAIL_FROM is required"},
		{"smtp://u:hunter2@mail.example", "noreply at example", "not an email address"},
		{"smtp://u:hunter2@mail.example:99999", from, "invalid port"},
		{"smtp://u:hunter2/x@mail.example", from, "not a valid URL"},     // unencoded '/': "hunter2" lands in the port
		{"smtp://u:4242/hunter2@mail.example", from, "only scheme"},      // unencoded '/': a digit password parses as a port
		{"smtp://u:hunter2@mail.example?x=hunter2", from, "only scheme"}, // unencoded '?'
		{"smtp://hunter2@mail.example", from, "both a user and a password"},
		{"smtp://:hunter2@mail.example", from, "both a user and a password"},
	}
	for _, c := range bad {
		_, err := ParseConfig(c.url, c.from)
		if err == nil {
			t.Errorf("ParseConfig(%q, %q) succeeded", c.url, c.from)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseConfig(%q, %q) = %q, want it to mention %q", c.url, c.from, err, c.want)
		}
		if strings.Contains(c.url, "hunter2") && (strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "4242")) {
			t.Errorf("ParseConfig(%q) leaks the password: %q", c.url, err)
		}
	}

	cfg := Config{SMTPURL: "smtp://u:hunter2@mail.example"}
	if s := fmt.Sprint(cfg) + fmt.Sprintf("%+v", cfg); strings.Contains(s, "hunter2") {
		t.Errorf("printing a Config leaks the password: %s", s)
	}
}
