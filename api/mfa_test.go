package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image/png"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"atrium/atriumtest"
)

// Tests of the TOTP second factor through GraphQL: enrolment in the middle
// of a sign-in, codes at later sign-ins (computed here with
// totp.GenerateCode on the server's clock), replay, recovery codes, the
// throttle, the login state and resetUserMfa.

const (
	startSignInDoc = `mutation($a: ID!, $e: String!, $p: String!) { startSignIn(input: {applicationId: $a, email: $e, password: $p}) {
		next state stateExpiresAt amr recoveryCodes session { accessToken user { id } } } }`
	beginEnrolmentDoc = `mutation($s: String!) { beginTotpEnrolment(input: {state: $s}) { secret otpauthUrl qrCode expiresAt } }`
	stepFields        = `{ next state amr recoveryCodes session { accessToken user { id } } }`
	confirmDoc        = `mutation($s: String!, $c: String!) { confirmTotpEnrolment(input: {state: $s, code: $c}) ` + stepFields + ` }`
	verifyDoc         = `mutation($s: String!, $c: String!) { verifyTotp(input: {state: $s, code: $c}) ` + stepFields + ` }`
	recoveryDoc       = `mutation($s: String!, $c: String!) { useRecoveryCode(input: {state: $s, code: $c}) ` + stepFields + ` }`
)

// signInStep is a decoded SignInStepPayload.
type signInStep struct {
	Next          string
	State         string
	AMR           []string `json:"amr"`
	RecoveryCodes []string
	Session       *struct {
		AccessToken string
		User        struct{ ID string }
	}
}

// mfaFixture is a server on a clock, an application with mfaEnabled and
// an active user of it.
type mfaFixture struct {
	s     *atriumtest.Server
	clock *atriumtest.Clock
	app   string
	email string
	anon  *atriumtest.Client
}

func newMFAFixture(t *testing.T) *mfaFixture {
	t.Helper()
	clock := atriumtest.NewClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	s := atriumtest.NewServer(t, atriumtest.WithClock(clock))
	f := &mfaFixture{s: s, clock: clock, email: "mfa@example.com", anon: s.Client("", "")}
	f.app = activeUser(t, s, f.email)
	s.Operator(s.Sandbox).MustDo(t, `mutation($id: ID!) { updateApplication(input: {id: $id, mfaEnabled: true}) { application { mfaEnabled } } }`,
		map[string]any{"id": f.app}, nil)
	return f
}

// run performs a step mutation and decodes its payload (under name).
func (f *mfaFixture) run(t *testing.T, doc, name string, vars map[string]any) (*signInStep, *atriumtest.Response) {
	t.Helper()
	r := f.anon.Do(t, doc, vars)
	if len(r.Errors) > 0 {
		return nil, r
	}
	var out map[string]signInStep
	atriumtest.Must(t, json.Unmarshal(r.Data, &out))
	st := out[name]
	return &st, r
}

func (f *mfaFixture) start(t *testing.T) *signInStep {
	t.Helper()
	st, r := f.run(t, startSignInDoc, "startSignIn", map[string]any{"a": f.app, "e": f.email, "p": testPassword})
	if st == nil {
		t.Fatalf("startSignIn: %s", r.Raw)
	}
	return st
}

// enrol signs in and enrols a TOTP secret; it returns the secret and the
// recovery codes.
func (f *mfaFixture) enrol(t *testing.T) (secret string, recovery []string) {
	t.Helper()
	st := f.start(t)
	var e struct{ BeginTotpEnrolment struct{ Secret string } }
	f.anon.MustDo(t, beginEnrolmentDoc, map[string]any{"s": st.State}, &e)
	code, err := totp.GenerateCode(e.BeginTotpEnrolment.Secret, f.clock.Now())
	atriumtest.Must(t, err)
	done, r := f.run(t, confirmDoc, "confirmTotpEnrolment", map[string]any{"s": st.State, "c": code})
	if done == nil || done.Next != "DONE" {
		t.Fatalf("confirmTotpEnrolment: %s", r.Raw)
	}
	return e.BeginTotpEnrolment.Secret, done.RecoveryCodes
}

// signedIn checks that a finished step carries a session that works.
func (f *mfaFixture) signedIn(t *testing.T, st *signInStep, amr ...string) {
	t.Helper()
	if st.Next != "DONE" || st.State != "" || st.Session == nil || !slices.Equal(st.AMR, amr) {
		t.Fatalf("want DONE with a session and amr %v, got %+v", amr, st)
	}
	var me struct{ Me struct{ ID string } }
	f.s.Client(st.Session.AccessToken, "").MustDo(t, `{ me { id } }`, nil, &me)
	if me.Me.ID != st.Session.User.ID {
		t.Fatalf("the session is %s's, the sign-in %s's", me.Me.ID, st.Session.User.ID)
	}
}

func TestTOTPEnrolmentThenSignInWithCodes(t *testing.T) {
	t.Parallel()
	f := newMFAFixture(t)

	// The one-step signIn cannot bypass the second factor.
	expectError(t, signInResponse(t, f.s, f.app, f.email, testPassword), "FORBIDDEN", "second factor")
	_, r := f.run(t, startSignInDoc, "startSignIn", map[string]any{"a": f.app, "e": f.email, "p": "wrong-password-123"})
	expectError(t, r, "UNAUTHENTICATED", "wrong email or password")

	st := f.start(t)
	if st.Next != "ENROL_TOTP" || st.State == "" || st.Session != nil || !slices.Equal(st.AMR, []string{"pwd"}) {
		t.Fatalf("first sign-in of a user without a second factor: %+v", st)
	}
	// A state for enrolment is not good for verifying.
	_, r = f.run(t, verifyDoc, "verifyTotp", map[string]any{"s": st.State, "c": "123456"})
	expectField(t, r, "UNAUTHENTICATED", "input.state")

	var e struct {
		BeginTotpEnrolment struct{ Secret, OtpauthURL, QRCode string }
	}
	f.anon.MustDo(t, strings.NewReplacer("otpauthUrl", "otpauthURL: otpauthUrl", "qrCode", "qRCode: qrCode").Replace(beginEnrolmentDoc), map[string]any{"s": st.State}, &e)
	en := e.BeginTotpEnrolment
	u, err := url.Parse(en.OtpauthURL)
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" || u.Query().Get("secret") != en.Secret || u.Query().Get("issuer") != "Portal" {
		t.Fatalf("otpauth URL %q for secret %q", en.OtpauthURL, en.Secret)
	}
	raw, err := base64.StdEncoding.DecodeString(en.QRCode)
	atriumtest.Must(t, err)
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil || img.Bounds().Dx() < 100 {
		t.Fatalf("the QR code is not a PNG image: %v", err)
	}
	// The secret rests sealed.
	stored, err := f.s.DB.Tenant(f.s.Sandbox).UserByEmail(context.Background(), f.email)
	atriumtest.Must(t, err)
	if stored.MFA == nil || len(stored.MFA.Pending) == 0 || bytes.Contains(stored.MFA.Pending, []byte(en.Secret)) {
		t.Fatalf("the pending secret is not stored sealed: %+v", stored.MFA)
	}

	_, r = f.run(t, confirmDoc, "confirmTotpEnrolment", map[string]any{"s": st.State, "c": wrongCode(t, en.Secret, f.clock.Now())})
	expectError(t, r, "UNAUTHENTICATED", "wrong code")
	code, err := totp.GenerateCode(en.Secret, f.clock.Now())
	atriumtest.Must(t, err)
	done, r := f.run(t, confirmDoc, "confirmTotpEnrolment", map[string]any{"s": st.State, "c": code})
	if done == nil {
		t.Fatalf("confirm: %s", r.Raw)
	}
	f.signedIn(t, done, "pwd", "otp", "mfa")
	if len(done.RecoveryCodes) != 10 {
		t.Fatalf("recovery codes %v", done.RecoveryCodes)
	}
	stored, err = f.s.DB.Tenant(f.s.Sandbox).UserByEmail(context.Background(), f.email)
	atriumtest.Must(t, err)
	for _, c := range done.RecoveryCodes {
		for _, mac := range stored.MFA.RecoveryCodes {
			if strings.Contains(mac, strings.ReplaceAll(c, "-", "")) {
				t.Fatalf("recovery code %s stored as it is", c)
			}
		}
	}
	// The state of the enrolment cannot enrol another secret now.
	f.anon.Fails(t, "CONFLICT", "", beginEnrolmentDoc, map[string]any{"s": st.State})

	// Later sign-ins ask for a code; the code just used is refused.
	st = f.start(t)
	if st.Next != "VERIFY_TOTP" || st.State == "" {
		t.Fatalf("sign-in of an enrolled user: %+v", st)
	}
	_, r = f.run(t, verifyDoc, "verifyTotp", map[string]any{"s": st.State, "c": code})
	expectError(t, r, "UNAUTHENTICATED", "wrong code")
	f.clock.Advance(30 * time.Second)
	previous := code
	code, err = totp.GenerateCode(en.Secret, f.clock.Now())
	atriumtest.Must(t, err)
	done, r = f.run(t, verifyDoc, "verifyTotp", map[string]any{"s": st.State, "c": code})
	if done == nil {
		t.Fatalf("verify: %s", r.Raw)
	}
	f.signedIn(t, done, "pwd", "otp", "mfa")
	// Replayed within its window, or a code of the step before: refused.
	for _, c := range []string{code, previous} {
		_, r = f.run(t, verifyDoc, "verifyTotp", map[string]any{"s": f.start(t).State, "c": c})
		expectError(t, r, "UNAUTHENTICATED", "wrong code")
	}
	// One step of skew: the code of the next step is accepted.
	next, err := totp.GenerateCode(en.Secret, f.clock.Now().Add(30*time.Second))
	atriumtest.Must(t, err)
	done, r = f.run(t, verifyDoc, "verifyTotp", map[string]any{"s": f.start(t).State, "c": next})
	if done == nil {
		t.Fatalf("a code one step ahead: %s", r.Raw)
	}

	// A tampered state, and one past its 10 minutes, are refused.
	st = f.start(t)
	tampered := []byte(st.State)
	tampered[len(tampered)/2] ^= 1
	_, r = f.run(t, verifyDoc, "verifyTotp", map[string]any{"s": string(tampered), "c": "123456"})
	expectField(t, r, "UNAUTHENTICATED", "input.state")
	f.clock.Advance(11 * time.Minute)
	code, err = totp.GenerateCode(en.Secret, f.clock.Now())
	atriumtest.Must(t, err)
	_, r = f.run(t, verifyDoc, "verifyTotp", map[string]any{"s": st.State, "c": code})
	expectField(t, r, "UNAUTHENTICATED", "input.state")
	_, r = f.run(t, verifyDoc, "verifyTotp", map[string]any{"s": st.State, "c": "12345"})
	expectField(t, r, "UNAUTHENTICATED", "input.state")
}

func TestRecoveryCodesWorkOnce(t *testing.T) {
	t.Parallel()
	f := newMFAFixture(t)
	_, codes := f.enrol(t)
	st := f.start(t)
	done, r := f.run(t, recoveryDoc, "useRecoveryCode", map[string]any{"s": st.State, "c": strings.ToUpper(codes[3])})
	if done == nil {
		t.Fatalf("useRecoveryCode: %s", r.Raw)
	}
	f.signedIn(t, done, "pwd", "rec", "mfa")
	_, r = f.run(t, recoveryDoc, "useRecoveryCode", map[string]any{"s": f.start(t).State, "c": codes[3]})
	expectError(t, r, "UNAUTHENTICATED", "wrong code")
	done, _ = f.run(t, recoveryDoc, "useRecoveryCode", map[string]any{"s": f.start(t).State, "c": codes[4]})
	if done == nil || done.Next != "DONE" {
		t.Fatalf("another recovery code: %+v", done)
	}
	_, r = f.run(t, recoveryDoc, "useRecoveryCode", map[string]any{"s": f.start(t).State, "c": "short"})
	expectField(t, r, "BAD_USER_INPUT", "input.code")
}

// Wrong codes are throttled like passwords: after 5, even the right code
// is refused for a while.
func TestWrongTOTPCodesAreThrottled(t *testing.T) {
	t.Parallel()
	f := newMFAFixture(t)
	secret, _ := f.enrol(t)
	f.clock.Advance(30 * time.Second)
	st := f.start(t)
	wrong := wrongCode(t, secret, f.clock.Now())
	for i := range 5 {
		_, r := f.run(t, verifyDoc, "verifyTotp", map[string]any{"s": st.State, "c": wrong})
		if r.Code() != "UNAUTHENTICATED" {
			t.Fatalf("wrong code %d: %s", i+1, r.Raw)
		}
	}
	code, err := totp.GenerateCode(secret, f.clock.Now())
	atriumtest.Must(t, err)
	_, r := f.run(t, verifyDoc, "verifyTotp", map[string]any{"s": st.State, "c": code})
	thWantLimit(t, r, 5)
	// The recovery codes share the limit.
	_, r = f.run(t, recoveryDoc, "useRecoveryCode", map[string]any{"s": st.State, "c": "abcde-fghjk"})
	thWantLimit(t, r, 5)
}

func TestResetUserMFA(t *testing.T) {
	t.Parallel()
	f := newMFAFixture(t)
	f.enrol(t)
	if st := f.start(t); st.Next != "VERIFY_TOTP" {
		t.Fatalf("enrolled: %+v", st)
	}
	op := f.s.Operator(f.s.Sandbox)
	var id struct {
		Users struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	op.MustDo(t, `{ users(filter: {email: "mfa@example.com"}) { edges { node { id } } } }`, nil, &id)
	uid := id.Users.Edges[0].Node.ID
	reset := `mutation($id: ID!) { resetUserMfa(input: {id: $id}) { user { id } } }`

	// Someone whose policy does not allow App:ResetUserMFA, and another
	// project's operator view, are refused.
	other := f.s.CreateProject(t, "Other")
	f.s.Operator(other).Fails(t, "NOT_FOUND", "input.id", reset, map[string]any{"id": uid})
	staff := atriumtest.CreateRole(t, op, "Readers", atriumtest.Allow("App:User", "App:GetUser"))
	reader := invite(t, op, f.app, staff, "reader@example.com")
	f.s.Accept(t, reader.Ticket, testPassword)
	tok := signInResponse(t, f.s, createApplication(t, op, "Plain"), "reader@example.com", testPassword)
	var sess struct{ SignIn struct{ AccessToken string } }
	atriumtest.Must(t, json.Unmarshal(tok.Data, &sess))
	f.s.Client(sess.SignIn.AccessToken, "").Fails(t, "FORBIDDEN", "", reset, map[string]any{"id": uid})
	if st := f.start(t); st.Next != "VERIFY_TOTP" {
		t.Fatalf("a refused reset changed the user: %+v", st)
	}

	op.MustDo(t, reset, map[string]any{"id": uid}, nil)
	if st := f.start(t); st.Next != "ENROL_TOTP" {
		t.Fatalf("after resetUserMfa: %+v", st)
	}
	var ev struct {
		AuditEvents struct {
			Edges []struct{ Node struct{ Outcome string } }
		}
	}
	op.MustDo(t, `query($id: ID!) { auditEvents(filter: {targetId: $id, action: "App:ResetUserMFA"}) { edges { node { outcome } } } }`, map[string]any{"id": uid}, &ev)
	if n := len(ev.AuditEvents.Edges); n != 2 { // the refused one and the reset
		t.Fatalf("%d App:ResetUserMFA events: %+v", n, ev)
	}
}

// wrongCode is a 6-digit code that is not the secret's at now or a step
// around it.
func wrongCode(t *testing.T, secret string, now time.Time) string {
	t.Helper()
	var good []string
	for d := -1; d <= 1; d++ {
		c, err := totp.GenerateCode(secret, now.Add(time.Duration(d)*30*time.Second))
		atriumtest.Must(t, err)
		good = append(good, c)
	}
	for _, c := range []string{"000000", "111111", "222222"} {
		if !slices.Contains(good, c) {
			return c
		}
	}
	t.Fatal("no wrong code found")
	return ""
}

// expectField checks that r failed with code on the input field.
func expectField(t *testing.T, r *atriumtest.Response, code, field string) {
	t.Helper()
	expectError(t, r, code)
	if got := r.Errors[0].Extensions.Field; got != field {
		t.Fatalf("error on field %q, want %q: %s", got, field, r.Errors[0].Message)
	}
}
