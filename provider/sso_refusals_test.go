package provider_test

// What single sign-on refuses, each on a page with its status and never a
// session: no defaultSSOUserRole, another project's connection, a
// connection deleted mid-way, the upstream's refusal, states that are
// changed, mixed with another flow's code, brought by another browser,
// used or expired, ID tokens that fail verification (testIdP), and an
// existing user's email the upstream does not say is verified; linked when
// it does.

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"atrium/atriumtest"
)

// refused checks that a page refuses with status and says want.
func refused(t *testing.T, what string, p page, status int, want string) {
	t.Helper()
	if p.StatusCode != status || !strings.Contains(p.Body, want) || p.Header.Get("Location") != "" {
		t.Fatalf("%s: %d %q, want %d saying %q", what, p.StatusCode, p.Body, status, want)
	}
	for _, c := range p.Cookies() {
		if c.Name == "atrium_session" {
			t.Fatalf("%s: a session began", what)
		}
	}
}

func TestSSORefusedWithoutDefaultSSOUserRole(t *testing.T) {
	f := newSSO(t)
	b := newBrowser(t, f.s)
	before := f.users(t)
	up, _ := f.toUpstream(t, b)
	back := f.atUpstream(t, b, up, f.idpUser)
	refused(t, "no defaultSSOUserRole", b.get(back.String()), http.StatusForbidden, "defaultSSOUserRole")
	if n := f.users(t); n != before {
		t.Fatalf("%d users, want %d", n, before)
	}
	// Audited as a sign-in.
	var events struct {
		AuditEvents struct {
			Edges []struct {
				Node struct {
					Action, Outcome string
					Target          struct{ Type string }
				}
			}
		}
	}
	f.a.operator.MustDo(t, `{ auditEvents(first: 10, filter: {action: "App:SignIn"}) { edges { node { action outcome target { type } } } } }`, nil, &events)
	if len(events.AuditEvents.Edges) != 1 || events.AuditEvents.Edges[0].Node.Outcome != "denied" || events.AuditEvents.Edges[0].Node.Target.Type != "User" {
		t.Fatalf("audit events of the refused sign-in: %+v", events)
	}
}

func TestSSOConnectionOfAnotherProjectOrDeletedIsNotFound(t *testing.T) {
	f := newSSO(t)
	f.setDefaultRole(t)
	other := newProject(t, f.s, "Other")
	theirs := f.connect(t, other, "Theirs", f.idp.issuer, f.idpApp.ClientID, f.secret)
	b := newBrowser(t, f.s)
	before := f.users(t)

	authorize, _ := f.a.authorizeURL(f.a.app, nil)
	login := f.a.loginPage(t, b, authorize)
	if _, ok := buttons(t, b, login)["Theirs"]; ok {
		t.Fatal("a's login page offers another project's connection")
	}
	start := f.a.issuer + "/sso/" + theirs + "?authRequest=" + url.QueryEscape(login.Query().Get("authRequest"))
	refused(t, "another project's connection", b.get(start), http.StatusNotFound, "not found")
	refused(t, "an unknown connection", b.get(f.a.issuer+"/sso/nope?authRequest="+url.QueryEscape(login.Query().Get("authRequest"))), http.StatusNotFound, "not found")
	refused(t, "no auth request", b.get(f.a.issuer+"/sso/"+f.conn), http.StatusNotFound, "unknown or has expired")

	// Deleted while the browser is at the upstream.
	up, _ := f.toUpstream(t, b)
	back := f.atUpstream(t, b, up, f.idpUser)
	f.a.operator.MustDo(t, `mutation($id: ID!) { deleteSSOConnection(input: {id: $id}) { deletedSSOConnectionId } }`, map[string]any{"id": f.conn}, nil)
	refused(t, "a deleted connection", b.get(back.String()), http.StatusNotFound, "not found")
	if n := f.users(t); n != before {
		t.Fatalf("%d users, want %d", n, before)
	}
}

func TestSSOStatesAreSingleUseAndBoundToTheBrowser(t *testing.T) {
	clock := atriumtest.NewClock(time.Now())
	f := newSSO(t, atriumtest.WithClock(clock))
	f.setDefaultRole(t)
	b := newBrowser(t, f.s)
	up, z := f.toUpstream(t, b)
	back := f.atUpstream(t, b, up, f.idpUser)
	q := back.Query()
	with := func(change func(url.Values)) string {
		v := url.Values{"state": {q.Get("state")}, "code": {q.Get("code")}}
		change(v)
		u := *back
		u.RawQuery = v.Encode()
		return u.String()
	}

	state := []byte(q.Get("state"))
	state[len(state)/2] ^= 1
	refused(t, "a changed state", b.get(with(func(v url.Values) { v.Set("state", string(state)) })), http.StatusUnauthorized, "unknown, expired or finished")
	refused(t, "no state", b.get(with(func(v url.Values) { v.Del("state") })), http.StatusUnauthorized, "unknown, expired or finished")
	refused(t, "another browser", newBrowser(t, f.s).get(back.String()), http.StatusForbidden, "another browser")
	head, err := http.NewRequest(http.MethodHead, back.String(), nil)
	atriumtest.Must(t, err)
	if res := b.do(head); res.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("HEAD of the callback: %d, want 405 (it would use the flow up)", res.StatusCode)
	}

	// The state and code came back to this browser: the flow works (once).
	code := f.a.finish(t, b, f.signedIn(t, b, back), z)
	if amr := amrOf(t, f.a, f.a.app, b, code, z); !slices.Equal(amr, []string{"fed"}) {
		t.Fatalf("amr %v", amr)
	}
	refused(t, "a used state", b.get(back.String()), http.StatusUnauthorized, "unknown, expired or finished")

	// A state with the code of another flow: the code's PKCE challenge is
	// the other flow's, so the upstream refuses the exchange.
	b2 := newBrowser(t, f.s)
	up1, _ := f.toUpstream(t, b2)
	back1 := f.atUpstream(t, b2, up1, f.idpUser)
	up2, _ := f.toUpstream(t, b2)
	back2 := f.atUpstream(t, b2, up2, f.idpUser)
	mixed := *back1
	mixed.RawQuery = url.Values{"state": {back1.Query().Get("state")}, "code": {back2.Query().Get("code")}}.Encode()
	refused(t, "another flow's code", b2.get(mixed.String()), http.StatusUnauthorized, "could not be verified")

	// The upstream's refusal.
	up3, _ := f.toUpstream(t, b2)
	refusal := f.a.issuer + "/sso-callback?" + url.Values{"state": {up3.Query().Get("state")}, "error": {"access_denied"},
		"error_description": {"The user said no\x00."}}.Encode()
	refused(t, "the upstream's refusal", b2.get(refusal), http.StatusUnauthorized, "refused the sign-in (access_denied: The user said no.)")

	// Expired.
	up4, _ := f.toUpstream(t, b2)
	back4 := f.atUpstream(t, b2, up4, f.idpUser)
	clock.Advance(11 * time.Minute)
	refused(t, "an expired state", b2.get(back4.String()), http.StatusUnauthorized, "unknown, expired or finished")
}

func TestSSOVerifiesTheIDTokenAndLinksByVerifiedEmail(t *testing.T) {
	f := newSSO(t)
	f.setDefaultRole(t)
	idp := newTestIdP(t)
	f.connect(t, f.a, "Test IdP", idp.URL, idp.clientID, idp.secret)
	before := f.users(t)
	through := func(claims map[string]any, breaks func(map[string]any), otherKey bool) (page, *browser, *authorization) {
		t.Helper()
		idp.next(claims, breaks, otherKey)
		b := newBrowser(t, f.s)
		up, z := f.continueWith(t, b, f.a.app, "Test IdP")
		back := b.get(up.String()).redirect(t)
		if back.Path != "/p/"+f.a.id+"/sso-callback" {
			t.Fatalf("the test IdP sent the browser to %s", back)
		}
		return b.get(back.String()), b, z
	}
	existing := map[string]any{"sub": "u-1", "email": f.a.email, "email_verified": true, "name": "Pat"}
	for _, c := range []struct {
		what     string
		breaks   func(map[string]any)
		otherKey bool
	}{
		{"another audience", func(c map[string]any) { c["aud"] = "someone-else" }, false},
		{"another nonce", func(c map[string]any) { c["nonce"] = "not-the-flows" }, false},
		{"another issuer", func(c map[string]any) { c["iss"] = "https://evil.example" }, false},
		{"expired", func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }, false},
		{"another key", nil, true},
	} {
		res, _, _ := through(existing, c.breaks, c.otherKey)
		refused(t, "an ID token of "+c.what, res, http.StatusUnauthorized, "could not be verified")
	}

	// An existing user's email, not said to be verified: not linked.
	unverified := map[string]any{"sub": "u-1", "email": f.a.email, "email_verified": false}
	res, _, _ := through(unverified, nil, false)
	refused(t, "an unverified email", res, http.StatusConflict, "verified")
	if n := f.users(t); n != before {
		t.Fatalf("%d users after refused sign-ins, want %d", n, before)
	}

	// Verified: the existing user, linked, not a new one.
	res, b, z := through(existing, nil, false)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("a verified email: %d %.300s", res.StatusCode, res.Body)
	}
	next := continueLink.FindStringSubmatch(res.Body)
	cb, err := url.Parse(strings.ReplaceAll(next[1], "&amp;", "&"))
	atriumtest.Must(t, err)
	code := f.a.finish(t, b, res.Request.URL.ResolveReference(cb), z)
	r := f.a.rp(t, f.a.app)
	tok, err := r.exchange(code, z)
	atriumtest.Must(t, err)
	if sub := r.idToken(t, tok).Subject; sub != f.a.user.UserID {
		t.Fatalf("signed in as %s, want the existing user %s", sub, f.a.user.UserID)
	}
	if n := f.users(t); n != before {
		t.Fatalf("%d users after linking, want %d", n, before)
	}
	if u := f.user(t, f.a.email); !strings.HasSuffix(u.SSOSubject, "/u-1") || u.SSOData["name"] != "Pat" {
		t.Fatalf("the linked user: %+v", u)
	}
}
