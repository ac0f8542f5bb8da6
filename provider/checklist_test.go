package provider_test

// The Basic OP checklist: the modules of the OpenID Foundation's
// conformance plan oidcc-basic-certification-test-plan
// (OIDCCBasicTestPlan.java), which cannot run here, as Go tests against a
// real Atrium. Each test names the module it stands for. Where a module
// does not apply to Atrium (dynamic registration options, request
// objects), the test shows the clean refusal instead.

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"atrium/atriumtest"
)

// checklist is a project with a logged-in browser, shared by the modules.
type checklist struct {
	*project
	b *browser
	r *rp
}

func newChecklist(t *testing.T) *checklist {
	s := atriumtest.NewServer(t)
	p := newProject(t, s, "")
	return &checklist{project: p, b: newBrowser(t, s), r: p.rp(t, p.app)}
}

// flow runs the code flow with extra authorize parameters and exchanges
// the code.
func (c *checklist) flow(t *testing.T, extra url.Values) (*oauth2.Token, *authorization) {
	t.Helper()
	code, z := c.code(t, c.b, c.app, extra)
	tok, err := c.r.exchange(code, z)
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return tok, z
}

// authorizeError runs /authorize and expects an error redirect to the
// callback; it returns the error code.
func (c *checklist) authorizeError(t *testing.T, extra url.Values) string {
	t.Helper()
	u, z := c.authorizeURL(c.app, extra)
	to := c.b.get(u).redirect(t)
	if to.Scheme+"://"+to.Host+to.Path != callback || to.Query().Get("code") != "" {
		t.Fatalf("authorize went to %s, want an error at the callback", to)
	}
	if st := to.Query().Get("state"); st != z.state {
		t.Fatalf("error redirect state %q, want %q", st, z.state)
	}
	return to.Query().Get("error")
}

// oidcc-server: the code flow; the ID token's iss, aud, sub, nonce, iat,
// exp and auth_time; the state comes back.
func TestBasicOP_oidcc_server(t *testing.T) {
	c := newChecklist(t)
	tok, z := c.flow(t, nil)
	id := c.r.idToken(t, tok)
	var claims struct {
		AuthTime int64 `json:"auth_time"`
		IAT      int64 `json:"iat"`
	}
	atriumtest.Must(t, id.Claims(&claims))
	now := time.Now()
	if id.Issuer != c.issuer || !slices.Contains(id.Audience, c.app.ClientID) || id.Subject != c.user.UserID || id.Nonce != z.nonce ||
		!id.Expiry.After(now) || claims.IAT > now.Unix()+5 || claims.AuthTime == 0 || claims.AuthTime > now.Unix()+5 {
		t.Fatalf("ID token %+v, auth_time %d iat %d", id, claims.AuthTime, claims.IAT)
	}
	if tok.TokenType != "Bearer" || tok.AccessToken == "" {
		t.Fatalf("token response: type %q", tok.TokenType)
	}
}

// oidcc-response-type-missing: without response_type the client hears an
// error, not a code.
func TestBasicOP_oidcc_response_type_missing(t *testing.T) {
	c := newChecklist(t)
	if e := c.authorizeError(t, url.Values{"response_type": {""}}); e == "" {
		t.Fatal("no error code")
	}
}

// oidcc-idtoken-signature: the ID token is signed ES256 with a kid the
// issuer's JWKS publishes (go-oidc verified it against the JWKS).
// oidcc-idtoken-unsigned: Atrium never issues an unsigned ID token; the
// discovery document offers only ES256.
func TestBasicOP_oidcc_idtoken_signature_and_unsigned(t *testing.T) {
	c := newChecklist(t)
	tok, _ := c.flow(t, nil)
	raw, _ := tok.Extra("id_token").(string)
	header, _, _ := strings.Cut(raw, ".")
	var h struct{ Alg, Kid string }
	atriumtest.Must(t, decodeSegment(header, &h))
	if h.Alg != "ES256" || !keyIDs(t, c.b, c.project)[h.Kid] {
		t.Fatalf("ID token header %+v, want ES256 with a published kid", h)
	}
	var d struct {
		Algs []string `json:"id_token_signing_alg_values_supported"`
	}
	atriumtest.Must(t, json.Unmarshal([]byte(c.b.get(c.issuer+"/.well-known/openid-configuration").Body), &d))
	if !slices.Equal(d.Algs, []string{"ES256"}) {
		t.Fatalf("id_token_signing_alg_values_supported %v, want [ES256] (never none)", d.Algs)
	}
	// An unsigned token (alg none) made from the real one is refused.
	_, payload, _ := strings.Cut(raw, ".")
	payload, _, _ = strings.Cut(payload, ".")
	unsigned := "eyJhbGciOiJub25lIn0." + payload + "."
	if _, err := c.r.verifier.Verify(c.r.ctx, unsigned); err == nil {
		t.Fatal("an unsigned ID token verified")
	}
	if res := c.userinfo(t, http.MethodGet, unsigned, "header"); res.StatusCode == http.StatusOK {
		t.Fatal("userinfo accepted an unsigned token")
	}
}

// userinfo calls the userinfo endpoint with an access token in the
// header or the body.
func (c *checklist) userinfo(t *testing.T, method, token, where string) page {
	t.Helper()
	var body io.Reader
	if where == "body" {
		body = strings.NewReader(url.Values{"access_token": {token}}.Encode())
	}
	req, _ := http.NewRequest(method, c.issuer+"/userinfo", body)
	if where == "header" {
		req.Header.Set("Authorization", "Bearer "+token)
	} else {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return c.b.do(req)
}

// oidcc-userinfo-get, oidcc-userinfo-post-header, oidcc-userinfo-post-body.
func TestBasicOP_oidcc_userinfo(t *testing.T) {
	c := newChecklist(t)
	tok, _ := c.flow(t, nil)
	for _, tc := range []struct{ module, method, where string }{
		{"oidcc-userinfo-get", http.MethodGet, "header"},
		{"oidcc-userinfo-post-header", http.MethodPost, "header"},
		{"oidcc-userinfo-post-body", http.MethodPost, "body"},
	} {
		t.Run(tc.module, func(t *testing.T) {
			res := c.userinfo(t, tc.method, tok.AccessToken, tc.where)
			var info struct{ Sub, Email string }
			if res.StatusCode != http.StatusOK || json.Unmarshal([]byte(res.Body), &info) != nil || info.Sub != c.user.UserID || info.Email != c.email {
				t.Fatalf("%d %s", res.StatusCode, res.Body)
			}
		})
	}
}

// oidcc-ensure-request-without-nonce-succeeds-for-code-flow.
func TestBasicOP_oidcc_ensure_request_without_nonce_succeeds_for_code_flow(t *testing.T) {
	c := newChecklist(t)
	tok, _ := c.flow(t, url.Values{"nonce": {""}})
	if id := c.r.idToken(t, tok); id.Nonce != "" {
		t.Fatalf("nonce %q in the ID token of a request without one", id.Nonce)
	}
}

// oidcc-scope-profile, oidcc-scope-email, oidcc-scope-address,
// oidcc-scope-phone, oidcc-scope-all, oidcc-ensure-other-scope-order-
// succeeds: each scope's claims in userinfo; Atrium keeps no address and no
// phone claim for email users, so those scopes add none (and fail nothing).
func TestBasicOP_oidcc_scopes(t *testing.T) {
	c := newChecklist(t)
	for _, tc := range []struct {
		module, scope string
		want, not     []string
	}{
		{"oidcc-scope-profile", "openid profile", []string{"name", "updated_at"}, []string{"email"}},
		{"oidcc-scope-email", "openid email", []string{"email"}, []string{"name"}},
		{"oidcc-scope-address", "openid address", nil, []string{"email", "name", "address"}},
		{"oidcc-scope-phone", "openid phone", nil, []string{"email", "name"}},
		{"oidcc-scope-all", "openid profile email address phone", []string{"name", "email"}, nil},
		{"oidcc-ensure-other-scope-order-succeeds", "email openid", []string{"email"}, nil},
	} {
		t.Run(tc.module, func(t *testing.T) {
			tok, _ := c.flow(t, url.Values{"scope": {tc.scope}})
			res := c.userinfo(t, http.MethodGet, tok.AccessToken, "header")
			var info map[string]any
			if res.StatusCode != http.StatusOK || json.Unmarshal([]byte(res.Body), &info) != nil || info["sub"] != c.user.UserID {
				t.Fatalf("userinfo: %d %s", res.StatusCode, res.Body)
			}
			for _, k := range tc.want {
				if info[k] == nil {
					t.Errorf("scope %q: no %s in %v", tc.scope, k, info)
				}
			}
			for _, k := range tc.not {
				if info[k] != nil {
					t.Errorf("scope %q: %s in %v", tc.scope, k, info)
				}
			}
		})
	}
}

// oidcc-display-page, oidcc-display-popup, oidcc-unknown-parameter,
// oidcc-ui-locales, oidcc-claims-locales, oidcc-login-hint,
// oidcc-ensure-request-with-acr-values-succeeds, oidcc-claims-essential:
// parameters Atrium does not act on are accepted and the flow succeeds.
func TestBasicOP_oidcc_accepted_parameters(t *testing.T) {
	c := newChecklist(t)
	for module, extra := range map[string]url.Values{
		"oidcc-display-page":                            {"display": {"page"}},
		"oidcc-display-popup":                           {"display": {"popup"}},
		"oidcc-unknown-parameter":                       {"extra": {"foobar"}},
		"oidcc-ui-locales":                              {"ui_locales": {"se"}},
		"oidcc-claims-locales":                          {"claims_locales": {"se"}},
		"oidcc-login-hint":                              {"login_hint": {"someone@example.com"}},
		"oidcc-ensure-request-with-acr-values-succeeds": {"acr_values": {"1 2"}},
		"oidcc-claims-essential":                        {"claims": {`{"userinfo":{"name":{"essential":true}}}`}},
	} {
		t.Run(module, func(t *testing.T) {
			tok, _ := c.flow(t, extra)
			c.r.idToken(t, tok)
		})
	}
}

// oidcc-prompt-login, oidcc-prompt-none-not-logged-in,
// oidcc-prompt-none-logged-in.
func TestBasicOP_oidcc_prompt(t *testing.T) {
	c := newChecklist(t)
	t.Run("oidcc-prompt-none-not-logged-in", func(t *testing.T) {
		u, _ := c.authorizeURL(c.app, url.Values{"prompt": {"none"}})
		to := c.b.get(c.loginPage(t, c.b, u).String()).redirect(t)
		if to.Query().Get("error") != "login_required" {
			t.Fatalf("went to %s", to)
		}
	})
	first, _ := c.flow(t, nil)
	t.Run("oidcc-prompt-none-logged-in", func(t *testing.T) {
		u, z := c.authorizeURL(c.app, url.Values{"prompt": {"none"}})
		cb := c.b.get(c.loginPage(t, c.b, u).String()).redirect(t)
		tok, err := c.r.exchange(c.finish(t, c.b, cb, z), z)
		atriumtest.Must(t, err)
		if c.r.idToken(t, tok).Subject != c.user.UserID {
			t.Fatal("another subject")
		}
	})
	t.Run("oidcc-prompt-login", func(t *testing.T) {
		time.Sleep(1100 * time.Millisecond) // auth_time has a second's precision
		tok, _ := c.flow(t, url.Values{"prompt": {"login"}})
		if !c.r.idToken(t, tok).IssuedAt.After(c.r.idToken(t, first).IssuedAt) || authTime(t, c, tok) <= authTime(t, c, first) {
			t.Fatal("prompt=login did not log in again")
		}
	})
}

func authTime(t *testing.T, c *checklist, tok *oauth2.Token) int64 {
	var claims struct {
		AuthTime int64 `json:"auth_time"`
	}
	atriumtest.Must(t, c.r.idToken(t, tok).Claims(&claims))
	return claims.AuthTime
}

// oidcc-max-age-1, oidcc-max-age-10000.
func TestBasicOP_oidcc_max_age(t *testing.T) {
	c := newChecklist(t)
	first, _ := c.flow(t, nil)
	time.Sleep(2100 * time.Millisecond)
	t.Run("oidcc-max-age-1", func(t *testing.T) {
		u, _ := c.authorizeURL(c.app, url.Values{"max_age": {"1"}})
		if res := c.b.get(c.loginPage(t, c.b, u).String()); res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `name="password"`) {
			t.Fatalf("max_age=1 with an older session: %d, want the login form", res.StatusCode)
		}
		tok, _ := c.flow(t, url.Values{"max_age": {"1"}})
		if authTime(t, c, tok) <= authTime(t, c, first) {
			t.Fatal("auth_time did not move")
		}
	})
	t.Run("oidcc-max-age-10000", func(t *testing.T) {
		u, z := c.authorizeURL(c.app, url.Values{"max_age": {"10000"}})
		cb := c.b.get(c.loginPage(t, c.b, u).String()).redirect(t)
		tok, err := c.r.exchange(c.finish(t, c.b, cb, z), z)
		atriumtest.Must(t, err)
		if authTime(t, c, tok) == 0 {
			t.Fatal("no auth_time with max_age")
		}
	})
}

// oidcc-id-token-hint: prompt=none with the previous ID token as
// id_token_hint logs the same user in.
func TestBasicOP_oidcc_id_token_hint(t *testing.T) {
	c := newChecklist(t)
	first, _ := c.flow(t, nil)
	hint, _ := first.Extra("id_token").(string)
	u, z := c.authorizeURL(c.app, url.Values{"prompt": {"none"}, "id_token_hint": {hint}})
	cb := c.b.get(c.loginPage(t, c.b, u).String()).redirect(t)
	tok, err := c.r.exchange(c.finish(t, c.b, cb, z), z)
	atriumtest.Must(t, err)
	if c.r.idToken(t, tok).Subject != c.user.UserID {
		t.Fatal("another subject")
	}
}

// oidcc-codereuse, oidcc-codereuse-30seconds: a code works once, and its
// reuse (even later) revokes the tokens issued from it.
func TestBasicOP_oidcc_codereuse(t *testing.T) {
	c := newChecklist(t)
	code, z := c.code(t, c.b, c.app, nil)
	tok, err := c.r.exchange(code, z)
	atriumtest.Must(t, err)
	if _, err := c.r.exchange(code, z); !invalidGrant(err) {
		t.Fatalf("reuse: %v", err)
	}
	if res := c.userinfo(t, http.MethodGet, tok.AccessToken, "header"); res.StatusCode == http.StatusOK {
		t.Fatal("the access token survived the code's reuse")
	}
}

// oidcc-ensure-registered-redirect-uri: an unregistered redirect_uri is an
// error page (TestRedirectURIsMatchExactly tries many).
func TestBasicOP_oidcc_ensure_registered_redirect_uri(t *testing.T) {
	c := newChecklist(t)
	u, _ := c.authorizeURL(c.app, url.Values{"redirect_uri": {"https://unregistered.example.com/cb"}})
	if res := c.b.get(u); res.StatusCode != http.StatusBadRequest || res.Header.Get("Location") != "" {
		t.Fatalf("%d %q", res.StatusCode, res.Header.Get("Location"))
	}
}

// oidcc-ensure-post-request-succeeds: the authorization request as a form
// POST.
func TestBasicOP_oidcc_ensure_post_request_succeeds(t *testing.T) {
	c := newChecklist(t)
	_, z := c.authorizeURL(c.app, nil)
	to := c.b.post(c.issuer+"/authorize", z.params).redirect(t)
	if to.Path != "/p/"+c.id+"/login" {
		t.Fatalf("POST /authorize went to %s", to)
	}
	cb := c.logIn(t, c.b, to, c.email, password).redirect(t)
	if _, err := c.r.exchange(c.finish(t, c.b, cb, z), z); err != nil {
		t.Fatal(err)
	}
}

// oidcc-server-client-secret-post: discovery offers client_secret_post;
// Atrium's applications are public clients (PKCE) until they are given a
// secret, and a client_secret does not stand in for the PKCE verifier.
func TestBasicOP_oidcc_server_client_secret_post(t *testing.T) {
	c := newChecklist(t)
	var d struct {
		Methods []string `json:"token_endpoint_auth_methods_supported"`
	}
	atriumtest.Must(t, json.Unmarshal([]byte(c.b.get(c.issuer+"/.well-known/openid-configuration").Body), &d))
	if !slices.Contains(d.Methods, "client_secret_post") || !slices.Contains(d.Methods, "none") {
		t.Fatalf("token_endpoint_auth_methods_supported %v", d.Methods)
	}
	code, _ := c.code(t, c.b, c.app, nil)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callback},
		"client_id": {c.app.ClientID}, "client_secret": {"a-guessed-secret"}}
	if res := c.b.post(c.issuer+"/oauth/token", form); res.StatusCode == http.StatusOK {
		t.Fatalf("a public client's exchange with a client_secret and no PKCE verifier succeeded: %s", res.Body)
	}
}

// oidcc-request-uri-unsigned, oidcc-unsigned-request-object-supported-
// correctly-or-rejected-as-unsupported: Atrium does not take request
// objects; discovery says so and a request parameter is refused with
// request_not_supported.
func TestBasicOP_oidcc_request_objects_refused(t *testing.T) {
	c := newChecklist(t)
	var d map[string]any
	atriumtest.Must(t, json.Unmarshal([]byte(c.b.get(c.issuer+"/.well-known/openid-configuration").Body), &d))
	if d["request_parameter_supported"] == true || d["request_uri_parameter_supported"] == true {
		t.Fatalf("discovery offers request objects: %v %v", d["request_parameter_supported"], d["request_uri_parameter_supported"])
	}
	if e := c.authorizeError(t, url.Values{"request": {"eyJhbGciOiJub25lIn0.eyJzY29wZSI6Im9wZW5pZCJ9."}}); e != "request_not_supported" {
		t.Fatalf("request object: error %q, want request_not_supported", e)
	}
}

// oidcc-refresh-token: TestRefreshTokensRotateAndReuseRevokesTheFamily.
// oidcc-ensure-pkce (valid PKCE): TestCodeFlowWithPKCE and
// TestPKCEVerifierIsChecked.

func decodeSegment(seg string, v any) error {
	raw, err := base64URL(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}
