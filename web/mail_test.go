package web_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	netmail "net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"atrium/atriumtest"
	"atrium/client"
	"atrium/mail"
	"atrium/testenv"
)

// mailGuard bounds every wait for an email so a bug fails the test instead
// of hanging it; no assertion depends on it.
const mailGuard = 30 * time.Second

// received is one message an in-process SMTP server accepted.
type received struct {
	from string
	to   []string
	data []byte
}

// smtpServer is a real SMTP server on 127.0.0.1 that records what it gets.
type smtpServer struct {
	port int
	got  chan received
	// data, when set, runs in DATA before the message is accepted: it may
	// refuse the message or hold it.
	data func() error
}

func startSMTP(t testing.TB, data func() error) *smtpServer {
	t.Helper()
	ts := &smtpServer{got: make(chan received, 16), data: data}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &smtpSession{srv: ts}, nil }))
	srv.Domain = "localhost"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		testenv.Missing(t, testenv.Network, fmt.Sprintf("cannot listen on 127.0.0.1: %v", err))
	}
	ts.port = l.Addr().(*net.TCPAddr).Port
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ts
}

type smtpSession struct {
	srv  *smtpServer
	from string
	to   []string
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error { s.from = from; return nil }
func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.srv.data != nil {
		if err := s.srv.data(); err != nil {
			return err
		}
	}
	s.srv.got <- received{from: s.from, to: s.to, data: b}
	return nil
}
func (s *smtpSession) Reset()        { s.from, s.to = "", nil }
func (s *smtpSession) Logout() error { return nil }

// next waits for the next email.
func (ts *smtpServer) next(t testing.TB) received {
	t.Helper()
	select {
	case m := <-ts.got:
		return m
	case <-time.After(mailGuard):
		t.Fatal("no email arrived")
		panic("unreachable")
	}
}

// newOutbox returns a real outbox sending to ts, closed (drained) when the
// test ends, and its log.
func newOutbox(t testing.TB, ts *smtpServer, attempts int) (*mail.Outbox, *atriumtest.LogBuffer) {
	t.Helper()
	logs := &atriumtest.LogBuffer{}
	cfg := mail.Config{
		SMTPURL:  fmt.Sprintf("smtp://127.0.0.1:%d", ts.port),
		From:     "atrium@example.com",
		Attempts: attempts,
		Backoff:  10 * time.Millisecond,
	}
	o := mail.NewOutbox(cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if !o.Enabled() {
		t.Fatalf("mail is off:\n%s", logs.String())
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), mailGuard)
		defer cancel()
		if err := o.Close(ctx); err != nil {
			t.Errorf("closing the outbox: %v", err)
		}
	})
	return o, logs
}

// email is a parsed invitation email.
type email struct {
	header     netmail.Header
	subject    string
	text, html string
}

func parseEmail(t testing.TB, raw []byte) email {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("read message: %v\n%s", err, raw)
	}
	e := email{header: m.Header}
	if e.subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject")); err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q (%v), want multipart/alternative", m.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := mr.NextPart() // undoes quoted-printable
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
		switch pt, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type")); pt {
		case "text/plain":
			e.text = string(body)
		case "text/html":
			e.html = string(body)
		default:
			t.Fatalf("unexpected part %q", pt)
		}
	}
	return e
}

var linkRE = regexp.MustCompile(`https?://[^\s"<>]+`)

// onlyLink returns the one link of a text, failing unless there is exactly one.
func onlyLink(t testing.TB, text string) string {
	t.Helper()
	links := linkRE.FindAllString(text, -1)
	for i := 1; i < len(links); i++ {
		if links[i] != links[0] {
			t.Fatalf("more than one link: %q", links)
		}
	}
	if len(links) == 0 {
		t.Fatalf("no link in %q", text)
	}
	return links[0]
}

func TestMailInvitationLinkWorks(t *testing.T) {
	t.Parallel()
	ts := startSMTP(t, nil)
	outbox, mailLog := newOutbox(t, ts, 0)
	f := newFixture(t, true, atriumtest.WithMailer(outbox))
	const to = "Mailed.User@Example.com"
	inv := f.invite(t, f.app, to)

	m := ts.next(t)
	if m.from != "atrium@example.com" || len(m.to) != 1 || m.to[0] != "mailed.user@example.com" {
		t.Fatalf("envelope from %q to %q", m.from, m.to)
	}
	e := parseEmail(t, m.data)
	if got := e.header.Get("To"); !strings.Contains(got, "mailed.user@example.com") {
		t.Fatalf("To: %q", got)
	}
	if got := e.header.Get("From"); !strings.Contains(got, "atrium@example.com") {
		t.Fatalf("From: %q", got)
	}
	if !strings.Contains(e.subject, appName) {
		t.Fatalf("Subject %q does not name the application", e.subject)
	}
	link := onlyLink(t, e.text)
	if link != inv.URL {
		t.Fatalf("the email's link %q is not the invitationUrl %q", link, inv.URL)
	}
	if htmlLink := onlyLink(t, e.html); htmlLink != link {
		t.Fatalf("the HTML part links to %q, the text part to %q", htmlLink, link)
	}
	if strings.Contains(e.html, "<img") || strings.Contains(e.html, "<script") {
		t.Fatalf("the HTML part has more than the link:\n%s", e.html)
	}

	// The link works: the page opens, and its ticket sets the password.
	p := get(t, f.s, local(t, f.s, link))
	if p.status != 200 {
		t.Fatalf("GET the emailed link: %d", p.status)
	}
	p.want(t, "mailed.user@example.com", appName)
	tk := atriumtest.Ticket(t, link)
	var out struct {
		AcceptInvitation struct{ User struct{ ID, Status string } }
	}
	f.s.Client("", "").MustDo(t, acceptMut, map[string]any{"t": tk, "p": "from-the-email-1"}, &out)
	if out.AcceptInvitation.User.ID != inv.UserID || out.AcceptInvitation.User.Status != "ACTIVE" {
		t.Fatalf("accept: %+v", out)
	}

	for name, logs := range map[string]string{"mail": mailLog.String(), "server": f.s.Log.String()} {
		if strings.Contains(logs, tk) {
			t.Fatalf("the %s log holds the ticket:\n%s", name, logs)
		}
	}
	if !strings.Contains(mailLog.String(), "invitation email sent") {
		t.Fatalf("the mail log does not record the delivery:\n%s", mailLog.String())
	}
}

// TestMailSendingFollowsApplicationAndCall checks shouldSendInviteEmail of
// the application and of the call. The outbox has one worker that sends in
// order, so when the email of a later invitation arrives first, an earlier
// invitation sent none.
func TestMailSendingFollowsApplicationAndCall(t *testing.T) {
	t.Parallel()
	ts := startSMTP(t, nil)
	outbox, _ := newOutbox(t, ts, 0)
	f := newFixture(t, true, atriumtest.WithMailer(outbox)) // f.app sends
	quiet := f.createApp(t, "Quiet App", "", false)

	// Application off, call on: sent.
	f.invite(t, quiet, "call-on@example.com", func(in *client.InviteUserInput) { in.ShouldSendInviteEmail = ptr(true) })
	if m := ts.next(t); m.to[0] != "call-on@example.com" {
		t.Fatalf("email to %q, want call-on@example.com", m.to)
	}

	// Application on, call off; application off, call absent: not sent.
	// Then one that is sent, which must be the next email to arrive.
	f.invite(t, f.app, "call-off@example.com", func(in *client.InviteUserInput) { in.ShouldSendInviteEmail = ptr(false) })
	f.invite(t, quiet, "app-off@example.com")
	f.invite(t, f.app, "app-on@example.com")
	if m := ts.next(t); m.to[0] != "app-on@example.com" {
		t.Fatalf("email to %q, want app-on@example.com only", m.to)
	}

	// A resend emails a fresh link when the application sends, and the
	// emailed link of the first invitation stops working.
	first := f.invite(t, f.app, "resent@example.com")
	if m := ts.next(t); onlyLink(t, parseEmail(t, m.data).text) != first.URL {
		t.Fatal("the first email does not carry the first link")
	}
	var out struct {
		ResendInvitation struct{ InvitationURL string }
	}
	f.op.MustDo(t, `mutation($id: ID!) { resendInvitation(input: {userId: $id}) { invitationUrl } }`, map[string]any{"id": first.UserID}, &out)
	m := ts.next(t)
	link := onlyLink(t, parseEmail(t, m.data).text)
	if m.to[0] != "resent@example.com" || link != out.ResendInvitation.InvitationURL || link == first.URL {
		t.Fatalf("resent email to %q links %q; want the new link %q", m.to, link, out.ResendInvitation.InvitationURL)
	}
	f.s.Client("", "").Fails(t, "NOT_FOUND", "", acceptMut, map[string]any{"t": first.Ticket, "p": "old-link-pass"})
	f.s.Accept(t, atriumtest.Ticket(t, link), "new-link-pass")

	// A phone-only user gets no email, and the server is not asked.
	f.invite(t, f.app, "", func(in *client.InviteUserInput) { in.Email, in.PhoneNumber = nil, ptr("+15555550123") })
	f.invite(t, f.app, "last@example.com")
	if m := ts.next(t); m.to[0] != "last@example.com" {
		t.Fatalf("email to %q, want last@example.com", m.to)
	}
}

// TestMailDoesNotHoldTheInvite: the mail server holds the message in DATA
// until the invite has returned. Were the invite to wait for the mail
// server, the message would time out (one attempt only) and never arrive.
func TestMailDoesNotHoldTheInvite(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	ts := startSMTP(t, func() error { <-release; return nil })
	outbox, _ := newOutbox(t, ts, 1)
	f := newFixture(t, true, atriumtest.WithMailer(outbox))
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	inv := f.invite(t, f.app, "held@example.com")
	close(release)
	if m := ts.next(t); onlyLink(t, parseEmail(t, m.data).text) != inv.URL {
		t.Fatal("the held email does not carry the link")
	}
}

// TestMailFailureDoesNotFailTheInvite: the mail server refuses the message
// for good; the invitation stands, and the log says so without the link.
func TestMailFailureDoesNotFailTheInvite(t *testing.T) {
	t.Parallel()
	refused := make(chan struct{}, 4)
	ts := startSMTP(t, func() error {
		refused <- struct{}{}
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "not today"}
	})
	outbox, mailLog := newOutbox(t, ts, 3)
	f := newFixture(t, true, atriumtest.WithMailer(outbox))
	inv := f.invite(t, f.app, "refused@example.com")
	select {
	case <-refused:
	case <-time.After(mailGuard):
		t.Fatal("the mail server was never asked")
	}
	// Closing drains the queue: the worker has logged the outcome after it.
	ctx, cancel := context.WithTimeout(context.Background(), mailGuard)
	defer cancel()
	if err := outbox.Close(ctx); err != nil {
		t.Fatal(err)
	}
	logs := mailLog.String()
	if !strings.Contains(logs, "invitation email not sent") || strings.Contains(logs, inv.Ticket) || strings.Contains(logs, "refused@example.com") {
		t.Fatalf("mail log after a refused email:\n%s", logs)
	}
	if len(refused) != 0 {
		t.Fatalf("a permanent (5xx) refusal was retried %d more times", len(refused))
	}
	if s := f.status(t, inv.UserID); s != "INVITED" {
		t.Fatalf("status: %s", s)
	}
	f.s.Accept(t, inv.Ticket, "link-still-works")
}
