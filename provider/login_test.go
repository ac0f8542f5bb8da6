package provider_test

// The hosted login page: the application's name and logo, the links to the
// other hosted pages, email sign-in turned off, wrong passwords and the
// sign-in throttle, CSRF protection, the session cookie's attributes.

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"atrium/atriumtest"
	"atrium/client"
)

func TestLoginPageShowsTheApplication(t *testing.T) {
	s := atriumtest.NewServer(t)
	p := newProject(t, s, "")
	a := p.newApp(t, client.CreateApplicationInput{Name: "Sunrise <Clinic>", LogoUri: ptr("https://cdn.example.com/logo.png")})
	b := newBrowser(t, s)
	authorize, _ := p.authorizeURL(a, url.Values{"login_hint": {"hinted@example.com"}})
	login := p.loginPage(t, b, authorize)
	res := b.get(login.String())
	id := login.Query().Get("authRequest")
	for _, want := range []string{
		"Log in to Sunrise &lt;Clinic&gt;", `src="https://cdn.example.com/logo.png"`, `value="hinted@example.com"`,
		`href="/p/` + p.id + `/forgot?authRequest=` + id + `"`,
	} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("login page lacks %s:\n%s", want, res.Body)
		}
	}
	if strings.Contains(res.Body, "/signup") {
		t.Error("the page links to sign-up, but the project's signupEnabled is off")
	}
	csp := res.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "img-src https://cdn.example.com") || !strings.Contains(csp, "form-action 'self' "+appOrigin) || strings.Contains(csp, "script-src") {
		t.Errorf("Content-Security-Policy %q", csp)
	}

	p.operator.MustDo(t, `mutation { updateProject(input: {signupEnabled: true}) { project { id } } }`, nil, nil)
	res = b.get(login.String() + "&notice=account-created")
	if !strings.Contains(res.Body, `href="/p/`+p.id+`/signup?authRequest=`+id+`"`) || !strings.Contains(res.Body, "Your account is created") {
		t.Errorf("with signupEnabled and notice=account-created the page lacks the sign-up link or the notice:\n%s", res.Body)
	}
}

func TestLoginWithEmailTurnedOff(t *testing.T) {
	s := atriumtest.NewServer(t)
	p := newProject(t, s, "")
	a := p.newApp(t, client.CreateApplicationInput{Name: "SSO only", LoginWithEmailEnabled: ptr(false)})
	b := newBrowser(t, s)
	authorize, _ := p.authorizeURL(a, nil)
	login := p.loginPage(t, b, authorize)
	res := b.get(login.String())
	if res.StatusCode != http.StatusOK || strings.Contains(res.Body, `name="password"`) || !strings.Contains(res.Body, "does not offer email and password login") {
		t.Fatalf("login page of an application without email login: %d\n%s", res.StatusCode, res.Body)
	}
	res = b.post(login.String(), url.Values{"authRequest": {login.Query().Get("authRequest")}, "email": {p.email}, "password": {password}})
	if res.StatusCode != http.StatusForbidden || res.Header.Get("Location") != "" || len(res.Cookies()) != 0 {
		t.Fatalf("posting the form anyway: %d Location %q", res.StatusCode, res.Header.Get("Location"))
	}
}

// A wrong password shows the form again with the message; repeated
// failures meet the sign-in throttle, as GraphQL signIn does, which then
// refuses even the right password for a while.
func TestWrongPasswordsAndTheThrottle(t *testing.T) {
	s := atriumtest.NewServer(t)
	p := newProject(t, s, "")
	b := newBrowser(t, s)
	authorize, _ := p.authorizeURL(p.app, nil)
	login := p.loginPage(t, b, authorize)
	for i := range 5 {
		res := p.logIn(t, b, login, p.email, "wrong password "+string(rune('a'+i)))
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(res.Body, `name="password"`) || !strings.Contains(res.Body, `id="error"`) || !strings.Contains(res.Body, `value="`+p.email+`"`) {
			t.Fatalf("wrong password %d: %d\n%s", i, res.StatusCode, res.Body)
		}
	}
	res := p.logIn(t, b, login, p.email, password)
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Fatalf("the right password after 5 failures: %d Retry-After %q, want 429", res.StatusCode, res.Header.Get("Retry-After"))
	}
	// The same account is throttled in GraphQL too: one throttle.
	_, err := client.SignIn(t.Context(), s.Client("", ""), client.SignInInput{ApplicationId: p.app.ID, Email: p.email, Password: password})
	atriumtest.FailsWith(t, err, "RATE_LIMITED")
}

// The form is protected from cross-site posts (CrossOriginProtection); the
// session cookie is HttpOnly, SameSite=Lax and scoped to the project.
func TestLoginFormIsProtectedAndTheCookieScoped(t *testing.T) {
	s := atriumtest.NewServer(t)
	p := newProject(t, s, "")
	b := newBrowser(t, s)
	authorize, _ := p.authorizeURL(p.app, nil)
	login := p.loginPage(t, b, authorize)
	form := url.Values{"authRequest": {login.Query().Get("authRequest")}, "email": {p.email}, "password": {password}}
	post := func(headers ...string) page {
		req, _ := http.NewRequest(http.MethodPost, login.String(), strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		return b.do(req)
	}
	if res := post("Sec-Fetch-Site", "cross-site", "Origin", "http://evil.test"); res.StatusCode != http.StatusForbidden || len(res.Cookies()) != 0 {
		t.Fatalf("cross-site post: %d, want 403 and no session", res.StatusCode)
	}
	if res := post("Origin", "http://evil.test"); res.StatusCode != http.StatusForbidden {
		t.Fatalf("post from another origin: %d, want 403", res.StatusCode)
	}
	res := post("Sec-Fetch-Site", "same-origin", "Origin", publicURL)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("same-origin post: %d %s", res.StatusCode, res.Body)
	}
	var c *http.Cookie
	for _, k := range res.Cookies() {
		if k.Name == "atrium_session" {
			c = k
		}
	}
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/p/"+p.id+"/" || c.Secure || c.MaxAge <= 0 {
		t.Fatalf("session cookie %+v", c)
	}
	if strings.Contains(c.Value, p.user.UserID) {
		t.Fatal("the session cookie names the user")
	}
}

// An unknown or expired login request is an error page, never a redirect.
func TestUnknownLoginRequest(t *testing.T) {
	s := atriumtest.NewServer(t)
	p := newProject(t, s, "")
	b := newBrowser(t, s)
	for _, u := range []string{p.issuer + "/login", p.issuer + "/login?authRequest=00000000-0000-4000-8000-000000000000", p.issuer + "/authorize/callback?id=nope"} {
		res := b.get(u)
		if res.StatusCode != http.StatusNotFound || res.Header.Get("Location") != "" || !strings.Contains(res.Body, "start again") {
			t.Errorf("%s: %d Location %q\n%s", u, res.StatusCode, res.Header.Get("Location"), res.Body)
		}
	}
}
