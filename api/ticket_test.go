package api_test

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"atrium/atriumtest"
)

// tryAccept accepts an invitation and returns the response (errors included).
func tryAccept(t *testing.T, s *atriumtest.Server, ticket, password string) *atriumtest.Response {
	t.Helper()
	return s.Client("", "").Do(t, acceptMutation, map[string]any{"t": ticket, "p": password})
}

// wantRefused checks that an acceptance was refused with code.
func wantRefused(t *testing.T, r *atriumtest.Response, code string) {
	t.Helper()
	if r.Code() != code {
		t.Fatalf("acceptance: code %q (%s), want %s", r.Code(), r.Raw, code)
	}
}

func TestTicketShape(t *testing.T) {
	t.Parallel()
	v := newIvSetup(t)
	got := inviteView(t, v.op, v.in("shape@example.com", nil))
	u, err := url.Parse(got.InvitationURL)
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "http" || u.Host != "atrium.test" || u.Path != "/invitation" || len(u.Query()) != 1 {
		t.Fatalf("invitationUrl %q: want ATRIUM_PUBLIC_URL + /invitation + ticket only", got.InvitationURL)
	}
	raw, err := base64.RawURLEncoding.DecodeString(atriumtest.Ticket(t, got.InvitationURL))
	if err != nil || len(raw) != 32 {
		t.Fatalf("ticket is not 32 bytes of URL-safe base64: %d bytes, %v", len(raw), err)
	}
	other := inviteView(t, v.op, v.in("shape2@example.com", nil))
	if atriumtest.Ticket(t, other.InvitationURL) == atriumtest.Ticket(t, got.InvitationURL) {
		t.Fatal("two invitations share a ticket")
	}
}

func TestTicketReused(t *testing.T) {
	t.Parallel()
	v := newIvSetup(t)
	inv := invite(t, v.op, v.app, v.role, "reuse@example.com")
	var ok struct {
		AcceptInvitation struct{ User struct{ ID, Status string } }
	}
	v.s.Client("", "").MustDo(t, acceptMutation, map[string]any{"t": inv.Ticket, "p": "first-password"}, &ok)
	if ok.AcceptInvitation.User.ID != inv.UserID || ok.AcceptInvitation.User.Status != "ACTIVE" {
		t.Fatalf("accept: %+v", ok)
	}
	r := v.s.Client("", "").Fails(t, "NOT_FOUND", "", acceptMutation, map[string]any{"t": inv.Ticket, "p": "second-password"})
	wantMessage(t, r, "not valid")
	// The first password stays.
	v.s.SignIn(t, v.app, "reuse@example.com", "first-password")
	v.s.Client("", "").Fails(t, "UNAUTHENTICATED", "", signInMutation, map[string]any{"a": v.app, "e": "reuse@example.com", "p": "second-password"})
	// Unknown and empty tickets fail the same way.
	v.s.Client("", "").Fails(t, "NOT_FOUND", "", acceptMutation, map[string]any{"t": strings.Repeat("A", 43), "p": "some-password"})
	v.s.Client("", "").Fails(t, "NOT_FOUND", "", acceptMutation, map[string]any{"t": "", "p": "some-password"})
}

// An invitation link lives 7 days (the default ATRIUM_INVITE_TTL): a
// second before, it works; a second after, it is refused as expired, and
// the answer says so, which no unknown or used link's answer does. The
// server's clock is moved, not waited for.
func TestTicketExpired(t *testing.T) {
	t.Parallel()
	clock := atriumtest.NewClock(time.Now())
	v := newIvSetup(t, atriumtest.WithClock(clock))
	early := invite(t, v.op, v.app, v.role, "early@example.com")
	late := invite(t, v.op, v.app, v.role, "late@example.com")
	clock.Advance(7*24*time.Hour - time.Second)
	v.s.Client("", "").MustDo(t, acceptMutation, map[string]any{"t": early.Ticket, "p": "in-time-password"}, nil)
	clock.Advance(2 * time.Second)
	r := v.s.Client("", "").Fails(t, "NOT_FOUND", "", acceptMutation, map[string]any{"t": late.Ticket, "p": "too-late-password"})
	wantMessage(t, r, "has expired")
	if u := getUser(t, v.op, late.UserID); u.Status != "INVITED" {
		t.Fatalf("status after an expired ticket: %s", u.Status)
	}
	v.s.Client("", "").Fails(t, "UNAUTHENTICATED", "", signInMutation, map[string]any{"a": v.app, "e": "late@example.com", "p": "too-late-password"})
	// A used and an unknown link are not "expired".
	for name, ticket := range map[string]string{"used": early.Ticket, "unknown": strings.Repeat("A", 43)} {
		r := v.s.Client("", "").Fails(t, "NOT_FOUND", "", acceptMutation, map[string]any{"t": ticket, "p": "some-password"})
		if msg := r.Errors[0].Message; strings.Contains(msg, "expired") {
			t.Errorf("a %s link is answered %q", name, msg)
		}
	}
}

func TestTicketSuperseded(t *testing.T) {
	t.Parallel()
	v := newIvSetup(t)
	inv := invite(t, v.op, v.app, v.role, "again@example.com")
	const resend = `mutation($id: ID!) { resendInvitation(input: {userId: $id}) { user { id status } invitationUrl } }`
	var out struct {
		ResendInvitation struct {
			User          struct{ ID, Status string }
			InvitationURL string
		}
	}
	v.op.MustDo(t, resend, map[string]any{"id": inv.UserID}, &out)
	fresh := out.ResendInvitation
	if fresh.User.ID != inv.UserID || fresh.User.Status != "INVITED" || fresh.InvitationURL == inv.URL || atriumtest.Ticket(t, fresh.InvitationURL) == inv.Ticket {
		t.Fatalf("resend: %+v (old %s)", fresh, inv.URL)
	}
	// A second resend supersedes the first one too.
	var again struct {
		ResendInvitation struct{ InvitationURL string }
	}
	v.op.MustDo(t, resend, map[string]any{"id": inv.UserID}, &again)
	newest := atriumtest.Ticket(t, again.ResendInvitation.InvitationURL)
	for name, old := range map[string]string{"original": inv.Ticket, "first resend": atriumtest.Ticket(t, fresh.InvitationURL)} {
		r := tryAccept(t, v.s, old, "superseded-password")
		if r.Code() != "NOT_FOUND" {
			t.Fatalf("%s ticket after a resend: %+v", name, r.Errors)
		}
	}
	v.s.Client("", "").MustDo(t, acceptMutation, map[string]any{"t": newest, "p": "newest-password"}, nil)
	v.s.SignIn(t, v.app, "again@example.com", "newest-password")

	// The user is ACTIVE now: no more invitations for it.
	r := v.op.Fails(t, "CONFLICT", "", resend, map[string]any{"id": inv.UserID})
	wantMessage(t, r, "already accepted")
	v.op.Fails(t, "NOT_FOUND", "", resend, map[string]any{"id": "00000000-0000-0000-0000-000000000000"})
	t.Run("unknown user names the input field", func(t *testing.T) {
		v.op.Fails(t, "NOT_FOUND", "input.userId", resend, map[string]any{"id": "00000000-0000-0000-0000-000000000000"})
	})
}

func TestTicketResendConfinedToProject(t *testing.T) {
	t.Parallel()
	v := newIvSetup(t)
	inv := invite(t, v.op, v.app, v.role, "mine@example.com")
	other := v.s.Operator(v.s.CreateProject(t, "Other"))
	other.Fails(t, "NOT_FOUND", "", `mutation($id: ID!) { resendInvitation(input: {userId: $id}) { invitationUrl } }`, map[string]any{"id": inv.UserID})
	// The original ticket still works: the refused resend changed nothing.
	v.s.Client("", "").MustDo(t, acceptMutation, map[string]any{"t": inv.Ticket, "p": "confined-password"}, nil)
}

func TestTicketConcurrentAccept(t *testing.T) {
	t.Parallel()
	v := newIvSetup(t)
	inv := invite(t, v.op, v.app, v.role, "race@example.com")
	const n = 20
	results := make([]*atriumtest.Response, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			results[i], errs[i] = v.s.Client("", "").Try(acceptMutation, map[string]any{"t": inv.Ticket, "p": fmt.Sprintf("password-number-%02d", i)})
		})
	}
	close(start)
	wg.Wait()
	// A call that found every hashing slot taken for 2 s (auth.hashing: 20
	// argon2id hashes at once on a small or loaded machine) is answered
	// UNAVAILABLE before it touches the ticket: a loser too.
	winner, notFound, busy := -1, 0, 0
	for i, r := range results {
		switch {
		case errs[i] != nil:
			t.Fatal(errs[i])
		case len(r.Errors) == 0:
			if winner >= 0 {
				t.Fatalf("calls %d and %d both accepted the same ticket", winner, i)
			}
			winner = i
		case r.Code() == "NOT_FOUND":
			notFound++
		case r.Code() == "UNAVAILABLE" && r.Errors[0].Extensions.RetryAfter > 0:
			busy++
		default:
			t.Errorf("call %d: %+v", i, r.Errors)
		}
	}
	if winner < 0 || notFound+busy != n-1 {
		t.Fatalf("winner %d, %d NOT_FOUND, %d UNAVAILABLE; want one success and %d others", winner, notFound, busy, n-1)
	}
	// The winner's password is the one stored; a loser's is not.
	v.s.SignIn(t, v.app, "race@example.com", fmt.Sprintf("password-number-%02d", winner))
	v.s.Client("", "").Fails(t, "UNAUTHENTICATED", "", signInMutation, map[string]any{"a": v.app, "e": "race@example.com", "p": fmt.Sprintf("password-number-%02d", (winner+1)%n)})
}

func TestTicketPasswordPolicy(t *testing.T) {
	t.Parallel()
	v := newIvSetup(t)
	inv := invite(t, v.op, v.app, v.role, "Policy@Example.com")
	for name, pw := range map[string]string{
		"7 characters":          "1234567",
		"129 characters":        strings.Repeat("p", 129),
		"the email":             "policy@example.com",
		"the email, other case": "POLICY@example.COM",
		"the email with spaces": "  policy@example.com ",
		"empty":                 "",
	} {
		t.Run(name, func(t *testing.T) {
			r := v.s.Client("", "").Fails(t, "BAD_USER_INPUT", "input.password", acceptMutation, map[string]any{"t": inv.Ticket, "p": pw})
			if strings.Contains(r.Errors[0].Message, pw) && pw != "" {
				t.Fatalf("the error message repeats the password: %q", r.Errors[0].Message)
			}
		})
	}
	if u := getUser(t, v.op, inv.UserID); u.Status != "INVITED" {
		t.Fatalf("status after refused passwords: %s", u.Status)
	}
	// 128 characters, the longest allowed, counted in characters not bytes.
	long := strings.Repeat("é", 128)
	v.s.Client("", "").MustDo(t, acceptMutation, map[string]any{"t": inv.Ticket, "p": long}, nil)
	v.s.SignIn(t, v.app, "policy@example.com", long)
}

func TestTicketNeverLogged(t *testing.T) {
	t.Parallel()
	v := newIvSetup(t)
	inv := invite(t, v.op, v.app, v.role, "quiet@example.com")
	tickets := []string{inv.Ticket}
	wantRefused(t, tryAccept(t, v.s, inv.Ticket, "short"), "BAD_USER_INPUT") // the password policy
	var out struct {
		ResendInvitation struct{ InvitationURL string }
	}
	v.op.MustDo(t, `mutation($id: ID!) { resendInvitation(input: {userId: $id}) { invitationUrl } }`, map[string]any{"id": inv.UserID}, &out)
	fresh := atriumtest.Ticket(t, out.ResendInvitation.InvitationURL)
	tickets = append(tickets, fresh)
	wantRefused(t, tryAccept(t, v.s, inv.Ticket, "superseded-password"), "NOT_FOUND") // superseded
	// The page, over HTTP, with the ticket in the query.
	res, err := v.s.Server.Client().Get(v.s.URL + "/invitation?ticket=" + url.QueryEscape(fresh))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("invitation page: %d", res.StatusCode)
	}
	v.s.Client("", "").MustDo(t, acceptMutation, map[string]any{"t": fresh, "p": "quiet-password"}, nil)
	wantRefused(t, tryAccept(t, v.s, fresh, "quiet-password"), "NOT_FOUND") // used

	logs := v.s.Log.String()
	if !strings.Contains(logs, "/invitation") || !strings.Contains(logs, "/graphql") {
		t.Fatalf("the log lacks the requests made; is it the server's log?\n%s", logs)
	}
	for _, tk := range tickets {
		for _, form := range []string{tk, url.QueryEscape(tk), tk[:20]} {
			if strings.Contains(logs, form) {
				t.Fatalf("a log line contains a ticket (%q):\n%s", form, logs)
			}
		}
	}
}

func TestSignInBeforeAccepting(t *testing.T) {
	t.Parallel()
	v := newIvSetup(t)
	invite(t, v.op, v.app, v.role, "pending@example.com")
	active := invite(t, v.op, v.app, v.role, "active@example.com")
	v.s.Client("", "").MustDo(t, acceptMutation, map[string]any{"t": active.Ticket, "p": "active-password"}, nil)

	anon := v.s.Client("", "")
	pending := anon.Fails(t, "UNAUTHENTICATED", "", signInMutation, map[string]any{"a": v.app, "e": "pending@example.com", "p": "any-password-1"})
	empty := anon.Fails(t, "UNAUTHENTICATED", "", signInMutation, map[string]any{"a": v.app, "e": "pending@example.com", "p": ""})
	wrong := anon.Fails(t, "UNAUTHENTICATED", "", signInMutation, map[string]any{"a": v.app, "e": "active@example.com", "p": "not-the-password"})
	unknown := anon.Fails(t, "UNAUTHENTICATED", "", signInMutation, map[string]any{"a": v.app, "e": "nobody@example.com", "p": "any-password-1"})
	for name, r := range map[string]*atriumtest.Response{"empty password": empty, "wrong password": wrong, "unknown email": unknown} {
		if r.Errors[0].Message != pending.Errors[0].Message {
			t.Errorf("invited user: %q; %s: %q — they should be the same", pending.Errors[0].Message, name, r.Errors[0].Message)
		}
	}
}
