package provider_test

// The login page offers every way in an application has, together: the
// password form, the SMS form and the project's SSO connections; the
// "does not offer email and password login" message stands alone only
// when none is left.

import (
	"strings"
	"testing"

	"atrium/client"
)

func TestLoginPageOffersEveryWayIn(t *testing.T) {
	f := newSSO(t)
	b := newBrowser(t, f.s)
	for _, tc := range []struct {
		name             string
		in               client.CreateApplicationInput
		password, sms    bool
		ssoLink, offNote bool
	}{
		{"password", client.CreateApplicationInput{}, true, false, true, false},
		{"password and SMS", client.CreateApplicationInput{PasswordlessSMS: ptr(true)}, true, true, true, false},
		{"SMS", client.CreateApplicationInput{PasswordlessSMS: ptr(true), LoginWithEmailEnabled: ptr(false)}, false, true, true, false},
		{"SSO only", client.CreateApplicationInput{LoginWithEmailEnabled: ptr(false)}, false, false, true, false},
	} {
		tc.in.Name = tc.name
		authorize, _ := f.a.authorizeURL(f.a.newApp(t, tc.in), nil)
		login := f.a.loginPage(t, b, authorize)
		body := b.get(login.String()).Body
		_, sso := buttons(t, b, login)[f.name]
		for what, want := range map[string]bool{`name="password"`: tc.password, `id="sms-form"`: tc.sms, `id="off"`: tc.offNote} {
			if strings.Contains(body, what) != want {
				t.Errorf("%s: %s on the page is %v, want %v: %.1200s", tc.name, what, !want, want, body)
			}
		}
		if sso != tc.ssoLink {
			t.Errorf("%s: Continue with %s on the page is %v, want %v", tc.name, f.name, sso, tc.ssoLink)
		}
	}

	// Without the connection, an application with neither password nor
	// SMS login has nothing to offer but the message.
	f.a.operator.MustDo(t, `mutation($id: ID!) { deleteSSOConnection(input: {id: $id}) { deletedSSOConnectionId } }`, map[string]any{"id": f.conn}, nil)
	authorize, _ := f.a.authorizeURL(f.a.newApp(t, client.CreateApplicationInput{Name: "Nothing", LoginWithEmailEnabled: ptr(false)}), nil)
	login := f.a.loginPage(t, b, authorize)
	if body := b.get(login.String()).Body; !strings.Contains(body, `id="off"`) || strings.Contains(body, "<form") || strings.Contains(body, `class="sso"`) {
		t.Fatalf("no way in left: %.1200s", body)
	}
}
