package provider_test

// The SMS login of the hosted login page, hop by hop with the plain HTTP
// browser, reading the codes from the test server's outbox: a user invited
// by phone logs in (amr sms) and becomes active, then the edges: the same
// page for a number nobody has, wrong codes and their 5 tries, expiry on
// the server's clock, a new code retiring the old, one use, the sending
// limit, another project's number and state, a made-up state, the form
// off (and alone) by the application's settings, and the TOTP step after
// the code on an application with mfaEnabled.

import (
	"fmt"
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

const smsPhone = "+15555550100"

var (
	smsStateField = regexp.MustCompile(`name="smsState" value="([^"]+)"`)
	smsCodeText   = regexp.MustCompile(`^([0-9]{6}) is your `)
)

// smsLogin is a project with an application that has passwordlessSMS and
// a user invited to it by phone, on a server whose clock the test moves.
type smsLogin struct {
	*project
	clock *atriumtest.Clock
	sms   app
	user  atriumtest.Invitation
	texts *atriumtest.Texts
}

func newSMSLogin(t *testing.T, in client.CreateApplicationInput) *smsLogin {
	t.Helper()
	clock := atriumtest.NewClock(time.Now())
	s := atriumtest.NewServer(t, atriumtest.WithClock(clock))
	p := newProject(t, s, "")
	f := &smsLogin{project: p, clock: clock, texts: s.Texts()}
	if in.Name == "" {
		in.Name = "Texting Clinic"
	}
	in.PasswordlessSMS = ptr(true)
	f.sms = p.newApp(t, in)
	f.user = f.invite(t, p, f.sms, smsPhone)
	return f
}

// invite invites a user to a by phone and reads the invitation's text.
func (f *smsLogin) invite(t *testing.T, p *project, a app, phone string) atriumtest.Invitation {
	t.Helper()
	inv := atriumtest.Invite(t, p.operator, client.InviteUserInput{PhoneNumber: ptr(phone), ApplicationId: a.ID,
		Roles: []string{atriumtest.CreateRole(t, p.operator, "Texted "+phone, atriumtest.Allow("*", "*"))}, ShouldSendInviteEmail: ptr(true)})
	if body := f.text(t, phone); !strings.Contains(body, inv.URL) {
		t.Fatalf("invitation text %q, want the link %s", body, inv.URL)
	}
	return inv
}

// text waits for the next message to a number and returns its body.
func (f *smsLogin) text(t *testing.T, phone string) string {
	t.Helper()
	return f.texts.Next(t, phone)
}

// code reads the code of the next message to a number.
func (f *smsLogin) code(t *testing.T, phone string) string {
	t.Helper()
	body := f.text(t, phone)
	m := smsCodeText.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("message %q holds no code", body)
	}
	return m[1]
}

// smsStart follows /authorize for a to its login page.
func smsStart(t *testing.T, p *project, b *browser, a app) (*url.URL, *authorization) {
	t.Helper()
	authorize, z := p.authorizeURL(a, url.Values{"prompt": {"login"}})
	return p.loginPage(t, b, authorize), z
}

// send posts the page's phone form.
func send(b *browser, login *url.URL, phone string) page {
	return b.post(login.String(), url.Values{"authRequest": {login.Query().Get("authRequest")}, "sms": {"send"}, "phone": {phone}})
}

// stateOf is the sealed state of a code step.
func stateOf(t *testing.T, step page) string {
	t.Helper()
	m := smsStateField.FindStringSubmatch(step.Body)
	if m == nil {
		t.Fatalf("not the code step: %d %.600s", step.StatusCode, step.Body)
	}
	return html.UnescapeString(m[1])
}

// verify posts the code step's form.
func verify(b *browser, login *url.URL, state, code string) page {
	return b.post(login.String(), url.Values{"authRequest": {login.Query().Get("authRequest")}, "sms": {"verify"}, "smsState": {state}, "code": {code}})
}

// shown is what a page says (its heading and error), or its start.
func shown(p page) string {
	if m := shownText.FindAllString(p.Body, -1); m != nil {
		return strings.Join(m, " ")
	}
	return fmt.Sprintf("%.600s", p.Body)
}

var shownText = regexp.MustCompile(`<h1>.*</h1>|<p class="error"[^>]*>.*</p>|<p id="message">.*</p>`)

// esc is a phone number as the page writes it.
func esc(phone string) string { return strings.ReplaceAll(phone, "+", "&#43;") }

// otherCode is a 6-digit code that is not code.
func otherCode(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

func wantError(t *testing.T, what string, p page, status int, text string) {
	t.Helper()
	if p.StatusCode != status || !strings.Contains(p.Body, text) {
		t.Fatalf("%s: want %d with %q, got %d %s", what, status, text, p.StatusCode, shown(p))
	}
}

func TestSMSLogInOnTheLoginPage(t *testing.T) {
	f := newSMSLogin(t, client.CreateApplicationInput{})
	b := newBrowser(t, f.s)
	login, z := smsStart(t, f.project, b, f.sms)
	form := b.get(login.String())
	if form.StatusCode != http.StatusOK || !strings.Contains(form.Body, `id="sms-form"`) || !strings.Contains(form.Body, `name="password"`) {
		t.Fatalf("the login page of an application with both: %d %.800s", form.StatusCode, form.Body)
	}
	// A number not in E.164 is refused on the form; a cross-site post of
	// the form texts nothing.
	bad := send(b, login, "555-0100")
	wantError(t, "a number not in E.164", bad, http.StatusBadRequest, "E.164")
	if !strings.Contains(bad.Body, `id="sms-form"`) || !strings.Contains(bad.Body, `value="555-0100"`) {
		t.Fatalf("the form after a bad number: %.800s", bad.Body)
	}
	req, err := http.NewRequest(http.MethodPost, login.String(), strings.NewReader(url.Values{"authRequest": {login.Query().Get("authRequest")}, "sms": {"send"}, "phone": {smsPhone}}.Encode()))
	atriumtest.Must(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Origin", "http://evil.test")
	if res := b.do(req); res.StatusCode != http.StatusForbidden {
		t.Fatalf("a cross-site post: %d %.300s", res.StatusCode, res.Body)
	}
	step := send(b, login, smsPhone)
	if step.StatusCode != http.StatusOK || !strings.Contains(step.Body, esc(smsPhone)) {
		t.Fatalf("the code step: %d %.600s", step.StatusCode, step.Body)
	}
	state := stateOf(t, step)
	code := f.code(t, smsPhone)
	if sent := f.s.SMS.Sent(smsPhone); len(sent) != 2 { // the invitation, this code
		t.Fatalf("%d messages to the number, want the invitation and one code", len(sent))
	}
	wrong := verify(b, login, state, otherCode(code))
	wantError(t, "a wrong code", wrong, http.StatusUnauthorized, "Wrong code.")
	if stateOf(t, wrong) != state {
		t.Fatal("the step after a wrong code carries another state")
	}
	if c := wrong.Header.Get("Set-Cookie"); strings.Contains(c, "atrium_session") {
		t.Fatal("a session began after a wrong code")
	}
	done := verify(b, login, state, code)
	if c := done.Header.Get("Set-Cookie"); !strings.Contains(c, "atrium_session") {
		t.Fatalf("no session after the right code: %d %.300s", done.StatusCode, done.Body)
	}
	if amr := amrOf(t, f.project, f.sms, b, f.finish(t, b, done.redirect(t), z), z); !slices.Equal(amr, []string{"sms"}) {
		t.Fatalf("amr %v after an SMS login", amr)
	}
	// The invited user proved its number: it is active.
	var got struct{ User struct{ Status string } }
	f.operator.MustDo(t, `query($id: ID!) { user(id: $id) { status } }`, map[string]any{"id": f.user.UserID}, &got)
	if got.User.Status != "ACTIVE" {
		t.Fatalf("status %q after the first SMS login", got.User.Status)
	}

	// One use: the same code and state on a new login are refused.
	login, _ = smsStart(t, f.project, b, f.sms)
	again := verify(b, login, state, code)
	wantError(t, "the state of another login request", again, http.StatusUnauthorized, "start again")
	step = send(b, login, smsPhone)
	fresh := f.code(t, smsPhone)
	if fresh != code {
		wantError(t, "the code of the login before", verify(b, login, stateOf(t, step), code), http.StatusUnauthorized, "Wrong code.")
	}
	// A made-up state is refused with no form; the code stays good.
	made := verify(b, login, "made-up", fresh)
	wantError(t, "a made-up state", made, http.StatusUnauthorized, "start again")
	if strings.Contains(made.Body, "<form") {
		t.Fatalf("a made-up state shows a form: %.500s", made.Body)
	}
	verify(b, login, stateOf(t, step), fresh).redirect(t)
}

// A number nobody has gets the same page, and its wrong codes the same
// error, as a user's; no message goes to it.
func TestSMSLogInAnswersTheSameForAnUnknownNumber(t *testing.T) {
	f := newSMSLogin(t, client.CreateApplicationInput{})
	b := newBrowser(t, f.s)
	const nobody = "+15555559999"
	login, _ := smsStart(t, f.project, b, f.sms)
	unknown := send(b, login, nobody)
	known := send(b, login, smsPhone)
	f.code(t, smsPhone)
	norm := func(p page, phone string) string {
		return strings.ReplaceAll(strings.Replace(p.Body, stateOf(t, p), "STATE", 1), esc(phone), "PHONE")
	}
	if known.StatusCode != unknown.StatusCode || norm(known, smsPhone) != norm(unknown, nobody) {
		t.Fatalf("the pages differ:\n%s\n---\n%s", norm(known, smsPhone), norm(unknown, nobody))
	}
	if sent := f.s.SMS.Sent(nobody); len(sent) != 0 {
		t.Fatalf("a message went to a number nobody has: %v", sent)
	}
	wk := verify(b, login, stateOf(t, known), "000000")
	wu := verify(b, login, stateOf(t, unknown), "000000")
	if wk.StatusCode != wu.StatusCode || norm(wk, smsPhone) != norm(wu, nobody) {
		t.Fatalf("wrong codes answer differently: %d %.300s / %d %.300s", wk.StatusCode, wk.Body, wu.StatusCode, wu.Body)
	}
}

// 5 wrong tries end the code; a new code retires the old one; the
// number's sending limit shows on the page; a code works for 5 minutes on
// the server's clock.
func TestSMSLogInCodeLimits(t *testing.T) {
	f := newSMSLogin(t, client.CreateApplicationInput{})
	b := newBrowser(t, f.s)
	login, _ := smsStart(t, f.project, b, f.sms)

	state := stateOf(t, send(b, login, smsPhone))
	code := f.code(t, smsPhone)
	for range 5 {
		wantError(t, "a wrong try", verify(b, login, state, otherCode(code)), http.StatusUnauthorized, "Wrong code.")
	}
	wantError(t, "the right code after 5 wrong tries", verify(b, login, state, code), http.StatusUnauthorized, "ask for a new one")

	first := stateOf(t, send(b, login, smsPhone))
	firstCode := f.code(t, smsPhone)
	second := stateOf(t, send(b, login, smsPhone))
	secondCode := f.code(t, smsPhone)
	// The number's limit: 3 codes in 15 minutes.
	limited := send(b, login, smsPhone)
	wantError(t, "a fourth code in 15 minutes", limited, http.StatusTooManyRequests, "codes sent to this number")
	if limited.Header.Get("Retry-After") == "" || !strings.Contains(limited.Body, `id="sms-form"`) || !strings.Contains(limited.Body, `value="`+esc(smsPhone)+`"`) {
		t.Fatalf("the limited page: %v %.800s", limited.Header, limited.Body)
	}
	if firstCode != secondCode {
		wantError(t, "a retired code", verify(b, login, first, firstCode), http.StatusUnauthorized, "Wrong code.")
	}
	f.clock.Advance(4*time.Minute + 50*time.Second)
	verify(b, login, second, secondCode).redirect(t) // within its 5 minutes

	// Expiry, on another number (this one's limit is reached).
	const phone2 = "+15555550101"
	f.invite(t, f.project, f.sms, phone2)
	login, _ = smsStart(t, f.project, b, f.sms)
	state = stateOf(t, send(b, login, phone2))
	code = f.code(t, phone2)
	f.clock.Advance(5*time.Minute + time.Second)
	wantError(t, "an expired code", verify(b, login, state, code), http.StatusUnauthorized, "ask for a new one")
}

// A number of another project is nobody's here: no message goes to it and
// its project's code does not log in; a state of one project's login is
// refused on another's.
func TestSMSLogInStaysInItsProject(t *testing.T) {
	f := newSMSLogin(t, client.CreateApplicationInput{})
	other := newProject(t, f.s, "Other")
	otherSMS := other.newApp(t, client.CreateApplicationInput{Name: "Other texting", PasswordlessSMS: ptr(true)})
	b := newBrowser(t, f.s)

	loginO, _ := smsStart(t, other, b, otherSMS)
	stepO := send(b, loginO, smsPhone)
	// The code goes to the number only for the project that has it.
	login, _ := smsStart(t, f.project, b, f.sms)
	step := send(b, login, smsPhone)
	code := f.code(t, smsPhone)
	if n := len(f.s.SMS.Sent(smsPhone)); n != f.texts.Read(smsPhone) {
		t.Fatalf("%d messages to the number, want %d: another project's login texted it", n, f.texts.Read(smsPhone))
	}
	wantError(t, "this project's code on the other's login", verify(b, loginO, stateOf(t, stepO), code), http.StatusUnauthorized, "Wrong code.")
	wantError(t, "this project's state on the other's login", verify(b, loginO, stateOf(t, step), code), http.StatusUnauthorized, "start again")
	verify(b, login, stateOf(t, step), code).redirect(t)
}

// The phone form shows only for an application with passwordlessSMS, and
// alone when it has loginWithEmailEnabled false; with neither, the page
// says it offers no login.
func TestSMSLogInFormFollowsTheApplication(t *testing.T) {
	f := newSMSLogin(t, client.CreateApplicationInput{})
	b := newBrowser(t, f.s)
	show := func(a app) (*url.URL, page) {
		login, _ := smsStart(t, f.project, b, a)
		return login, b.get(login.String())
	}

	login, off := show(f.app) // no passwordlessSMS
	if strings.Contains(off.Body, `id="sms-form"`) || !strings.Contains(off.Body, `name="password"`) {
		t.Fatalf("an application without passwordlessSMS: %.800s", off.Body)
	}
	wantError(t, "a code asked for on it", send(b, login, smsPhone), http.StatusForbidden, "SMS sign-in is turned off")
	if sent := f.s.SMS.Sent(smsPhone); len(sent) != f.texts.Read(smsPhone) {
		t.Fatal("a code went out for an application without passwordlessSMS")
	}

	only := f.newApp(t, client.CreateApplicationInput{Name: "Texts only", PasswordlessSMS: ptr(true), LoginWithEmailEnabled: ptr(false)})
	login, alone := show(only)
	if !strings.Contains(alone.Body, `id="sms-form"`) || strings.Contains(alone.Body, `name="password"`) || strings.Contains(alone.Body, `id="off"`) {
		t.Fatalf("an application with SMS login only: %.800s", alone.Body)
	}
	wantError(t, "a password posted to it", b.post(login.String(), url.Values{"authRequest": {login.Query().Get("authRequest")}, "email": {f.email}, "password": {password}}),
		http.StatusForbidden, "turned off")

	none := f.newApp(t, client.CreateApplicationInput{Name: "Nothing", LoginWithEmailEnabled: ptr(false)})
	if _, nothing := show(none); !strings.Contains(nothing.Body, `id="off"`) || strings.Contains(nothing.Body, "<form") {
		t.Fatalf("an application with no login: %.800s", nothing.Body)
	}
}

// On an application with mfaEnabled the code is the first factor: the
// TOTP step follows, no session begins before it, and the amr says both.
func TestSMSLogInThenTOTP(t *testing.T) {
	f := newSMSLogin(t, client.CreateApplicationInput{MfaEnabled: ptr(true)})
	b := newBrowser(t, f.s)
	login, z := smsStart(t, f.project, b, f.sms)
	state := stateOf(t, send(b, login, smsPhone))
	step := verify(b, login, state, f.code(t, smsPhone))
	if step.StatusCode != http.StatusOK || !strings.Contains(step.Body, `<img id="qr"`) {
		t.Fatalf("after the SMS code: %d %.800s", step.StatusCode, step.Body)
	}
	if c := step.Header.Get("Set-Cookie"); strings.Contains(c, "atrium_session") {
		t.Fatal("a session began after the SMS code alone")
	}
	totpState := html.UnescapeString(stateField.FindStringSubmatch(step.Body)[1])
	secret := secretField.FindStringSubmatch(step.Body)[1]
	code, err := totp.GenerateCode(secret, time.Now())
	atriumtest.Must(t, err)
	saved := b.post(login.String(), url.Values{"authRequest": {login.Query().Get("authRequest")}, "state": {totpState}, "factor": {"enrol"}, "code": {code}})
	next := continueLink.FindStringSubmatch(saved.Body)
	if saved.StatusCode != http.StatusOK || next == nil {
		t.Fatalf("after the enrolment: %d %.800s", saved.StatusCode, saved.Body)
	}
	cb, err := url.Parse(html.UnescapeString(next[1]))
	atriumtest.Must(t, err)
	if amr := amrOf(t, f.project, f.sms, b, f.finish(t, b, login.ResolveReference(cb), z), z); !slices.Equal(amr, []string{"sms", "otp", "mfa"}) {
		t.Fatalf("amr %v after an SMS code and TOTP", amr)
	}
}
