package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"atrium/atriumtest"
)

// wantSecure checks the headers every invitation page must carry.
func wantSecure(t *testing.T, p page) {
	t.Helper()
	h := p.header
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type = %q", ct)
	}
	csp := h.Get("Content-Security-Policy")
	for _, d := range []string{"frame-ancestors 'none'", "default-src 'none'", "form-action 'self'"} {
		if !strings.Contains(csp, d) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, d)
		}
	}
	for name, want := range map[string]string{
		"Referrer-Policy": "same-origin", "X-Frame-Options": "DENY", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}

// wantClean checks that an error page leaks nothing of the implementation.
func wantClean(t *testing.T, p page) {
	t.Helper()
	p.wantNot(t, "goroutine", "panic", ".go:", "runtime error", "store:", "mongo", "document not found", "NOT_FOUND", "BAD_USER_INPUT")
}

func TestInvitationPageShowsTheInvitation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	inv := f.invite(t, f.app, "Jon.Snow@Example.com")
	p := get(t, f.s, local(t, f.s, inv.URL))
	if p.status != http.StatusOK {
		t.Fatalf("GET invitation: %d\n%s", p.status, p.body)
	}
	wantSecure(t, p)
	p.want(t, "Sandbox", appName, "jon.snow@example.com", `method="post"`, `action="/invitation"`,
		`name="password"`, `name="confirm"`, `type="submit"`, `name="ticket" value="`+inv.Ticket+`"`)
	if n := strings.Count(p.body, `type="password"`); n != 2 {
		t.Fatalf("%d password inputs, want 2", n)
	}
	// Offline: no external assets or scripts.
	p.wantNot(t, "<script", "http://", "https://", "<link")
	if f.status(t, inv.UserID) != "INVITED" {
		t.Fatal("opening the page changed the user")
	}
}

func TestInvitationPageEscapesNames(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	app := f.createApp(t, `<b>Evil</b> & "Co"`, "", false)
	inv := f.invite(t, app, "escape@example.com")
	p := get(t, f.s, local(t, f.s, inv.URL))
	p.want(t, "&lt;b&gt;Evil&lt;/b&gt; &amp;")
	p.wantNot(t, "<b>Evil")
}

func TestInvitationPagePasswordsMustMatch(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	inv := f.invite(t, f.app, "mismatch@example.com")
	p := submit(t, f.s, url.Values{"ticket": {inv.Ticket}, "password": {"first-secret-1"}, "confirm": {"other-secret-2"}})
	wantSecure(t, p)
	p.want(t, `role="alert"`, "not the same", `name="ticket" value="`+inv.Ticket+`"`, `type="password"`)
	p.wantNot(t, "first-secret-1", "other-secret-2", "Password set")
	if s := f.status(t, inv.UserID); s != "INVITED" {
		t.Fatalf("status after mismatching passwords: %s", s)
	}
}

func TestInvitationPageRefusesWeakPasswords(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	inv := f.invite(t, f.app, "weak@example.com")
	for name, tc := range map[string]struct{ password, message string }{
		"short":     {"short77", "at least 8"},
		"too long":  {strings.Repeat("x", 129), "at most 128"},
		"the email": {"WEAK@example.com", "email"},
	} {
		p := submit(t, f.s, url.Values{"ticket": {inv.Ticket}, "password": {tc.password}, "confirm": {tc.password}})
		if p.status == http.StatusOK && strings.Contains(p.body, "Password set") {
			t.Fatalf("%s: accepted", name)
		}
		wantSecure(t, p)
		p.want(t, `role="alert"`, tc.message, `name="ticket" value="`+inv.Ticket+`"`)
		p.wantNot(t, "value=\""+tc.password)
		wantClean(t, p)
	}
	if s := f.status(t, inv.UserID); s != "INVITED" {
		t.Fatalf("status after weak passwords: %s", s)
	}
	// The ticket still works.
	p := submit(t, f.s, url.Values{"ticket": {inv.Ticket}, "password": {"strong-enough-1"}, "confirm": {"strong-enough-1"}})
	p.wantRedirect(t, loginURL)
}

// Setting the password leads straight into the application's login.
func TestInvitationPageSetsThePassword(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	inv := f.invite(t, f.app, "done@example.com")
	p := submit(t, f.s, url.Values{"ticket": {inv.Ticket}, "password": {"finally-set-1"}, "confirm": {"finally-set-1"}})
	p.wantRedirect(t, loginURL)
	if p.header.Get("Referrer-Policy") != "same-origin" {
		t.Fatalf("the redirect to another origin may send a referrer: %v", p.header)
	}
	if s := f.status(t, inv.UserID); s != "ACTIVE" {
		t.Fatalf("status after setting the password: %s", s)
	}
	f.s.SignIn(t, f.app, "done@example.com", "finally-set-1")

	// The link is used up: a clear page, by GET and by POST.
	for name, p := range map[string]page{
		"GET":  get(t, f.s, local(t, f.s, inv.URL)),
		"POST": submit(t, f.s, url.Values{"ticket": {inv.Ticket}, "password": {"another-one-2"}, "confirm": {"another-one-2"}}),
	} {
		if p.status != http.StatusNotFound {
			t.Fatalf("%s of a used link: %d", name, p.status)
		}
		wantSecure(t, p)
		p.want(t, "This link does not work", "not valid")
		p.wantNot(t, `type="password"`)
		wantClean(t, p)
	}
}

// An invitation to an application without a login page leads to the
// project's first application that has one; with none, the page says the
// user can now sign in.
func TestInvitationPageWithoutLoginRedirect(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	app := f.createApp(t, "No Redirect", "", false)
	inv := f.invite(t, app, "nolink@example.com")
	p := submit(t, f.s, url.Values{"ticket": {inv.Ticket}, "password": {"no-link-pass"}, "confirm": {"no-link-pass"}})
	p.wantRedirect(t, loginURL) // the Clinic Portal's

	bare := newFixtureLogin(t, "", false)
	other := bare.createApp(t, "No Redirect", "", false)
	inv = bare.invite(t, other, "nolink@example.com")
	p = submit(t, bare.s, url.Values{"ticket": {inv.Ticket}, "password": {"no-link-pass"}, "confirm": {"no-link-pass"}})
	if p.status != http.StatusOK {
		t.Fatalf("POST: %d\n%s", p.status, p.body)
	}
	wantSecure(t, p)
	p.want(t, "Password set", "Your password is set. You can now sign in to No Redirect as <strong>nolink@example.com</strong>")
	p.wantNot(t, "<a ", `type="password"`, inv.Ticket)
	if s := bare.status(t, inv.UserID); s != "ACTIVE" {
		t.Fatalf("status after setting the password: %s", s)
	}
}

func TestInvitationPageBadLinks(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	f.invite(t, f.app, "someone@example.com")
	for name, p := range map[string]page{
		"unknown ticket":      get(t, f.s, f.s.URL+"/invitation?ticket="+strings.Repeat("A", 43)),
		"no ticket":           get(t, f.s, f.s.URL+"/invitation"),
		"empty ticket":        get(t, f.s, f.s.URL+"/invitation?ticket="),
		"garbage ticket":      get(t, f.s, f.s.URL+"/invitation?ticket=%00%ff%3Cscript%3E"),
		"POST unknown ticket": submit(t, f.s, url.Values{"ticket": {"nope"}, "password": {"whatever-1"}, "confirm": {"whatever-1"}}),
		"POST no ticket":      submit(t, f.s, url.Values{"password": {"whatever-1"}, "confirm": {"whatever-1"}}),
	} {
		t.Run(name, func(t *testing.T) {
			if p.status != http.StatusNotFound {
				t.Fatalf("status %d, want 404\n%s", p.status, p.body)
			}
			wantSecure(t, p)
			p.want(t, "This link does not work", "not valid", "Ask the person who invited you")
			p.wantNot(t, "expired")
			p.wantNot(t, `type="password"`, "<script")
			wantClean(t, p)
		})
	}
}

func TestInvitationPageExpiredLink(t *testing.T) {
	t.Parallel()
	clock := atriumtest.NewClock(time.Now())
	f := newFixture(t, false, atriumtest.WithClock(clock))
	inv := f.invite(t, f.app, "late@example.com")
	clock.Advance(7*24*time.Hour + time.Second) // the default lifetime, and a second
	p := get(t, f.s, local(t, f.s, inv.URL))
	if p.status != http.StatusNotFound {
		t.Fatalf("expired link: %d", p.status)
	}
	p.want(t, "This link does not work", "This invitation link has expired", "Ask the person who invited you")
	wantClean(t, p)
}

func TestInvitationPageOtherMethods(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	inv := f.invite(t, f.app, "method@example.com")
	req, err := http.NewRequest(http.MethodPut, local(t, f.s, inv.URL), strings.NewReader("password=x"))
	if err != nil {
		t.Fatal(err)
	}
	p := fetch(t, f.s, req)
	if p.status != http.StatusMethodNotAllowed || !strings.Contains(p.header.Get("Allow"), "POST") {
		t.Fatalf("PUT: %d, Allow %q", p.status, p.header.Get("Allow"))
	}
	if s := f.status(t, inv.UserID); s != "INVITED" {
		t.Fatalf("status after PUT: %s", s)
	}
}

// Accepting on the page is audited as acceptInvitation is over GraphQL: the
// page writes no rule of its own, the domain's use case records the event
// (web acceptance used to leave no trace).
func TestInvitationPageIsAudited(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	inv := f.invite(t, f.app, "audited@example.com")
	weak := submit(t, f.s, url.Values{"ticket": {inv.Ticket}, "password": {"short"}, "confirm": {"short"}})
	if weak.status != http.StatusBadRequest {
		t.Fatalf("weak password: %d", weak.status)
	}
	submit(t, f.s, url.Values{"ticket": {inv.Ticket}, "password": {"audited-pass-1"}, "confirm": {"audited-pass-1"}}).wantRedirect(t, loginURL)
	var out struct {
		AuditEvents struct {
			Edges []struct {
				Node struct {
					Action, Outcome string
					Actor           struct{ Kind, ID string }
					Target          struct{ Type, ID string }
					ChangedFields   []string
				}
			}
		}
	}
	f.op.MustDo(t, `{ auditEvents(filter: {action: "App:AcceptInvitation"}) { edges { node { action outcome actor { kind id } target { type id } changedFields } } } }`, nil, &out)
	var got []string
	for _, e := range out.AuditEvents.Edges {
		n := e.Node
		got = append(got, fmt.Sprintf("%s %s by %q on %s/%s %v", n.Action, n.Outcome, n.Actor.Kind, n.Target.Type, n.Target.ID, n.ChangedFields))
	}
	want := []string{ // newest first
		fmt.Sprintf("App:AcceptInvitation success by \"\" on User/%s [password ticket]", inv.UserID),
		fmt.Sprintf("App:AcceptInvitation BAD_USER_INPUT by \"\" on User/%s [password ticket]", inv.UserID),
	}
	if !slices.Equal(got, want) {
		t.Fatalf("audit events of the page: %q, want %q", got, want)
	}
}
