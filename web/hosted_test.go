package web_test

// The hosted pages around the login page (forgot, reset, sign-up), through
// the real server, with real SMTP where mail is involved.

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"atrium/atriumtest"
	"atrium/client"
	"atrium/service"
)

// mailFixture is a fixture whose emails go to a real SMTP server.
func mailFixture(t testing.TB, opts ...atriumtest.Option) (fixture, *smtpServer) {
	t.Helper()
	ts := startSMTP(t, nil)
	outbox, _ := newOutbox(t, ts, 0)
	return newFixture(t, false, append(opts, atriumtest.WithMailer(outbox))...), ts
}

// member invites email to the fixture's application and sets its password.
func (f fixture) member(t testing.TB, email, password string) string {
	t.Helper()
	inv := f.invite(t, f.app, email)
	f.s.Accept(t, inv.Ticket, password)
	return inv.UserID
}

// page of the sandbox project, e.g. "forgot".
func (f fixture) hosted(page string) string { return service.HostedPath(f.s.Sandbox, page) }

// post sends a form to path on the server as a browser would, with extra
// headers (name, value, ...).
func post(t testing.TB, s *atriumtest.Server, path string, form url.Values, headers ...string) page {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return fetch(t, s, req)
}

// resetLink waits for the next email and returns its one link, checking it
// is a reset link of the project for to.
func resetLink(t testing.TB, f fixture, ts *smtpServer, to string) string {
	t.Helper()
	m := ts.next(t)
	if len(m.to) != 1 || m.to[0] != to {
		t.Fatalf("email to %q, want %s", m.to, to)
	}
	e := parseEmail(t, m.data)
	if !strings.Contains(e.subject, "Reset your password") {
		t.Fatalf("subject %q", e.subject)
	}
	link := onlyLink(t, e.text)
	if onlyLink(t, html.UnescapeString(e.html)) != link {
		t.Fatal("the HTML part links elsewhere")
	}
	if !strings.HasPrefix(link, "http://atrium.test"+f.hosted("reset")+"?ticket=") {
		t.Fatalf("reset link %q", link)
	}
	return link
}

func TestForgotResetSignIn(t *testing.T) {
	t.Parallel()
	f, ts := mailFixture(t)
	const email = "forgetful@example.com"
	id := f.member(t, email, "first-password-1")

	form := get(t, f.s, f.s.URL+f.hosted("forgot"))
	if form.status != http.StatusOK {
		t.Fatalf("GET forgot: %d\n%s", form.status, form.body)
	}
	wantSecure(t, form)
	form.want(t, "Forgot your password?", "Sandbox", `action="`+f.hosted("forgot")+`"`, `name="email"`, `href="`+loginURL+`"`)
	form.wantNot(t, "<script", `name="authRequest"`)

	sent := post(t, f.s, f.hosted("forgot"), url.Values{"email": {"Forgetful@Example.com"}})
	if sent.status != http.StatusOK {
		t.Fatalf("POST forgot: %d\n%s", sent.status, sent.body)
	}
	wantSecure(t, sent)
	sent.want(t, "Check your email", "Forgetful@Example.com", "one hour")
	link := resetLink(t, f, ts, email)

	open := get(t, f.s, local(t, f.s, link))
	if open.status != http.StatusOK {
		t.Fatalf("GET reset: %d\n%s", open.status, open.body)
	}
	wantSecure(t, open)
	tk := ticketOf(t, link)
	open.want(t, "Choose a new password", email, `name="ticket" value="`+tk+`"`, `name="password"`, `name="confirm"`)

	// The same rules as an invitation's; a bad try leaves the link working.
	for name, tc := range map[string]struct{ password, confirm, message string }{
		"short":     {"short77", "short77", "at least 8"},
		"the email": {"FORGETFUL@example.com", "FORGETFUL@example.com", "email"},
		"mismatch":  {"one-password-1", "another-one-2", "not the same"},
	} {
		p := post(t, f.s, f.hosted("reset"), url.Values{"ticket": {tk}, "password": {tc.password}, "confirm": {tc.confirm}})
		if p.status != http.StatusBadRequest {
			t.Fatalf("%s: %d\n%s", name, p.status, p.body)
		}
		p.want(t, `role="alert"`, tc.message, `name="ticket" value="`+tk+`"`)
		p.wantNot(t, `value="`+tc.password)
		wantClean(t, p)
	}
	done := post(t, f.s, f.hosted("reset"), url.Values{"ticket": {tk}, "password": {"second-password-2"}, "confirm": {"second-password-2"}})
	if done.status != http.StatusOK {
		t.Fatalf("POST reset: %d\n%s", done.status, done.body)
	}
	wantSecure(t, done)
	done.want(t, "Password changed", email, `href="`+loginURL+`"`)
	done.wantNot(t, tk, `type="password"`)

	f.s.SignIn(t, f.app, email, "second-password-2")
	f.s.Client("", "").Fails(t, "UNAUTHENTICATED", "", signInMut, map[string]any{"a": f.app, "e": email, "p": "first-password-1"})

	// Used up, by GET and by POST.
	for name, p := range map[string]page{
		"GET":  get(t, f.s, local(t, f.s, link)),
		"POST": post(t, f.s, f.hosted("reset"), url.Values{"ticket": {tk}, "password": {"third-password-3"}, "confirm": {"third-password-3"}}),
	} {
		if p.status != http.StatusNotFound {
			t.Fatalf("%s of a used link: %d\n%s", name, p.status, p.body)
		}
		wantSecure(t, p)
		p.want(t, "This link does not work", "not valid", `href="`+f.hosted("forgot")+`"`)
		p.wantNot(t, `type="password"`)
		wantClean(t, p)
	}
	f.s.SignIn(t, f.app, email, "second-password-2")

	// Audited as the domain's use cases, without the secrets.
	var out struct {
		AuditEvents struct {
			Edges []struct {
				Node struct {
					Action, Outcome string
					Target          struct{ ID string }
				}
			}
		}
	}
	f.op.MustDo(t, `{ auditEvents(filter: {action: "App:ResetPassword"}) { edges { node { action outcome target { id } } } } }`, nil, &out)
	var outcomes []string
	for _, e := range out.AuditEvents.Edges {
		if e.Node.Target.ID == id {
			outcomes = append(outcomes, e.Node.Outcome)
		}
	}
	if len(outcomes) < 2 || outcomes[len(outcomes)-1] != "BAD_USER_INPUT" || !slicesContain(outcomes, "success") {
		t.Fatalf("audit outcomes of the reset: %q", outcomes)
	}
	if strings.Contains(f.s.Log.String(), tk) {
		t.Fatal("the server log holds the reset ticket")
	}
}

func slicesContain(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// An address without an account gets the same page, and the same status and
// headers, as one with an account; only the account gets an email. So do an
// invited user (no password yet) and a disabled one.
func TestForgotSameAnswerForUnknownEmail(t *testing.T) {
	t.Parallel()
	f, ts := mailFixture(t)
	f.member(t, "known@example.com", "known-password-1")
	disabled := f.member(t, "disabled@example.com", "disabled-password-1")
	f.op.MustDo(t, `mutation($id: ID!) { disableUser(input: {id: $id}) { user { id } } }`, map[string]any{"id": disabled}, nil)
	f.invite(t, f.app, "invited@example.com")

	answer := func(email string) page {
		p := post(t, f.s, f.hosted("forgot"), url.Values{"email": {email}})
		p.body = strings.ReplaceAll(p.body, email, "EMAIL")
		for _, h := range []string{"Date", "X-Request-Id", "Content-Length"} { // the body is compared
			p.header.Del(h)
		}
		return p
	}
	known := answer("known@example.com")
	for _, other := range []string{"unknown@example.com", "invited@example.com", "disabled@example.com"} {
		p := answer(other)
		if p.status != known.status || p.body != known.body {
			t.Fatalf("%s: %d\n%s\nknown: %d\n%s", other, p.status, p.body, known.status, known.body)
		}
		if fmt.Sprint(p.header) != fmt.Sprint(known.header) {
			t.Fatalf("%s: headers %v, known %v", other, p.header, known.header)
		}
	}
	resetLink(t, f, ts, "known@example.com")
	// The outbox sends in order: were any of the others emailed, its email
	// would come before this one.
	answer("known@example.com")
	resetLink(t, f, ts, "known@example.com")
}

// A newer link replaces the older; a link is good for one hour.
func TestResetLinkSupersededAndExpires(t *testing.T) {
	t.Parallel()
	clock := atriumtest.NewClock(time.Now())
	f, ts := mailFixture(t, atriumtest.WithClock(clock))
	const email = "twice@example.com"
	f.member(t, email, "twice-password-1")
	post(t, f.s, f.hosted("forgot"), url.Values{"email": {email}})
	first := resetLink(t, f, ts, email)
	post(t, f.s, f.hosted("forgot"), url.Values{"email": {email}})
	second := resetLink(t, f, ts, email)
	if first == second {
		t.Fatal("the same link twice")
	}
	p := get(t, f.s, local(t, f.s, first))
	if p.status != http.StatusNotFound {
		t.Fatalf("the replaced link: %d", p.status)
	}
	p.want(t, "not valid", "replaced by a newer one")
	if p := get(t, f.s, local(t, f.s, second)); p.status != http.StatusOK {
		t.Fatalf("the newer link: %d\n%s", p.status, p.body)
	}
	clock.Advance(service.PasswordResetTTL + time.Second)
	for name, p := range map[string]page{
		"GET":  get(t, f.s, local(t, f.s, second)),
		"POST": post(t, f.s, f.hosted("reset"), url.Values{"ticket": {ticketOf(t, second)}, "password": {"too-late-pass-1"}, "confirm": {"too-late-pass-1"}}),
	} {
		if p.status != http.StatusNotFound {
			t.Fatalf("%s of an expired link: %d", name, p.status)
		}
		p.want(t, "This link does not work", "has expired")
		wantClean(t, p)
	}
	f.s.SignIn(t, f.app, email, "twice-password-1")
}

// Concurrent uses of one link: exactly one sets the password.
func TestResetLinkSingleUseUnderRace(t *testing.T) {
	t.Parallel()
	f, ts := mailFixture(t)
	const email = "racer@example.com"
	f.member(t, email, "racer-password-1")
	post(t, f.s, f.hosted("forgot"), url.Values{"email": {email}})
	tk := ticketOf(t, resetLink(t, f, ts, email))
	const n = 4
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pw := fmt.Sprintf("racer-new-pass-%d", i)
			statuses[i] = post(t, f.s, f.hosted("reset"), url.Values{"ticket": {tk}, "password": {pw}, "confirm": {pw}}).status
		}()
	}
	wg.Wait()
	ok, winner := 0, -1
	for i, st := range statuses {
		switch st {
		case http.StatusOK:
			ok, winner = ok+1, i
		case http.StatusNotFound:
		default:
			t.Fatalf("use %d: status %d", i, st)
		}
	}
	if ok != 1 {
		t.Fatalf("%d uses succeeded (%v), want 1", ok, statuses)
	}
	f.s.SignIn(t, f.app, email, fmt.Sprintf("racer-new-pass-%d", winner))
}

// With a login in progress, the pages carry it and return to it.
func TestHostedPagesCarryTheAuthRequest(t *testing.T) {
	t.Parallel()
	f, ts := mailFixture(t)
	const email, ar = "carried@example.com", "ar-123_abc"
	f.member(t, email, "carried-password-1")
	form := get(t, f.s, f.s.URL+f.hosted("forgot")+"?authRequest="+ar)
	form.want(t, `name="authRequest" value="`+ar+`"`, `href="`+f.hosted("login")+"?authRequest="+ar+`"`)
	// Something that is not an auth request id is dropped.
	get(t, f.s, f.s.URL+f.hosted("forgot")+"?authRequest="+url.QueryEscape(`"><script>`)).wantNot(t, `name="authRequest"`, "<script")

	sent := post(t, f.s, f.hosted("forgot"), url.Values{"email": {email}, "authRequest": {ar}})
	sent.want(t, "Check your email", `href="`+f.hosted("login")+"?authRequest="+ar+`"`)
	link := resetLink(t, f, ts, email)
	u, _ := url.Parse(link)
	if u.Query().Get("authRequest") != ar {
		t.Fatalf("the emailed link %q does not carry the auth request", link)
	}
	get(t, f.s, local(t, f.s, link)).want(t, `name="authRequest" value="`+ar+`"`)
	p := post(t, f.s, f.hosted("reset"), url.Values{"ticket": {u.Query().Get("ticket")}, "authRequest": {ar},
		"password": {"carried-new-pass-2"}, "confirm": {"carried-new-pass-2"}})
	p.wantRedirect(t, f.hosted("login")+"?authRequest="+ar+"&notice=password-reset")
	f.s.SignIn(t, f.app, email, "carried-new-pass-2")
}

// Too many links asked for one account (or from one address) are refused
// with the limit, kindly.
func TestForgotIsThrottled(t *testing.T) {
	t.Parallel()
	f, _ := mailFixture(t)
	var last page
	for i := range 6 {
		last = post(t, f.s, f.hosted("forgot"), url.Values{"email": {"nobody-at-all@example.com"}})
		if i < 5 && last.status != http.StatusOK {
			t.Fatalf("request %d: %d\n%s", i+1, last.status, last.body)
		}
	}
	if last.status != http.StatusTooManyRequests || last.header.Get("Retry-After") == "" {
		t.Fatalf("6th request: %d, Retry-After %q\n%s", last.status, last.header.Get("Retry-After"), last.body)
	}
	wantSecure(t, last)
	last.want(t, `role="alert"`, "Too many password reset requests for this account", `name="email"`)
	wantClean(t, last)
	// Another address is not held back by it.
	if p := post(t, f.s, f.hosted("forgot"), url.Values{"email": {"someone-else@example.com"}}); p.status != http.StatusOK {
		t.Fatalf("another account: %d", p.status)
	}
}

// An unknown project is a page not found, on every route and method.
func TestHostedPagesUnknownProject(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	for _, name := range []string{"forgot", "reset", "signup"} {
		path := service.HostedPath("00000000-0000-4000-8000-000000000000", name)
		for name, p := range map[string]page{
			"GET":  get(t, f.s, f.s.URL+path+"?ticket=a.b"),
			"POST": post(t, f.s, path, url.Values{"email": {"x@example.com"}, "ticket": {"a.b"}, "password": {"long-enough-1"}, "confirm": {"long-enough-1"}}),
		} {
			if p.status != http.StatusNotFound {
				t.Fatalf("%s %s: %d\n%s", name, path, p.status, p.body)
			}
			wantSecure(t, p)
			p.want(t, "Page not found", `role="alert"`)
			p.wantNot(t, "<form", "00000000-0000-4000-8000-000000000000")
			wantClean(t, p)
		}
	}
	req, _ := http.NewRequest(http.MethodPut, f.s.URL+f.hosted("forgot"), nil)
	if p := fetch(t, f.s, req); p.status != http.StatusMethodNotAllowed || p.header.Get("Allow") != "GET, POST" {
		t.Fatalf("PUT: %d, Allow %q", p.status, p.header.Get("Allow"))
	}
}

// A form posted from another site is refused before it does anything, on
// the hosted pages and on the invitation page.
func TestHostedFormsRefuseCrossOriginPosts(t *testing.T) {
	t.Parallel()
	f, ts := mailFixture(t)
	const email = "csrf@example.com"
	f.member(t, email, "csrf-password-1")
	inv := f.invite(t, f.app, "csrf-invited@example.com")
	for name, headers := range map[string][]string{
		"Sec-Fetch-Site": {"Sec-Fetch-Site", "cross-site"},
		"Origin":         {"Origin", "https://evil.example"},
	} {
		for path, form := range map[string]url.Values{
			f.hosted("forgot"):     {"email": {email}},
			f.hosted("signup"):     {"email": {"csrf-new@example.com"}, "password": {"csrf-new-pass-1"}, "confirm": {"csrf-new-pass-1"}},
			f.hosted("reset"):      {"ticket": {"a.b"}, "password": {"csrf-new-pass-1"}, "confirm": {"csrf-new-pass-1"}},
			service.InvitationPath: {"ticket": {inv.Ticket}, "password": {"csrf-new-pass-1"}, "confirm": {"csrf-new-pass-1"}},
		} {
			p := post(t, f.s, path, form, headers...)
			if p.status != http.StatusForbidden {
				t.Fatalf("%s from another site (%s): %d\n%s", path, name, p.status, p.body)
			}
			wantSecure(t, p)
			p.want(t, "Form refused", "from another site")
			wantClean(t, p)
		}
	}
	if s := f.status(t, inv.UserID); s != "INVITED" {
		t.Fatalf("the refused invitation form changed the user: %s", s)
	}
	// The same form from the page itself goes through; it is the first email.
	if p := post(t, f.s, f.hosted("forgot"), url.Values{"email": {email}}, "Sec-Fetch-Site", "same-origin"); p.status != http.StatusOK {
		t.Fatalf("same-origin POST: %d\n%s", p.status, p.body)
	}
	resetLink(t, f, ts, email)
}

// enableSignup turns self-registration on, with a patient role unless
// withRole is false; it returns the role.
func (f fixture) enableSignup(t testing.TB, withRole bool) string {
	t.Helper()
	role := atriumtest.CreateRole(t, f.op, "Patient", atriumtest.Allow("App:User", "App:GetUser"))
	vars := map[string]any{"r": nil}
	if withRole {
		vars["r"] = role
	}
	f.op.MustDo(t, `mutation($r: ID) { updateProject(input: {signupEnabled: true, defaultPatientRoleId: $r}) { project { id } } }`, vars, nil)
	return role
}

func TestSignupPage(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	form := url.Values{"email": {"New.Patient@Example.com"}, "password": {"patient-pass-1"}, "confirm": {"patient-pass-1"}}

	// Off: a clear refusal, by GET and by POST.
	for name, p := range map[string]page{"GET": get(t, f.s, f.s.URL+f.hosted("signup")), "POST": post(t, f.s, f.hosted("signup"), form)} {
		if p.status != http.StatusForbidden {
			t.Fatalf("%s with sign-up off: %d\n%s", name, p.status, p.body)
		}
		wantSecure(t, p)
		p.want(t, "Sign-up is closed")
		p.wantNot(t, "<form")
		wantClean(t, p)
	}
	// On, but without a default patient role: refused, saying why.
	role := f.enableSignup(t, false)
	p := post(t, f.s, f.hosted("signup"), form)
	if p.status != http.StatusForbidden {
		t.Fatalf("without a patient role: %d\n%s", p.status, p.body)
	}
	p.want(t, "Sign-up is closed", "defaultPatientRole")
	f.op.MustDo(t, `mutation($r: ID) { updateProject(input: {defaultPatientRoleId: $r}) { project { id } } }`, map[string]any{"r": role}, nil)

	open := get(t, f.s, f.s.URL+f.hosted("signup"))
	if open.status != http.StatusOK {
		t.Fatalf("GET signup: %d\n%s", open.status, open.body)
	}
	wantSecure(t, open)
	open.want(t, "Create your Sandbox account", `name="email"`, `name="password"`, `name="confirm"`, `href="`+loginURL+`"`)

	weak := post(t, f.s, f.hosted("signup"), url.Values{"email": {"weak@example.com"}, "password": {"short"}, "confirm": {"short"}})
	if weak.status != http.StatusBadRequest {
		t.Fatalf("weak password: %d", weak.status)
	}
	weak.want(t, "at least 8", `value="weak@example.com"`)
	mismatch := post(t, f.s, f.hosted("signup"), url.Values{"email": {"weak@example.com"}, "password": {"patient-pass-1"}, "confirm": {"patient-pass-2"}})
	mismatch.want(t, "not the same")

	done := post(t, f.s, f.hosted("signup"), form)
	if done.status != http.StatusOK {
		t.Fatalf("POST signup: %d\n%s", done.status, done.body)
	}
	wantSecure(t, done)
	done.want(t, "Account created", "new.patient@example.com", `href="`+loginURL+`"`)
	done.wantNot(t, "patient-pass-1")
	token := f.s.SignIn(t, f.app, "new.patient@example.com", "patient-pass-1")
	var me struct {
		Me struct {
			Status, Profile string
			Roles           []struct{ ID string }
		}
	}
	f.s.Client(token, "").MustDo(t, `{ me { status profile roles { id } } }`, nil, &me)
	if me.Me.Status != "ACTIVE" || !strings.HasPrefix(me.Me.Profile, "Patient/") || len(me.Me.Roles) != 1 || me.Me.Roles[0].ID != role {
		t.Fatalf("the new user: %+v", me.Me)
	}

	// Taken: the form again, saying so.
	taken := post(t, f.s, f.hosted("signup"), form)
	if taken.status != http.StatusConflict {
		t.Fatalf("taken email: %d", taken.status)
	}
	taken.want(t, "already exists", `name="password"`)

	// With a login in progress: back to it.
	ar := post(t, f.s, f.hosted("signup"), url.Values{"email": {"second@example.com"}, "password": {"second-pass-1"}, "confirm": {"second-pass-1"}, "authRequest": {"ar-9"}})
	ar.wantRedirect(t, f.hosted("login")+"?authRequest=ar-9&notice=account-created")
	f.s.SignIn(t, f.app, "second@example.com", "second-pass-1")
}

// Registrations of one email at once make one account.
func TestSignupRace(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	f.enableSignup(t, true)
	const n = 4
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pw := fmt.Sprintf("race-signup-%d", i)
			statuses[i] = post(t, f.s, f.hosted("signup"), url.Values{"email": {"same@example.com"}, "password": {pw}, "confirm": {pw}}).status
		}()
	}
	wg.Wait()
	created := 0
	for _, st := range statuses {
		switch st {
		case http.StatusOK:
			created++
		case http.StatusConflict:
		default:
			t.Fatalf("statuses %v", statuses)
		}
	}
	if created != 1 {
		t.Fatalf("%d accounts created (%v), want 1", created, statuses)
	}
	var out struct{ Users struct{ TotalCount int } }
	f.op.MustDo(t, `{ users(filter: {email: "same@example.com"}) { totalCount } }`, nil, &out)
	if out.Users.TotalCount != 1 {
		t.Fatalf("%d users with the email", out.Users.TotalCount)
	}
}

// An administrator's link works like an emailed one and then sends the
// user where the administrator said; the redirect must be one of the
// project's applications' URLs.
func TestAdminResetLink(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	const email = "admin-reset@example.com"
	id := f.member(t, email, "admin-reset-pass-1")
	const mut = `mutation($id: ID!, $r: String) { userPasswordResetLink(input: {id: $id, redirectUrl: $r}) { url expiresAt } }`
	for _, bad := range []string{"https://evil.example/cb", "javascript:alert(1)", "https://portal.example.com/callback/extra"} {
		f.op.Fails(t, "BAD_USER_INPUT", "input.redirectUrl", mut, map[string]any{"id": id, "r": bad})
	}
	invited := f.invite(t, f.app, "not-yet@example.com")
	f.op.Fails(t, "CONFLICT", "", mut, map[string]any{"id": invited.UserID})
	f.op.Fails(t, "NOT_FOUND", "", mut, map[string]any{"id": "00000000-0000-4000-8000-000000000000"})

	var out struct {
		UserPasswordResetLink struct {
			URL       string
			ExpiresAt time.Time
		}
	}
	f.op.MustDo(t, mut, map[string]any{"id": id, "r": "https://portal.example.com/callback"}, &out)
	link := out.UserPasswordResetLink
	if until := time.Until(link.ExpiresAt); until < 59*time.Minute || until > 61*time.Minute {
		t.Fatalf("expiresAt %v", link.ExpiresAt)
	}
	// A second link replaces the first.
	var again struct{ UserPasswordResetLink struct{ URL string } }
	f.op.MustDo(t, mut, map[string]any{"id": id, "r": loginURL}, &again)
	if p := get(t, f.s, local(t, f.s, link.URL)); p.status != http.StatusNotFound {
		t.Fatalf("the replaced admin link: %d", p.status)
	}
	tk := ticketOf(t, again.UserPasswordResetLink.URL)
	open := get(t, f.s, local(t, f.s, again.UserPasswordResetLink.URL))
	open.want(t, email)
	if csp := open.header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://portal.example.com") {
		t.Fatalf("the form may not lead to the redirect: %q", csp)
	}
	p := post(t, f.s, f.hosted("reset"), url.Values{"ticket": {tk}, "password": {"admin-set-pass-2"}, "confirm": {"admin-set-pass-2"}})
	p.wantRedirect(t, loginURL)
	f.s.SignIn(t, f.app, email, "admin-set-pass-2")

	// A user may ask only with App:GetUserPasswordResetLink on the user.
	other := f.s.SignedInUser(t, f.op, client.InviteUserInput{Email: ptr("plain@example.com"), ApplicationId: f.app,
		AccessPolicy: atriumtest.Policy(atriumtest.Allow("App:User", "App:GetUser")), Resource: &map[string]any{"resourceType": "Patient"}}, "plain-password-1")
	f.s.Client(other.Token, "").Fails(t, "FORBIDDEN", "", mut, map[string]any{"id": id})
}

// ticketOf is the ticket of a reset link.
func ticketOf(t testing.TB, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	tk := u.Query().Get("ticket")
	if tk == "" || !strings.HasSuffix(u.Path, "/reset") {
		t.Fatalf("reset link %q has no ticket", link)
	}
	return tk
}

// An account locked by failed sign-ins opens with the new password once it
// is reset: the link proved its owner.
func TestResetOpensALockedAccount(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	const email = "locked@example.com"
	id := f.member(t, email, "locked-password-1")
	anon := f.s.Client("", "")
	for range 5 {
		anon.Fails(t, "UNAUTHENTICATED", "", signInMut, map[string]any{"a": f.app, "e": email, "p": "a-wrong-guess"})
	}
	anon.Fails(t, "RATE_LIMITED", "", signInMut, map[string]any{"a": f.app, "e": email, "p": "locked-password-1"})
	var out struct{ UserPasswordResetLink struct{ URL string } }
	f.op.MustDo(t, `mutation($id: ID!) { userPasswordResetLink(input: {id: $id}) { url } }`, map[string]any{"id": id}, &out)
	p := post(t, f.s, f.hosted("reset"), url.Values{"ticket": {ticketOf(t, out.UserPasswordResetLink.URL)}, "password": {"unlocked-pass-2"}, "confirm": {"unlocked-pass-2"}})
	if p.status != http.StatusOK {
		t.Fatalf("reset: %d\n%s", p.status, p.body)
	}
	f.s.SignIn(t, f.app, email, "unlocked-pass-2")
}

// A reset link of one project does nothing at another project's pages, and
// a malformed address is told so.
func TestResetLinkStaysInItsProject(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	id := f.member(t, "isolated@example.com", "isolated-pass-1")
	other := f.s.CreateProject(t, "Other")
	var out struct{ UserPasswordResetLink struct{ URL string } }
	f.op.MustDo(t, `mutation($id: ID!) { userPasswordResetLink(input: {id: $id}) { url } }`, map[string]any{"id": id}, &out)
	tk := ticketOf(t, out.UserPasswordResetLink.URL)
	elsewhere := service.HostedPath(other, "reset")
	for name, p := range map[string]page{
		"GET":  get(t, f.s, f.s.URL+elsewhere+"?ticket="+url.QueryEscape(tk)),
		"POST": post(t, f.s, elsewhere, url.Values{"ticket": {tk}, "password": {"moved-pass-2"}, "confirm": {"moved-pass-2"}}),
	} {
		if p.status != http.StatusNotFound {
			t.Fatalf("%s at another project: %d\n%s", name, p.status, p.body)
		}
		p.want(t, "This link does not work")
		p.wantNot(t, "isolated@example.com")
	}
	// Still good at home.
	if p := get(t, f.s, local(t, f.s, out.UserPasswordResetLink.URL)); p.status != http.StatusOK {
		t.Fatalf("at its own project: %d", p.status)
	}
	f.s.SignIn(t, f.app, "isolated@example.com", "isolated-pass-1")

	bad := post(t, f.s, f.hosted("forgot"), url.Values{"email": {"not an address"}})
	if bad.status != http.StatusBadRequest {
		t.Fatalf("malformed address: %d", bad.status)
	}
	bad.want(t, `role="alert"`, "is not an email address", `name="email"`)
	wantClean(t, bad)
}
