package provider_test

// The Authorization Code + PKCE flow, hop by hop, verified with go-oidc and
// x/oauth2: the ID token, userinfo, refresh rotation and the revocation of
// a family on reuse, single-use codes.

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"atrium/atriumtest"
	"atrium/client"
)

func TestCodeFlowWithPKCE(t *testing.T) {
	s := atriumtest.NewServer(t)
	p := newProject(t, s, "")
	b := newBrowser(t, s)
	code, z := p.code(t, b, p.app, nil)
	r := p.rp(t, p.app)
	tok, err := r.exchange(code, z)
	if err != nil {
		t.Fatalf("exchanging the code: %v", err)
	}
	id := r.idToken(t, tok)
	if id.Issuer != p.issuer || !slices.Contains(id.Audience, p.app.ClientID) || id.Nonce != z.nonce || id.Subject != p.user.UserID {
		t.Fatalf("ID token iss %q aud %v nonce %q sub %q; want %q, %q, %q, %q", id.Issuer, id.Audience, id.Nonce, id.Subject, p.issuer, p.app.ClientID, z.nonce, p.user.UserID)
	}
	var claims struct {
		Email    string `json:"email"`
		FHIRUser string `json:"fhirUser"`
		AZP      string `json:"azp"`
	}
	atriumtest.Must(t, id.Claims(&claims))
	if claims.Email != p.email || claims.FHIRUser != p.user.Profile || !strings.HasPrefix(claims.FHIRUser, "Practitioner/") {
		t.Fatalf("ID token claims %+v, want email %s and fhirUser %s", claims, p.email, p.user.Profile)
	}

	info, err := r.provider.UserInfo(r.ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	var more struct {
		FHIRUser string `json:"fhirUser"`
	}
	atriumtest.Must(t, info.Claims(&more))
	if info.Subject != p.user.UserID || info.Email != p.email || more.FHIRUser != p.user.Profile {
		t.Fatalf("userinfo sub %q email %q fhirUser %q", info.Subject, info.Email, more.FHIRUser)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token, though the application has refreshTokenEnabled and the login asked offline_access")
	}
}

// Each refresh gives a new refresh token; using one that was used already
// revokes the whole family: the newest refresh token and the access tokens
// issued from the family stop working.
func TestRefreshTokensRotateAndReuseRevokesTheFamily(t *testing.T) {
	s := atriumtest.NewServer(t)
	p := newProject(t, s, "")
	b := newBrowser(t, s)
	code, z := p.code(t, b, p.app, nil)
	r := p.rp(t, p.app)
	first, err := r.exchange(code, z)
	atriumtest.Must(t, err)
	second, err := r.refresh(first.RefreshToken)
	if err != nil {
		t.Fatalf("first refresh: %v", err)
	}
	if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Fatal("a refresh must give a new refresh token and a new access token")
	}
	r.idToken(t, second)
	third, err := r.refresh(second.RefreshToken)
	atriumtest.Must(t, err)

	if _, err := r.refresh(first.RefreshToken); !invalidGrant(err) {
		t.Fatalf("reusing the first refresh token: %v, want invalid_grant", err)
	}
	if _, err := r.refresh(third.RefreshToken); !invalidGrant(err) {
		t.Fatalf("the family's newest refresh token after a reuse: %v, want invalid_grant", err)
	}
	if _, err := r.provider.UserInfo(r.ctx, oauth2.StaticTokenSource(third)); err == nil {
		t.Fatal("an access token of a revoked family still reads userinfo")
	}
}

// A code works once; its second use fails and revokes what the first
// issued.
func TestCodesAreSingleUse(t *testing.T) {
	s := atriumtest.NewServer(t)
	p := newProject(t, s, "")
	b := newBrowser(t, s)
	code, z := p.code(t, b, p.app, nil)
	r := p.rp(t, p.app)
	tok, err := r.exchange(code, z)
	atriumtest.Must(t, err)
	if _, err := r.exchange(code, z); !invalidGrant(err) {
		t.Fatalf("second exchange of a code: %v, want invalid_grant", err)
	}
	if _, err := r.refresh(tok.RefreshToken); !invalidGrant(err) {
		t.Fatalf("refresh token issued from a reused code: %v, want invalid_grant", err)
	}
	if _, err := r.provider.UserInfo(r.ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Fatal("an access token issued from a reused code still reads userinfo")
	}
}

// A wrong PKCE verifier is refused, and the code is spent.
func TestPKCEVerifierIsChecked(t *testing.T) {
	s := atriumtest.NewServer(t)
	p := newProject(t, s, "")
	b := newBrowser(t, s)
	code, z := p.code(t, b, p.app, nil)
	r := p.rp(t, p.app)
	wrong := *z
	wrong.pkce = newPKCE()
	if _, err := r.exchange(code, &wrong); !invalidGrant(err) {
		t.Fatalf("exchange with another verifier: %v, want invalid_grant", err)
	}
	if _, err := r.conf.Exchange(r.ctx, code); err == nil {
		t.Fatal("exchange without a verifier succeeded")
	}
}

// Refresh tokens only for an application with refreshTokenEnabled, and
// only when the login asked offline_access.
func TestRefreshTokensOnlyWhenEnabledAndAsked(t *testing.T) {
	s := atriumtest.NewServer(t)
	p := newProject(t, s, "")
	plain := p.newApp(t, client.CreateApplicationInput{Name: "No refresh"})
	for _, tc := range []struct {
		name  string
		app   app
		scope string
	}{
		{"refreshTokenEnabled off", plain, "openid offline_access"},
		{"offline_access not asked", p.app, "openid email"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBrowser(t, s)
			code, z := p.code(t, b, tc.app, url.Values{"scope": {tc.scope}})
			tok, err := p.rp(t, tc.app).exchange(code, z)
			atriumtest.Must(t, err)
			if tok.RefreshToken != "" {
				t.Fatal("a refresh token was issued")
			}
		})
	}
}

// A public client must send a PKCE S256 challenge: without one, or with
// the plain method, the application hears invalid_request.
func TestPublicClientsMustUsePKCES256(t *testing.T) {
	s := atriumtest.NewServer(t)
	p := newProject(t, s, "")
	for name, extra := range map[string]url.Values{
		"no challenge": {"code_challenge": {""}, "code_challenge_method": {""}},
		"plain":        {"code_challenge": {"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopq"}, "code_challenge_method": {"plain"}},
	} {
		t.Run(name, func(t *testing.T) {
			u, _ := p.authorizeURL(p.app, extra)
			to := newBrowser(t, s).get(u).redirect(t)
			if to.Scheme+"://"+to.Host+to.Path != callback || to.Query().Get("error") != "invalid_request" {
				t.Fatalf("authorize sent the browser to %s, want the callback with error=invalid_request", to)
			}
		})
	}
}

func invalidGrant(err error) bool {
	var re *oauth2.RetrieveError
	if err == nil {
		return false
	}
	if ok := asRetrieve(err, &re); ok {
		return re.ErrorCode == "invalid_grant" && re.Response.StatusCode == http.StatusBadRequest
	}
	return false
}
