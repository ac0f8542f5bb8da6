package provider_test

// The TOTP step of the hosted login page, hop by hop: enrolment (QR code,
// key, one code computed here, the recovery codes), the ID token's amr, a
// later login with a recovery code, a session of one factor that does not
// resume a login to the application, and wrong codes.

import (
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
)

var (
	stateField   = regexp.MustCompile(`name="state" value="([^"]+)"`)
	secretField  = regexp.MustCompile(`<code id="secret">([A-Z2-7=]+)</code>`)
	recoveryItem = regexp.MustCompile(`<li><code>([a-z0-9-]+)</code></li>`)
	continueLink = regexp.MustCompile(`<a href="([^"]+)" id="continue">`)
)

// amrOf is the amr claim of the login's ID token.
func amrOf(t *testing.T, p *project, a app, b *browser, code string, z *authorization) []string {
	t.Helper()
	r := p.rp(t, a)
	tok, err := r.exchange(code, z)
	atriumtest.Must(t, err)
	var claims struct {
		AMR []string `json:"amr"`
	}
	atriumtest.Must(t, r.idToken(t, tok).Claims(&claims))
	return claims.AMR
}

func TestLoginPageAsksForTOTP(t *testing.T) {
	s := atriumtest.NewServer(t)
	p := newProject(t, s, "")
	a := p.newApp(t, client.CreateApplicationInput{Name: "Secure Clinic", MfaEnabled: ptr(true)})
	b := newBrowser(t, s)

	// The password, then the enrolment: QR code (a data: image the page's
	// policy allows) and the key.
	authorize, z := p.authorizeURL(a, nil)
	login := p.loginPage(t, b, authorize)
	id := login.Query().Get("authRequest")
	step := p.logIn(t, b, login, p.email, password)
	if step.StatusCode != http.StatusOK || !strings.Contains(step.Body, `<img id="qr" src="data:image/png;base64,`) {
		t.Fatalf("after the password: %d %.800s", step.StatusCode, step.Body)
	}
	if csp := step.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src data:") {
		t.Errorf("Content-Security-Policy %q does not allow the QR code", csp)
	}
	if c := step.Header.Get("Set-Cookie"); strings.Contains(c, "atrium_session") {
		t.Fatal("a session began after the password alone")
	}
	state := html.UnescapeString(stateField.FindStringSubmatch(step.Body)[1])
	secret := secretField.FindStringSubmatch(step.Body)[1]

	wrong := b.post(login.String(), url.Values{"authRequest": {id}, "state": {state}, "factor": {"enrol"}, "code": {"000000"}})
	if wrong.StatusCode != http.StatusUnauthorized || !strings.Contains(wrong.Body, "Wrong code") || !strings.Contains(wrong.Body, `name="state"`) {
		t.Fatalf("a wrong code: %d %.500s", wrong.StatusCode, wrong.Body)
	}
	code, err := totp.GenerateCode(secret, time.Now())
	atriumtest.Must(t, err)
	if code == "000000" {
		t.Skip("the code is the wrong one this time")
	}
	saved := b.post(login.String(), url.Values{"authRequest": {id}, "state": {state}, "factor": {"enrol"}, "code": {code}})
	codes := recoveryItem.FindAllStringSubmatch(saved.Body, -1)
	next := continueLink.FindStringSubmatch(saved.Body)
	if saved.StatusCode != http.StatusOK || len(codes) != 10 || next == nil {
		t.Fatalf("after the enrolment: %d %.800s", saved.StatusCode, saved.Body)
	}
	cb, err := url.Parse(html.UnescapeString(next[1]))
	atriumtest.Must(t, err)
	if amr := amrOf(t, p, a, b, p.finish(t, b, login.ResolveReference(cb), z), z); !slices.Equal(amr, []string{"pwd", "otp", "mfa"}) {
		t.Fatalf("amr %v after password and TOTP", amr)
	}

	// Later: the session of two factors resumes; a fresh login asks for a
	// code, and a recovery code does instead.
	if code, _ := p.code(t, b, a, nil); code == "" {
		t.Fatal("the two-factor session did not resume")
	}
	authorize, z = p.authorizeURL(a, url.Values{"prompt": {"login"}})
	login = p.loginPage(t, b, authorize)
	step = p.logIn(t, b, login, p.email, password)
	if step.StatusCode != http.StatusOK || strings.Contains(step.Body, `id="qr"`) || !strings.Contains(step.Body, `id="recovery-form"`) {
		t.Fatalf("the login of an enrolled user: %d %.800s", step.StatusCode, step.Body)
	}
	state = html.UnescapeString(stateField.FindStringSubmatch(step.Body)[1])
	done := b.post(login.String(), url.Values{"authRequest": {login.Query().Get("authRequest")}, "state": {state}, "factor": {"recovery"}, "code": {codes[0][1]}})
	if amr := amrOf(t, p, a, b, p.finish(t, b, done.redirect(t), z), z); !slices.Equal(amr, []string{"pwd", "rec", "mfa"}) {
		t.Fatalf("amr %v after password and a recovery code", amr)
	}
	// A login state is refused on another application's request, and a
	// made-up one anywhere: the page says to start again, with no form.
	authorize, _ = p.authorizeURL(a, url.Values{"prompt": {"login"}})
	login = p.loginPage(t, b, authorize)
	state = html.UnescapeString(stateField.FindStringSubmatch(p.logIn(t, b, login, p.email, password).Body)[1])
	a2 := p.newApp(t, client.CreateApplicationInput{Name: "Secure Lab", MfaEnabled: ptr(true)})
	authorize, _ = p.authorizeURL(a2, url.Values{"prompt": {"login"}})
	login2 := p.loginPage(t, b, authorize)
	for _, st := range []string{state, "made-up"} {
		again := b.post(login2.String(), url.Values{"authRequest": {login2.Query().Get("authRequest")}, "state": {st}, "factor": {"recovery"}, "code": {codes[1][1]}})
		if again.StatusCode != http.StatusUnauthorized || strings.Contains(again.Body, `name="state"`) {
			t.Fatalf("state %.20s on another request: %d %.500s", st, again.StatusCode, again.Body)
		}
	}
}

// A session of one factor (a login to an application without MFA) does
// not log the browser in to one with mfaEnabled.
func TestOneFactorSessionDoesNotResumeAnMFALogin(t *testing.T) {
	s := atriumtest.NewServer(t)
	p := newProject(t, s, "")
	b := newBrowser(t, s)
	p.code(t, b, p.app, nil) // password only: a session of one factor
	secure := p.newApp(t, client.CreateApplicationInput{Name: "Secure", MfaEnabled: ptr(true)})
	authorize, _ := p.authorizeURL(secure, nil)
	login := p.loginPage(t, b, authorize)
	if form := b.get(login.String()); form.StatusCode != http.StatusOK || !strings.Contains(form.Body, `name="password"`) {
		t.Fatalf("the one-factor session logged in to an MFA application: %d %.300s", form.StatusCode, form.Body)
	}
}
