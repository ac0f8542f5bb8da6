package provider_test

// What the provider's tests share: a project with an application and an
// active user, and a browser (an http.Client that keeps cookies, follows no
// redirect, so each hop is checked, and reaches the test server under its
// public name, atrium.test).

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"atrium/atriumtest"
	"atrium/client"
)

func TestMain(m *testing.M) { atriumtest.Main(m) }

const (
	publicURL = "http://atrium.test"
	appOrigin = "http://app.test"
	callback  = appOrigin + "/callback"
	logoutURL = appOrigin + "/bye"
	password  = "correct horse battery"
)

// project is a project with an application and an active user.
type project struct {
	s        *atriumtest.Server
	id       string
	issuer   string
	app      app
	user     atriumtest.Invitation
	email    string
	operator *atriumtest.Client
}

type app struct{ ID, ClientID string }

// newProject sets one up in the server's Sandbox, or a new project when
// name is not empty.
func newProject(t *testing.T, s *atriumtest.Server, name string) *project {
	t.Helper()
	pid := s.Sandbox
	if name != "" {
		pid = s.CreateProject(t, name)
	}
	op := s.Operator(pid)
	p := &project{s: s, id: pid, issuer: publicURL + "/p/" + pid, operator: op}
	p.app = p.newApp(t, client.CreateApplicationInput{Name: "Clinic " + name, RefreshTokenEnabled: ptr(true)})
	role := atriumtest.CreateRole(t, op, "Staff", atriumtest.Allow("*", "*"))
	p.email = "pat" + strings.ToLower(name) + "@example.com"
	p.user = atriumtest.Invite(t, op, client.InviteUserInput{ApplicationId: p.app.ID, Email: &p.email, Roles: []string{role}})
	s.Accept(t, p.user.Ticket, password)
	return p
}

// newApp creates an application with the test callback, logout URL and
// origin unless in names others.
func (p *project) newApp(t *testing.T, in client.CreateApplicationInput) app {
	t.Helper()
	if in.AllowedCallbackUrls == nil {
		in.AllowedCallbackUrls = []string{callback}
	}
	if in.AllowedLogoutUrls == nil {
		in.AllowedLogoutUrls = []string{logoutURL}
	}
	if in.AllowedCORSOriginsUrls == nil {
		in.AllowedCORSOriginsUrls = []string{appOrigin}
	}
	res, err := client.CreateApplication(t.Context(), p.operator, in)
	atriumtest.Must(t, err)
	return app{ID: res.CreateApplication.Application.Id, ClientID: res.CreateApplication.Application.ClientId}
}

func ptr[T any](v T) *T { return &v }

// browser is an HTTP client with cookies that shows every redirect.
type browser struct {
	t *testing.T
	*http.Client
}

func newBrowser(t *testing.T, s *atriumtest.Server) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, Client: &http.Client{Jar: jar, Transport: transport(s),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// transport reaches the test server for atrium.test.
func transport(s *atriumtest.Server) http.RoundTripper {
	addr := s.Listener.Addr().String()
	var d net.Dialer
	return &http.Transport{DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
		if a == "atrium.test:80" {
			a = addr
		}
		return d.DialContext(ctx, network, a)
	}}
}

// page is a response read in full.
type page struct {
	*http.Response
	Body string
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	res, err := b.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return page{res, string(body)}
}

func (b *browser) get(u string) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(u string, form url.Values) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// redirect checks that p redirects and returns where to.
func (p page) redirect(t *testing.T) *url.URL {
	t.Helper()
	if p.StatusCode != http.StatusFound && p.StatusCode != http.StatusSeeOther {
		t.Fatalf("%s %s: want a redirect, got %d: %.300s", p.Request.Method, p.Request.URL, p.StatusCode, p.Body)
	}
	u, err := p.Request.URL.Parse(p.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// pkce is a code verifier and its S256 challenge.
type pkce struct{ verifier, challenge string }

func newPKCE() pkce {
	v := oauth2.GenerateVerifier()
	sum := sha256.Sum256([]byte(v))
	return pkce{v, base64.RawURLEncoding.EncodeToString(sum[:])}
}

func random() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// authorization is one run of the code flow's front channel.
type authorization struct {
	pkce         pkce
	state, nonce string
	params       url.Values
}

func (p *project) authorizeURL(a app, extra url.Values) (string, *authorization) {
	z := &authorization{pkce: newPKCE(), state: random(), nonce: random()}
	q := url.Values{"client_id": {a.ClientID}, "redirect_uri": {callback}, "response_type": {"code"},
		"scope": {"openid profile email offline_access fhirUser"}, "state": {z.state}, "nonce": {z.nonce},
		"code_challenge": {z.pkce.challenge}, "code_challenge_method": {"S256"}}
	for k, v := range extra {
		if len(v) == 1 && v[0] == "" {
			q.Del(k)
		} else {
			q[k] = v
		}
	}
	z.params = q
	return p.issuer + "/authorize?" + q.Encode(), z
}

// loginPage follows /authorize to the login page and returns its URL.
func (p *project) loginPage(t *testing.T, b *browser, authorize string) *url.URL {
	t.Helper()
	to := b.get(authorize).redirect(t)
	if to.Host != "atrium.test" || to.Path != "/p/"+p.id+"/login" || to.Query().Get("authRequest") == "" {
		t.Fatalf("authorize sent the browser to %s, want the project's login page", to)
	}
	return to
}

// logIn posts the login form of the page at login and returns where the
// login sends the browser (the library's callback).
func (p *project) logIn(t *testing.T, b *browser, login *url.URL, email, pw string) page {
	t.Helper()
	form := b.get(login.String())
	if form.StatusCode != http.StatusOK || !strings.Contains(form.Body, `name="password"`) {
		t.Fatalf("login page: %d %.500s", form.StatusCode, form.Body)
	}
	return b.post(login.String(), url.Values{"authRequest": {login.Query().Get("authRequest")}, "email": {email}, "password": {pw}})
}

// code completes a login from /authorize to the code at the callback.
func (p *project) code(t *testing.T, b *browser, a app, extra url.Values) (string, *authorization) {
	t.Helper()
	authorize, z := p.authorizeURL(a, extra)
	login := p.loginPage(t, b, authorize)
	var cb *url.URL
	if form := b.get(login.String()); form.StatusCode == http.StatusSeeOther {
		cb = form.redirect(t) // the browser's session logged it in
	} else {
		cb = p.logIn(t, b, login, p.email, password).redirect(t)
	}
	return p.finish(t, b, cb, z), z
}

// finish follows the library's callback to the application's callback
// URL and returns the code.
func (p *project) finish(t *testing.T, b *browser, cb *url.URL, z *authorization) string {
	t.Helper()
	if cb.Path != "/p/"+p.id+"/authorize/callback" {
		t.Fatalf("the login sent the browser to %s, want the authorize callback", cb)
	}
	to := b.get(cb.String()).redirect(t)
	if got := to.Scheme + "://" + to.Host + to.Path; got != callback {
		t.Fatalf("the callback sent the browser to %s, want %s", to, callback)
	}
	if to.Query().Get("state") != z.state {
		t.Fatalf("state %q came back as %q", z.state, to.Query().Get("state"))
	}
	code := to.Query().Get("code")
	if code == "" {
		t.Fatalf("no code at the callback: %s", to)
	}
	return code
}

// rp is the application's side: go-oidc and x/oauth2 over the browser's
// transport.
type rp struct {
	ctx      context.Context
	provider *oidc.Provider
	conf     oauth2.Config
	verifier *oidc.IDTokenVerifier
}

func (p *project) rp(t *testing.T, a app) *rp {
	t.Helper()
	hc := &http.Client{Transport: transport(p.s)}
	ctx := oidc.ClientContext(context.WithValue(t.Context(), oauth2.HTTPClient, hc), hc)
	prov, err := oidc.NewProvider(ctx, p.issuer)
	if err != nil {
		t.Fatalf("discovery of %s: %v", p.issuer, err)
	}
	return &rp{ctx: ctx, provider: prov, verifier: prov.Verifier(&oidc.Config{ClientID: a.ClientID}),
		conf: oauth2.Config{ClientID: a.ClientID, Endpoint: prov.Endpoint(), RedirectURL: callback,
			Scopes: []string{oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess, "fhirUser"}}}
}

// exchange swaps a code for tokens.
func (r *rp) exchange(code string, z *authorization) (*oauth2.Token, error) {
	return r.conf.Exchange(r.ctx, code, oauth2.VerifierOption(z.pkce.verifier))
}

// idToken verifies the ID token of tok.
func (r *rp) idToken(t *testing.T, tok *oauth2.Token) *oidc.IDToken {
	t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		t.Fatal("no id_token in the token response")
	}
	id, err := r.verifier.Verify(r.ctx, raw)
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	return id
}

// refresh runs the refresh grant with a refresh token.
func (r *rp) refresh(refreshToken string) (*oauth2.Token, error) {
	return r.conf.TokenSource(r.ctx, &oauth2.Token{RefreshToken: refreshToken}).Token()
}

func asRetrieve(err error, re **oauth2.RetrieveError) bool { return errors.As(err, re) }

func base64URL(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
