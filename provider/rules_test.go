package provider_test

// The provider's rules beside the flow: isolation between projects,
// redirect URIs matched exactly (never an open redirect), unknown projects,
// CORS by the project's applications, logout, single sign-on with prompt
// and max_age, and a disabled or deleted user's logins ending.

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"atrium/atriumtest"
	"atrium/client"
)

// A client, code, refresh token or key of project A is refused at B.
func TestProjectsAreIsolated(t *testing.T) {
	s := atriumtest.NewServer(t)
	a := newProject(t, s, "A")
	bp := newProject(t, s, "B")
	br := newBrowser(t, s)
	code, z := a.code(t, br, a.app, nil)

	t.Run("A's client at B's authorize", func(t *testing.T) {
		u, _ := a.authorizeURL(a.app, nil)
		u = strings.Replace(u, a.issuer, bp.issuer, 1)
		res := newBrowser(t, s).get(u)
		if res.StatusCode != http.StatusBadRequest || res.Header.Get("Location") != "" {
			t.Fatalf("B's authorize with A's client: %d Location %q, want 400 and no redirect", res.StatusCode, res.Header.Get("Location"))
		}
	})
	atB := bp.rp(t, bp.app)
	atB.conf.ClientID = a.app.ClientID
	t.Run("A's code at B's token endpoint", func(t *testing.T) {
		if _, err := atB.exchange(code, z); err == nil {
			t.Fatal("B exchanged A's code")
		}
	})
	// The code is spent now (a refused exchange spends it too); get another.
	code, z = a.code(t, br, a.app, nil)
	atA := a.rp(t, a.app)
	tok, err := atA.exchange(code, z)
	atriumtest.Must(t, err)
	t.Run("A's refresh token at B", func(t *testing.T) {
		if _, err := atB.refresh(tok.RefreshToken); err == nil {
			t.Fatal("B refreshed A's refresh token")
		}
		if _, err := atA.refresh(tok.RefreshToken); err != nil {
			t.Fatalf("A's refresh token no longer works at A after B refused it: %v", err)
		}
	})
	t.Run("A's access token at B's userinfo", func(t *testing.T) {
		if _, err := atB.provider.UserInfo(atB.ctx, oauth2.StaticTokenSource(tok)); err == nil {
			t.Fatal("B's userinfo accepted A's access token")
		}
	})
	t.Run("A's ID token at B", func(t *testing.T) {
		raw, _ := tok.Extra("id_token").(string)
		if _, err := atB.provider.Verifier(&oidc.Config{ClientID: a.app.ClientID}).Verify(atB.ctx, raw); err == nil {
			t.Fatal("A's ID token verifies with B's keys")
		}
	})
	t.Run("keys differ", func(t *testing.T) {
		code, z := bp.code(t, br, bp.app, nil) // B signs its first token
		if _, err := bp.rp(t, bp.app).exchange(code, z); err != nil {
			t.Fatal(err)
		}
		ka, kb := keyIDs(t, br, a), keyIDs(t, br, bp)
		for k := range ka {
			if kb[k] {
				t.Fatalf("A and B publish the same key %s", k)
			}
		}
	})
}

func keyIDs(t *testing.T, b *browser, p *project) map[string]bool {
	t.Helper()
	res := b.get(p.issuer + "/keys")
	var set struct {
		Keys []struct {
			KID string `json:"kid"`
			Alg string `json:"alg"`
		} `json:"keys"`
	}
	if res.StatusCode != http.StatusOK || json.Unmarshal([]byte(res.Body), &set) != nil || len(set.Keys) == 0 {
		t.Fatalf("%s/keys: %d %s", p.issuer, res.StatusCode, res.Body)
	}
	out := map[string]bool{}
	for _, k := range set.Keys {
		out[k.KID] = true
	}
	return out
}

// A redirect_uri that is not exactly one of allowedCallbackUrls gets an
// error page, never a redirect.
func TestRedirectURIsMatchExactly(t *testing.T) {
	s := atriumtest.NewServer(t)
	p := newProject(t, s, "")
	for _, uri := range []string{
		"http://evil.test/callback",
		"http://app.test/callback/",
		"http://app.test/callbackx",
		"http://app.test/callback?next=http://evil.test",
		"http://app.test/callback#x",
		"http://app.test/callback/../evil",
		"HTTP://APP.TEST/callback",
		"http://app.test:80/callback",
		"http://app.test.evil.test/callback",
		"http://user@app.test/callback",
		"//evil.test/callback",
		"javascript:alert(1)",
		"",
	} {
		t.Run(uri, func(t *testing.T) {
			u, _ := p.authorizeURL(p.app, url.Values{"redirect_uri": {uri}})
			if uri == "" {
				u, _ = p.authorizeURL(p.app, url.Values{"redirect_uri": {""}})
			}
			res := newBrowser(t, s).get(u)
			if res.StatusCode != http.StatusBadRequest || res.Header.Get("Location") != "" {
				t.Fatalf("redirect_uri %q: %d Location %q, want 400 and no redirect", uri, res.StatusCode, res.Header.Get("Location"))
			}
		})
	}
}

// Every path of an unknown project is 404, and nothing is stored for it.
func TestUnknownProjectIsNotFound(t *testing.T) {
	s := atriumtest.NewServer(t)
	p := newProject(t, s, "")
	b := newBrowser(t, s)
	for _, pid := range []string{"00000000-0000-4000-8000-000000000000", "not-a-project", "%2e%2e"} {
		for _, path := range []string{"/.well-known/openid-configuration", "/keys", "/authorize", "/authorize/callback?id=x",
			"/oauth/token", "/userinfo", "/revoke", "/oauth/introspect", "/end_session", "/login?authRequest=x", "/logged-out", "/anything"} {
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				req, _ := http.NewRequest(method, publicURL+"/p/"+pid+path, nil)
				if res := b.do(req); res.StatusCode != http.StatusNotFound {
					t.Errorf("%s /p/%s%s: %d, want 404", method, pid, path, res.StatusCode)
				}
			}
		}
	}
	// The known project answers.
	if res := b.get(p.issuer + "/.well-known/openid-configuration"); res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `"issuer":"`+p.issuer+`"`) {
		t.Fatalf("discovery: %d %s", res.StatusCode, res.Body)
	}
}

// CORS on the provider's endpoints follows the project's applications'
// origins, not the library's allow-all default; another project's
// application's origin is not this project's.
func TestCORSFollowsTheProjectsApplications(t *testing.T) {
	s := atriumtest.NewServer(t)
	p := newProject(t, s, "")
	other := newProject(t, s, "Other")
	other.newApp(t, client.CreateApplicationInput{Name: "Elsewhere", AllowedCORSOriginsUrls: []string{"http://elsewhere.test"}})
	p.newApp(t, client.CreateApplicationInput{Name: "Web origin", AllowedCORSOriginsUrls: []string{}, AllowedWebOriginsUrls: []string{"http://web.test"}})
	b := newBrowser(t, s)
	for _, tc := range []struct {
		origin string
		allow  bool
	}{
		{appOrigin, true},
		{"http://web.test", true},
		{"http://evil.test", false},
		{"http://elsewhere.test", false},
		{"https://app.example.com", false}, // the API's configured origin is not the provider's
	} {
		for _, path := range []string{"/oauth/token", "/userinfo", "/revoke", "/.well-known/openid-configuration"} {
			req, _ := http.NewRequest(http.MethodOptions, p.issuer+path, nil)
			req.Header.Set("Origin", tc.origin)
			req.Header.Set("Access-Control-Request-Method", http.MethodPost)
			req.Header.Set("Access-Control-Request-Headers", "content-type")
			res := b.do(req)
			got := res.Header.Get("Access-Control-Allow-Origin")
			if tc.allow && got != tc.origin || !tc.allow && got != "" {
				t.Errorf("preflight of %s from %s: Access-Control-Allow-Origin %q (allowed: %v)", path, tc.origin, got, tc.allow)
			}
			if res.Header.Get("Access-Control-Allow-Credentials") != "" {
				t.Errorf("preflight of %s allows credentials", path)
			}
		}
	}
}

// Logout ends the browser's session and returns only to allowedLogoutUrls.
func TestLogout(t *testing.T) {
	s := atriumtest.NewServer(t)
	p := newProject(t, s, "")
	b := newBrowser(t, s)
	code, z := p.code(t, b, p.app, nil)
	tok, err := p.rp(t, p.app).exchange(code, z)
	atriumtest.Must(t, err)
	idToken, _ := tok.Extra("id_token").(string)

	for _, bad := range []string{"http://evil.test/bye", logoutURL + "/", callback} {
		res := b.get(p.issuer + "/end_session?" + url.Values{"client_id": {p.app.ClientID}, "post_logout_redirect_uri": {bad}}.Encode())
		if res.StatusCode != http.StatusBadRequest || res.Header.Get("Location") != "" {
			t.Fatalf("logout to %s: %d Location %q, want 400 and no redirect", bad, res.StatusCode, res.Header.Get("Location"))
		}
	}
	// Still logged in: the session survived the refused logouts.
	authorize, _ := p.authorizeURL(p.app, url.Values{"prompt": {"none"}})
	if to := b.get(p.loginPage(t, b, authorize).String()).redirect(t); to.Path != "/p/"+p.id+"/authorize/callback" {
		t.Fatalf("prompt=none with a session went to %s", to)
	}

	to := b.get(p.issuer + "/end_session?" + url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {logoutURL}, "state": {"s1"}}.Encode()).redirect(t)
	if to.Scheme+"://"+to.Host+to.Path != logoutURL || to.Query().Get("state") != "s1" {
		t.Fatalf("logout sent the browser to %s, want %s with the state", to, logoutURL)
	}
	authorize, _ = p.authorizeURL(p.app, url.Values{"prompt": {"none"}})
	to = b.get(p.loginPage(t, b, authorize).String()).redirect(t)
	if to.Scheme+"://"+to.Host+to.Path != callback || to.Query().Get("error") != "login_required" {
		t.Fatalf("prompt=none after logout went to %s, want login_required at the callback", to)
	}
	// Without a redirect URI: the logged-out page.
	to = b.get(p.issuer + "/end_session").redirect(t)
	if res := b.get(to.String()); to.Path != "/p/"+p.id+"/logged-out" || res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "logged out") {
		t.Fatalf("logout without a redirect: %s %d", to, res.StatusCode)
	}
}

// One login serves the project's other applications (single sign-on);
// prompt=login and max_age ask again; prompt=none without a session is
// login_required; another project's session is not this one's.
func TestSingleSignOnAndPrompts(t *testing.T) {
	clock := atriumtest.NewClock(time.Now())
	s := atriumtest.NewServer(t, atriumtest.WithClock(clock))
	p := newProject(t, s, "")
	second := p.newApp(t, client.CreateApplicationInput{Name: "Second app"})
	other := newProject(t, s, "Other")
	b := newBrowser(t, s)

	authorize, _ := other.authorizeURL(other.app, url.Values{"prompt": {"none"}})
	to := b.get(other.loginPage(t, b, authorize).String()).redirect(t)
	if to.Query().Get("error") != "login_required" {
		t.Fatalf("prompt=none without a session went to %s, want login_required", to)
	}

	p.code(t, b, p.app, nil)
	authorize, z := p.authorizeURL(second, nil)
	cb := b.get(p.loginPage(t, b, authorize).String()).redirect(t)
	code := p.finish(t, b, cb, z)
	tok, err := p.rp(t, second).exchange(code, z)
	atriumtest.Must(t, err)
	if id := p.rp(t, second).idToken(t, tok); id.Subject != p.user.UserID {
		t.Fatalf("single sign-on logged in %s, want %s", id.Subject, p.user.UserID)
	}

	authorize, _ = p.authorizeURL(second, url.Values{"prompt": {"login"}})
	if res := b.get(p.loginPage(t, b, authorize).String()); res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `name="password"`) {
		t.Fatalf("prompt=login with a session: %d, want the login form", res.StatusCode)
	}

	clock.Advance(2 * time.Minute)
	authorize, _ = p.authorizeURL(second, url.Values{"max_age": {"60"}})
	if res := b.get(p.loginPage(t, b, authorize).String()); res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `name="password"`) {
		t.Fatalf("max_age=60 with a 2-minute-old session: %d, want the login form", res.StatusCode)
	}
	authorize, _ = p.authorizeURL(second, url.Values{"max_age": {"3600"}})
	if to := b.get(p.loginPage(t, b, authorize).String()).redirect(t); to.Path != "/p/"+p.id+"/authorize/callback" {
		t.Fatalf("max_age=3600 with a 2-minute-old session went to %s, want the callback", to)
	}

	authorize, _ = other.authorizeURL(other.app, url.Values{"prompt": {"none"}})
	to = b.get(other.loginPage(t, b, authorize).String()).redirect(t)
	if to.Query().Get("error") != "login_required" {
		t.Fatalf("another project's session logged in at %s: went to %s", other.id, to)
	}
}

// The code goes only to the browser that logged in: the callback of a
// login completed elsewhere is refused.
func TestCallbackNeedsTheBrowserThatLoggedIn(t *testing.T) {
	s := atriumtest.NewServer(t)
	p := newProject(t, s, "")
	victim, attacker := newBrowser(t, s), newBrowser(t, s)
	authorize, _ := p.authorizeURL(p.app, nil)
	login := p.loginPage(t, attacker, authorize)
	cb := p.logIn(t, victim, login, p.email, password).redirect(t)
	res := attacker.get(cb.String())
	if res.StatusCode != http.StatusForbidden || res.Header.Get("Location") != "" {
		t.Fatalf("callback in another browser: %d Location %q", res.StatusCode, res.Header.Get("Location"))
	}
}

// Disabling or deleting a user ends its browser sessions and refresh
// tokens at once.
func TestDisabledOrDeletedUsersLoginsEnd(t *testing.T) {
	s := atriumtest.NewServer(t)
	for _, how := range []string{"disable", "delete"} {
		t.Run(how, func(t *testing.T) {
			p := newProject(t, s, how)
			b := newBrowser(t, s)
			code, z := p.code(t, b, p.app, nil)
			r := p.rp(t, p.app)
			tok, err := r.exchange(code, z)
			atriumtest.Must(t, err)
			p.operator.MustDo(t, `mutation($id: ID!) { `+how+`User(input: {id: $id}) { __typename } }`, map[string]any{"id": p.user.UserID}, nil)
			if _, err := r.refresh(tok.RefreshToken); !invalidGrant(err) {
				t.Fatalf("refresh after %s: %v, want invalid_grant", how, err)
			}
			if _, err := r.provider.UserInfo(r.ctx, oauth2.StaticTokenSource(tok)); err == nil {
				t.Fatalf("userinfo after %s succeeded", how)
			}
			authorize, _ := p.authorizeURL(p.app, url.Values{"prompt": {"none"}})
			if to := b.get(p.loginPage(t, b, authorize).String()).redirect(t); to.Query().Get("error") != "login_required" {
				t.Fatalf("prompt=none after %s went to %s, want login_required", how, to)
			}
		})
	}
}

// The revocation endpoint ends a refresh token's family; another
// application's token is refused.
func TestRevocationEndpoint(t *testing.T) {
	s := atriumtest.NewServer(t)
	p := newProject(t, s, "")
	b := newBrowser(t, s)
	code, z := p.code(t, b, p.app, nil)
	r := p.rp(t, p.app)
	tok, err := r.exchange(code, z)
	atriumtest.Must(t, err)
	otherApp := p.newApp(t, client.CreateApplicationInput{Name: "Other app"})
	revoke := func(clientID, token string) page {
		return b.post(p.issuer+"/revoke", url.Values{"client_id": {clientID}, "token": {token}})
	}
	if res := revoke(otherApp.ClientID, tok.RefreshToken); res.StatusCode == http.StatusOK {
		t.Fatalf("another application revoked the token: %d %s", res.StatusCode, res.Body)
	}
	if _, err := r.refresh(tok.RefreshToken); err != nil {
		t.Fatalf("refresh after a refused revocation: %v", err)
	}
	code, z = p.code(t, b, p.app, nil)
	tok, err = r.exchange(code, z)
	atriumtest.Must(t, err)
	if res := revoke(p.app.ClientID, tok.RefreshToken); res.StatusCode != http.StatusOK {
		t.Fatalf("revocation: %d %s", res.StatusCode, res.Body)
	}
	if _, err := r.refresh(tok.RefreshToken); !invalidGrant(err) {
		t.Fatalf("refresh after revocation: %v, want invalid_grant", err)
	}
	if res := revoke(p.app.ClientID, "not-a-token"); res.StatusCode != http.StatusOK {
		t.Fatalf("revoking an unknown token: %d %s, want 200 (RFC 7009)", res.StatusCode, res.Body)
	}
}
