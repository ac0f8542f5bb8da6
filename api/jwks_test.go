package api_test

// Atrium's tokens as a third party sees them: every kind of token verifies
// with go-oidc against the JWKS its issuer publishes over HTTP; forged,
// HS256, unsigned, foreign and cross-project tokens are refused; keys
// rotate with a published lead; private halves never leave the store
// sealed.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/golang-jwt/jwt/v5"

	"atrium/atriumtest"
	"atrium/client"
)

// verifyRemotely verifies token as a resource server would: go-oidc with
// the issuer and the JWKS fetched over HTTP from the server, ES256, the
// API audience. now is the verifier's clock.
func verifyRemotely(t *testing.T, s *atriumtest.Server, issuer, jwksPath, token string, now func() time.Time) (*oidc.IDToken, error) {
	t.Helper()
	ctx := oidc.ClientContext(context.Background(), s.Server.Client())
	keys := oidc.NewRemoteKeySet(ctx, s.URL+jwksPath)
	v := oidc.NewVerifier(issuer, keys, &oidc.Config{ClientID: atriumtest.PublicURL, SupportedSigningAlgs: []string{oidc.ES256}, Now: now})
	return v.Verify(ctx, token)
}

type tokenClaims struct {
	Kind string `json:"kind"`
	PID  string `json:"pid"`
	JTI  string `json:"jti"`
	IAT  int64  `json:"iat"`
}

func TestEveryTokenVerifiesWithThePublishedJWKS(t *testing.T) {
	s := atriumtest.NewServer(t)
	op := s.Operator(s.Sandbox)
	_, user := patientUser(t, s, op, "reader@example.com")
	dev := s.SignedInDeveloper(t, op, client.InviteDeveloperInput{Email: "builder@example.com", AccessPolicy: atriumtest.FullAccess()}, testPassword)
	m := s.MachineToken(t, op, client.CreateM2MClientInput{Name: "Backend", AccessPolicy: atriumtest.FullAccess()})

	projectIssuer := atriumtest.PublicURL + "/p/" + s.Sandbox
	for _, tc := range []struct {
		name, token, issuer, jwks, sub, kind, pid string
	}{
		{"user (GraphQL signIn)", user.Token, projectIssuer, "/p/" + s.Sandbox + "/keys", user.ID, "USER", s.Sandbox},
		{"developer", dev.Token, atriumtest.PublicURL, "/.well-known/jwks.json", dev.ID, "DEVELOPER", ""},
		{"machine client (/oauth/token)", m.Token, projectIssuer, "/p/" + s.Sandbox + "/keys", m.ID, "M2M_CLIENT", s.Sandbox},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idt, err := verifyRemotely(t, s, tc.issuer, tc.jwks, tc.token, time.Now)
			if err != nil {
				t.Fatalf("go-oidc refuses the token: %v", err)
			}
			var c tokenClaims
			if err := idt.Claims(&c); err != nil {
				t.Fatal(err)
			}
			if idt.Subject != tc.sub || c.Kind != tc.kind || c.PID != tc.pid || c.JTI == "" || c.IAT == 0 {
				t.Errorf("claims sub=%s %+v, want sub=%s kind=%s pid=%q with jti and iat", idt.Subject, c, tc.sub, tc.kind, tc.pid)
			}
			header := tokenHeader(t, tc.token)
			if header["alg"] != "ES256" || header["kid"] == "" {
				t.Errorf("header %v, want ES256 with a kid", header)
			}
			// The token is not one of the other issuer's.
			other := map[string]string{projectIssuer: atriumtest.PublicURL, atriumtest.PublicURL: projectIssuer}[tc.issuer]
			otherJWKS := map[string]string{projectIssuer: "/.well-known/jwks.json", atriumtest.PublicURL: "/p/" + s.Sandbox + "/keys"}[tc.issuer]
			if _, err := verifyRemotely(t, s, other, otherJWKS, tc.token, time.Now); err == nil {
				t.Errorf("the token verifies as one of issuer %s", other)
			}
		})
	}
	noPrivateKeys(t, s, s.Sandbox, "")
}

// patientUser makes an application in c's project and a signed-in user of
// it with full access.
func patientUser(t *testing.T, s *atriumtest.Server, c *atriumtest.Client, email string) (app string, u atriumtest.User) {
	t.Helper()
	app = createApplication(t, c, "Portal")
	return app, s.SignedInUser(t, c, client.InviteUserInput{Email: ptr(email), ApplicationId: app,
		AccessPolicy: atriumtest.FullAccess(), Resource: &map[string]any{"resourceType": "Patient"}}, testPassword)
}

// tokenHeader decodes a JWT's header.
func tokenHeader(t *testing.T, token string) map[string]any {
	t.Helper()
	part, _, _ := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

// fetchJWKS gets a JWKS and returns its answer.
func fetchJWKS(t *testing.T, s *atriumtest.Server, path string) (int, http.Header, string) {
	t.Helper()
	res, err := s.Server.Client().Get(s.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(body)
}

// publishedKids lists the kids of a JWKS.
func publishedKids(t *testing.T, s *atriumtest.Server, path string) []string {
	t.Helper()
	status, _, body := fetchJWKS(t, s, path)
	var set struct{ Keys []map[string]any }
	if status != http.StatusOK || json.Unmarshal([]byte(body), &set) != nil {
		t.Fatalf("GET %s: %d %s", path, status, body)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k["kid"].(string))
	}
	return kids
}

// noPrivateKeys checks that neither the JWKS nor the log holds the private
// half (the JWK "d" parameter) of the issuers' signing keys.
func noPrivateKeys(t *testing.T, s *atriumtest.Server, projectIDs ...string) {
	t.Helper()
	for _, pid := range projectIDs {
		path := "/.well-known/jwks.json"
		if pid != "" {
			path = "/p/" + pid + "/keys"
		}
		status, header, body := fetchJWKS(t, s, path)
		if status != http.StatusOK || !strings.Contains(header.Get("Cache-Control"), "max-age=") {
			t.Errorf("GET %s: %d, Cache-Control %q", path, status, header.Get("Cache-Control"))
		}
		var set struct{ Keys []map[string]any }
		if err := json.Unmarshal([]byte(body), &set); err != nil || len(set.Keys) == 0 {
			t.Fatalf("GET %s: %s (%v)", path, body, err)
		}
		for _, k := range set.Keys {
			if _, ok := k["d"]; ok || k["kty"] != "EC" || k["crv"] != "P-256" || k["alg"] != "ES256" || k["use"] != "sig" {
				t.Errorf("GET %s publishes %v", path, k)
			}
		}
		key, err := s.Keys.Signing(t.Context(), pid)
		if err != nil {
			t.Fatal(err)
		}
		d := base64.RawURLEncoding.EncodeToString(key.Private.D.FillBytes(make([]byte, 32)))
		for where, text := range map[string]string{"the JWKS": body, "the log": s.Log.String()} {
			if strings.Contains(text, d) {
				t.Errorf("%s holds the private key of issuer %q", where, pid)
			}
		}
	}
	if strings.Contains(s.Log.String(), `"d":`) {
		t.Error("the log holds a JWK d parameter")
	}
}

func TestJWKSOfAnUnknownProjectIs404(t *testing.T) {
	s := atriumtest.NewServer(t)
	for _, pid := range []string{"00000000-0000-4000-8000-000000000000", "no-such-project", "%2e%2e"} {
		status, header, body := fetchJWKS(t, s, "/p/"+pid+"/keys")
		if status != http.StatusNotFound || !strings.HasPrefix(header.Get("Content-Type"), "application/json") || !strings.Contains(body, `"code":"NOT_FOUND"`) {
			t.Errorf("JWKS of project %s: %d %s %s", pid, status, header.Get("Content-Type"), body)
		}
	}
	// A project that has signed nothing yet publishes the key it will sign
	// with: a verifier that caches the set first can check the first token.
	other := s.CreateProject(t, "Quiet")
	if kids := publishedKids(t, s, "/p/"+other+"/keys"); len(kids) != 1 {
		t.Errorf("a project that signed nothing publishes %v, want its first key", kids)
	}
}

// forge signs claims with key under alg and kid.
func forge(t *testing.T, method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestForgedTokensAreRefused(t *testing.T) {
	s := atriumtest.NewServer(t)
	op := s.Operator(s.Sandbox)
	_, user := patientUser(t, s, op, "reader@example.com")
	projectB := s.CreateProject(t, "B")
	opB := s.Operator(projectB)
	_, userB := patientUser(t, s, opB, "b@example.com")

	ctx := t.Context()
	keyA, err := s.Keys.Signing(ctx, s.Sandbox)
	if err != nil {
		t.Fatal(err)
	}
	keyB, err := s.Keys.Signing(ctx, projectB)
	if err != nil {
		t.Fatal(err)
	}
	platform, err := s.Keys.Signing(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	stranger, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	issuerA, issuerB := atriumtest.PublicURL+"/p/"+s.Sandbox, atriumtest.PublicURL+"/p/"+projectB
	claims := func(iss, pid, sub string, edit ...func(jwt.MapClaims)) jwt.MapClaims {
		now := time.Now()
		c := jwt.MapClaims{"iss": iss, "aud": []string{atriumtest.PublicURL}, "sub": sub, "pid": pid, "kind": "USER",
			"jti": "forged", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		for _, e := range edit {
			e(c)
		}
		return c
	}
	// The control: a token made the way Atrium makes them is accepted.
	good := forge(t, jwt.SigningMethodES256, keyA.Private, keyA.ID, claims(issuerA, s.Sandbox, user.ID))
	var me struct{ Me struct{ ID string } }
	s.Client(good, s.Sandbox).MustDo(t, `{ me { id } }`, nil, &me)
	if me.Me.ID != user.ID {
		t.Fatalf("the control token acts as %q, want %s", me.Me.ID, user.ID)
	}

	for name, token := range map[string]string{
		"HS256 with the old test secret": forge(t, jwt.SigningMethodHS256, []byte("test-signing-key-0123456789abcdef"), "", claims(issuerA, s.Sandbox, user.ID)),
		"HS256 with the sealing secret":  forge(t, jwt.SigningMethodHS256, []byte(atriumtest.SealingSecret), keyA.ID, claims(issuerA, s.Sandbox, user.ID)),
		"alg none":                       forge(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, keyA.ID, claims(issuerA, s.Sandbox, user.ID)),
		"a stranger's key under A's kid": forge(t, jwt.SigningMethodES256, stranger, keyA.ID, claims(issuerA, s.Sandbox, user.ID)),
		"no kid":                         forge(t, jwt.SigningMethodES256, keyA.Private, "", claims(issuerA, s.Sandbox, user.ID)),
		"another issuer":                 forge(t, jwt.SigningMethodES256, keyA.Private, keyA.ID, claims("https://evil.example.com/p/"+s.Sandbox, s.Sandbox, user.ID)),
		"A's key, B's issuer":            forge(t, jwt.SigningMethodES256, keyA.Private, keyA.ID, claims(issuerB, projectB, userB.ID)),
		"A's issuer, B's project":        forge(t, jwt.SigningMethodES256, keyA.Private, keyA.ID, claims(issuerA, projectB, userB.ID)),
		"B's key, A's issuer":            forge(t, jwt.SigningMethodES256, keyB.Private, keyB.ID, claims(issuerA, s.Sandbox, user.ID)),
		"a user on the platform issuer":  forge(t, jwt.SigningMethodES256, platform.Private, platform.ID, claims(atriumtest.PublicURL, s.Sandbox, user.ID)),
		"a developer on A's issuer": forge(t, jwt.SigningMethodES256, keyA.Private, keyA.ID, claims(issuerA, "", user.ID, func(c jwt.MapClaims) {
			c["kind"] = "DEVELOPER"
			delete(c, "pid")
		})),
		"another audience": forge(t, jwt.SigningMethodES256, keyA.Private, keyA.ID, claims(issuerA, s.Sandbox, user.ID, func(c jwt.MapClaims) {
			c["aud"] = []string{"https://fhir.example.com"}
		})),
		"expired": forge(t, jwt.SigningMethodES256, keyA.Private, keyA.ID, claims(issuerA, s.Sandbox, user.ID, func(c jwt.MapClaims) {
			c["exp"] = time.Now().Add(-time.Second).Unix()
		})),
		"no expiry": forge(t, jwt.SigningMethodES256, keyA.Private, keyA.ID, claims(issuerA, s.Sandbox, user.ID, func(c jwt.MapClaims) {
			delete(c, "exp")
		})),
		"a tampered payload": tamper(t, good, user.ID, userB.ID),
	} {
		for _, project := range []string{s.Sandbox, projectB} {
			r := s.Client(token, project).Do(t, `{ me { id } }`, nil)
			if len(r.Errors) == 0 || r.Errors[0].Extensions.Code != "UNAUTHENTICATED" {
				t.Errorf("%s (project header %s): %s, want UNAUTHENTICATED", name, project, r.Raw)
			}
		}
	}
	// A's genuine token is no token of B's: its JWKS does not verify it.
	if _, err := verifyRemotely(t, s, issuerB, "/p/"+projectB+"/keys", user.Token, time.Now); err == nil {
		t.Error("project A's token verifies against project B's issuer and JWKS")
	}
	if kids := publishedKids(t, s, "/p/"+projectB+"/keys"); len(kids) != 1 || kids[0] == keyA.ID {
		t.Errorf("project B publishes %v (A's key is %s)", kids, keyA.ID)
	}
}

// tamper replaces from with to in a token's payload, keeping the signature.
func tamper(t *testing.T, token, from, to string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(raw), from, to, 1)))
	return strings.Join(parts, ".")
}

// A key signs for its rotation period; the next is published a lead (a
// tenth of the period) before it signs; a token of the old key verifies
// after the rotation, and the old key leaves the JWKS once its last token
// has expired (the token lifetime, an hour, after the rotation).
func TestKeyRotationThroughTheJWKS(t *testing.T) {
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	clock := atriumtest.NewClock(start)
	s := atriumtest.NewServer(t, atriumtest.WithClock(clock), atriumtest.WithKeyRotation(10*time.Hour)) // lead: 1h
	op := s.Operator(s.Sandbox)
	app, user := patientUser(t, s, op, "reader@example.com")
	jwks, issuer := "/p/"+s.Sandbox+"/keys", atriumtest.PublicURL+"/p/"+s.Sandbox
	kid := func(token string) string { return tokenHeader(t, token)["kid"].(string) }
	k1 := kid(user.Token)
	if got := publishedKids(t, s, jwks); len(got) != 1 || got[0] != k1 {
		t.Fatalf("start: published %v, want [k1]", got)
	}

	clock.Advance(9 * time.Hour) // a lead before the rotation
	if kid(s.SignIn(t, app, user.Email, testPassword)) != k1 {
		t.Fatal("k1 must sign until the rotation")
	}
	pub := publishedKids(t, s, jwks)
	if len(pub) != 2 || pub[1] != k1 {
		t.Fatalf("a lead before the rotation: published %v, want [k2 k1]", pub)
	}
	k2 := pub[0]
	clock.Advance(30 * time.Minute)
	late := s.SignIn(t, app, user.Email, testPassword)
	if kid(late) != k1 {
		t.Fatal("k1 must sign until the rotation")
	}

	clock.Advance(30 * time.Minute) // the rotation
	if got := kid(s.SignIn(t, app, user.Email, testPassword)); got != k2 {
		t.Fatalf("after the rotation: signed by %s, want k2 %s", got, k2)
	}
	// k1's last token still works, on GraphQL and for a third party.
	var me struct{ Me struct{ ID string } }
	s.Client(late, s.Sandbox).MustDo(t, `{ me { id } }`, nil, &me)
	if _, err := verifyRemotely(t, s, issuer, jwks, late, clock.Now); err != nil {
		t.Fatalf("k1's token after the rotation: %v", err)
	}
	clock.Advance(time.Hour - time.Second)
	if got := publishedKids(t, s, jwks); len(got) != 2 {
		t.Fatalf("while k1's last token is valid: published %v, want [k2 k1]", got)
	}
	clock.Advance(time.Second) // k1's last token expires
	if got := publishedKids(t, s, jwks); len(got) != 1 || got[0] != k2 {
		t.Fatalf("after k1's last token expired: published %v, want [k2]", got)
	}
	r := s.Client(late, s.Sandbox).Do(t, `{ me { id } }`, nil)
	if len(r.Errors) == 0 || r.Errors[0].Extensions.Code != "UNAUTHENTICATED" {
		t.Errorf("k1's expired token: %s", r.Raw)
	}
}
