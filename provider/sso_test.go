package provider_test

// Single sign-on through an SSO connection, hop by hop, with another
// project of the same server as the upstream identity provider (its own
// OpenID provider, its own hosted login page): the first sign-in makes the
// user with the project's defaultSSOUserRole (or is refused without one),
// the next finds it, the ID token says amr fed, and an application with
// mfaEnabled asks for its second factor after it. What is refused is in
// sso_refusals_test.go, the flow in Chromium in sso_browser_test.go.

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"atrium/atriumtest"
	"atrium/client"
	"atrium/iam"
)

var ssoLink = regexp.MustCompile(`<a href="([^"]+)" class="sso">Continue with ([^<]+)</a>`)

// sso is a project (a) that signs its users in through a connection to
// another project (idp) of the same server.
type sso struct {
	s       *atriumtest.Server
	a, idp  *project
	conn    string
	name    string
	role    string
	idpApp  app
	secret  string
	idpUser string // idp's user's email
}

func newSSO(t *testing.T, opts ...atriumtest.Option) *sso {
	t.Helper()
	s := atriumtest.NewServer(t, opts...)
	f := &sso{s: s, a: newProject(t, s, ""), idp: newProject(t, s, "Upstream"), name: "Upstream IdP"}
	f.idpUser = f.idp.email
	f.role = atriumtest.CreateRole(t, f.a.operator, "SSO users", atriumtest.Allow("App:User", "App:GetUser"))
	cb := f.a.issuer + "/sso-callback"
	f.idpApp = f.idp.newApp(t, client.CreateApplicationInput{Name: "Project A", AllowedCallbackUrls: []string{cb}})
	var rotated struct{ RotateApplicationSecret struct{ Secret string } }
	f.idp.operator.MustDo(t, `mutation($id: ID!) { rotateApplicationSecret(input: {id: $id}) { secret } }`, map[string]any{"id": f.idpApp.ID}, &rotated)
	f.secret = rotated.RotateApplicationSecret.Secret
	f.conn = f.connect(t, f.a, f.name, f.idp.issuer, f.idpApp.ClientID, f.secret)
	return f
}

// connect creates a connection in p and checks its callbackUrl.
func (f *sso) connect(t *testing.T, p *project, name, issuer, clientID, secret string) string {
	t.Helper()
	var c struct {
		CreateSSOConnection struct {
			SsoConnection struct{ ID, CallbackURL string }
		}
	}
	p.operator.MustDo(t, `mutation($n: String!, $i: String!, $c: String!, $s: String) { createSSOConnection(input: {name: $n, issuer: $i, clientId: $c, clientSecret: $s}) {
		ssoConnection { id callbackURL: callbackUrl } } }`, map[string]any{"n": name, "i": issuer, "c": clientID, "s": secret}, &c)
	if want := p.issuer + "/sso-callback"; c.CreateSSOConnection.SsoConnection.CallbackURL != want {
		t.Fatalf("callbackUrl %q, want %q", c.CreateSSOConnection.SsoConnection.CallbackURL, want)
	}
	return c.CreateSSOConnection.SsoConnection.ID
}

func (f *sso) setDefaultRole(t *testing.T) {
	t.Helper()
	f.a.operator.MustDo(t, `mutation($r: ID) { updateProject(input: {defaultSSOUserRoleId: $r}) { project { id } } }`, map[string]any{"r": f.role}, nil)
}

// buttons are the login page's SSO links, by name.
func buttons(t *testing.T, b *browser, login *url.URL) map[string]*url.URL {
	t.Helper()
	form := b.get(login.String())
	if form.StatusCode != http.StatusOK {
		t.Fatalf("login page: %d %.300s", form.StatusCode, form.Body)
	}
	out := map[string]*url.URL{}
	for _, m := range ssoLink.FindAllStringSubmatch(form.Body, -1) {
		u, err := login.Parse(html.UnescapeString(m[1]))
		atriumtest.Must(t, err)
		out[html.UnescapeString(m[2])] = u
	}
	return out
}

// toUpstream starts a login at a and clicks "Continue with <name>": the
// browser is sent to the upstream's authorize endpoint, returned.
func (f *sso) toUpstream(t *testing.T, b *browser) (*url.URL, *authorization) {
	t.Helper()
	up, z := f.continueWith(t, b, f.a.app, f.name)
	if up.Path != "/p/"+f.idp.id+"/authorize" || up.Query().Get("client_id") != f.idpApp.ClientID {
		t.Fatalf("the SSO start sent the browser to %s", up)
	}
	return up, z
}

// continueWith starts a login to a's application and clicks "Continue with <name>", and
// returns where the browser is sent: the upstream's authorization URL.
func (f *sso) continueWith(t *testing.T, b *browser, a app, name string) (*url.URL, *authorization) {
	t.Helper()
	authorize, z := f.a.authorizeURL(a, nil)
	login := f.a.loginPage(t, b, authorize)
	start := buttons(t, b, login)[name]
	if start == nil {
		t.Fatalf("no Continue with %s on the login page", name)
	}
	res := b.get(start.String())
	if c := res.Header.Get("Cache-Control"); c != "no-store" {
		t.Errorf("the SSO start's Cache-Control is %q", c)
	}
	up := res.redirect(t)
	q := up.Query()
	if q.Get("redirect_uri") != f.a.issuer+"/sso-callback" || q.Get("state") == "" || q.Get("nonce") == "" ||
		q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256" || q.Get("response_type") != "code" {
		t.Fatalf("the SSO start sent the browser to %s", up)
	}
	return up, z
}

// atUpstream signs in at the upstream project (unless the browser's
// session there does) and returns where it sends the browser back (a's
// SSO callback, with a code).
func (f *sso) atUpstream(t *testing.T, b *browser, up *url.URL, email string) *url.URL {
	t.Helper()
	login := b.get(up.String()).redirect(t)
	if login.Path != "/p/"+f.idp.id+"/login" {
		t.Fatalf("the upstream sent the browser to %s", login)
	}
	var cb *url.URL
	if form := b.get(login.String()); form.StatusCode == http.StatusSeeOther {
		cb = form.redirect(t) // the upstream's session
	} else {
		cb = f.idp.logIn(t, b, login, email, password).redirect(t)
	}
	back := b.get(cb.String()).redirect(t)
	if back.Path != "/p/"+f.a.id+"/sso-callback" || back.Query().Get("code") == "" {
		t.Fatalf("the upstream sent the browser back to %s", back)
	}
	return back
}

// signIn runs the whole flow and returns the code a's application gets.
func (f *sso) signIn(t *testing.T, b *browser, email string) (string, *authorization) {
	t.Helper()
	up, z := f.toUpstream(t, b)
	back := f.atUpstream(t, b, up, email)
	return f.a.finish(t, b, f.signedIn(t, b, back), z), z
}

// signedIn follows the upstream's answer at a's SSO callback to the page
// that sends the browser on, and returns where (the library's callback).
func (f *sso) signedIn(t *testing.T, b *browser, back *url.URL) *url.URL {
	t.Helper()
	done := b.get(back.String())
	next := continueLink.FindStringSubmatch(done.Body)
	if done.StatusCode != http.StatusOK || next == nil || !strings.Contains(done.Body, `<meta http-equiv="refresh" content="0; url=`) {
		t.Fatalf("a's SSO callback: %d %.500s", done.StatusCode, done.Body)
	}
	u, err := back.Parse(html.UnescapeString(next[1]))
	atriumtest.Must(t, err)
	return u
}

// user is a's user with the email.
func (f *sso) user(t *testing.T, email string) *iam.User {
	t.Helper()
	u, err := f.s.DB.Tenant(f.a.id).UserByEmail(context.Background(), email)
	atriumtest.Must(t, err)
	return u
}

func (f *sso) users(t *testing.T) int64 {
	t.Helper()
	n, err := f.s.DB.Tenant(f.a.id).CountUsers(context.Background(), iam.UserFilter{})
	atriumtest.Must(t, err)
	return n
}

func TestSSOFirstSignInMakesTheUserWithTheDefaultRole(t *testing.T) {
	f := newSSO(t)
	f.setDefaultRole(t)
	b := newBrowser(t, f.s)
	before := f.users(t)

	code, z := f.signIn(t, b, f.idpUser)
	if amr := amrOf(t, f.a, f.a.app, b, code, z); !slices.Contains(amr, "fed") {
		t.Fatalf("amr %v, want fed", amr)
	}
	if n := f.users(t); n != before+1 {
		t.Fatalf("%d users after the first sign-in, want %d", n, before+1)
	}
	u := f.user(t, f.idpUser)
	if u.AuthenticationMethod != f.name || !slices.Equal(u.RoleIDs, []string{f.role}) || u.SSOData["email"] != f.idpUser || u.Status != iam.Active {
		t.Fatalf("the new user: %+v", u)
	}

	// Again, in a new browser: the same user.
	b2 := newBrowser(t, f.s)
	f.signIn(t, b2, f.idpUser)
	if n := f.users(t); n != before+1 {
		t.Fatalf("%d users after a second sign-in of the same identity", n)
	}
}

// An application with mfaEnabled asks for its second factor after the
// upstream's sign-in too: the enrolment step, at the SSO callback, posts
// to the login page; the ID token then says fed, otp, mfa.
func TestSSOThenTOTP(t *testing.T) {
	f := newSSO(t)
	f.setDefaultRole(t)
	a := f.a.newApp(t, client.CreateApplicationInput{Name: "Secure Clinic", MfaEnabled: ptr(true)})
	b := newBrowser(t, f.s)
	up, z := f.continueWith(t, b, a, f.name)
	back := f.atUpstream(t, b, up, f.idpUser)
	step := b.get(back.String())
	if step.StatusCode != http.StatusOK || !strings.Contains(step.Body, `<img id="qr"`) || !strings.Contains(step.Body, `<form method="post" action="login" id="totp-form">`) {
		t.Fatalf("after the upstream's sign-in: %d %.800s", step.StatusCode, step.Body)
	}
	for _, c := range step.Cookies() {
		if c.Name == "atrium_session" {
			t.Fatal("a session began before the second factor")
		}
	}
	login, err := back.Parse("login") // the form's action
	atriumtest.Must(t, err)
	state := html.UnescapeString(stateField.FindStringSubmatch(step.Body)[1])
	code, err := totp.GenerateCode(secretField.FindStringSubmatch(step.Body)[1], time.Now())
	atriumtest.Must(t, err)
	saved := b.post(login.String(), url.Values{"authRequest": {formAuthRequest(t, step)}, "state": {state}, "factor": {"enrol"}, "code": {code}})
	next := continueLink.FindStringSubmatch(saved.Body)
	if saved.StatusCode != http.StatusOK || next == nil {
		t.Fatalf("after the enrolment: %d %.800s", saved.StatusCode, saved.Body)
	}
	cb, err := url.Parse(html.UnescapeString(next[1]))
	atriumtest.Must(t, err)
	if amr := amrOf(t, f.a, a, b, f.a.finish(t, b, login.ResolveReference(cb), z), z); !slices.Equal(amr, []string{"fed", "otp", "mfa"}) {
		t.Fatalf("amr %v after SSO and TOTP", amr)
	}
}

var authRequestField = regexp.MustCompile(`name="authRequest" value="([^"]+)"`)

// formAuthRequest is the auth request a page's form posts.
func formAuthRequest(t *testing.T, p page) string {
	t.Helper()
	m := authRequestField.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no authRequest field: %.300s", p.Body)
	}
	return html.UnescapeString(m[1])
}
