package api_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"atrium/atriumtest"
	"atrium/client"
)

// Tests of passwordless SMS sign-in through GraphQL, reading the codes from
// the test server's outbox (the dev sender): the invitation by SMS, one
// use, expiry on the server's clock, 5 tries, a new code retiring the old,
// the sending limits, and the same answer for a number nobody has.

const (
	startSMSDoc  = `mutation($a: ID!, $p: String!) { startSmsSignIn(input: {applicationId: $a, phoneNumber: $p}) { expiresAt } }`
	verifySMSDoc = `mutation($a: ID!, $p: String!, $c: String!) { verifySmsSignIn(input: {applicationId: $a, phoneNumber: $p, code: $c}) ` + stepFields + ` }`
)

const smsPhone = "+15555550100"

// smsFixture is a server on a clock (trusting the loopback proxy, so that
// a test can stand for many addresses), an application with
// passwordlessSMS and a user invited by phone.
type smsFixture struct {
	s     *atriumtest.Server
	clock *atriumtest.Clock
	app   string
	link  string
	anon  *atriumtest.Client
	texts *atriumtest.Texts
}

func newSMSFixture(t *testing.T) *smsFixture {
	t.Helper()
	clock := atriumtest.NewClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	s := atriumtest.NewServer(t, atriumtest.WithClock(clock), atriumtest.WithTrustedLoopbackProxy())
	op := s.Operator(s.Sandbox)
	f := &smsFixture{s: s, clock: clock, anon: s.Client("", "").ForwardedFor("203.0.113.7"), texts: s.Texts()}
	f.app = createApplication(t, op, "Clinic")
	op.MustDo(t, `mutation($id: ID!) { updateApplication(input: {id: $id, passwordlessSMS: true}) { application { id } } }`, map[string]any{"id": f.app}, nil)
	inv := atriumtest.Invite(t, op, client.InviteUserInput{PhoneNumber: ptr(smsPhone), ApplicationId: f.app, Roles: []string{createRole(t, op, "Patients")},
		Resource: &map[string]any{"resourceType": "Patient"}, ShouldSendInviteEmail: ptr(true)})
	f.link = inv.URL
	return f
}

// text waits for the next message to a number and returns its body.
func (f *smsFixture) text(t *testing.T, phone string) string {
	t.Helper()
	return f.texts.Next(t, phone)
}

var smsCodeRE = regexp.MustCompile(`^([0-9]{6}) is your Clinic sign-in code`)

// code asks for a code for phone and reads it from the outbox.
func (f *smsFixture) code(t *testing.T, phone string) string {
	t.Helper()
	f.anon.MustDo(t, startSMSDoc, map[string]any{"a": f.app, "p": phone}, nil)
	body := f.text(t, phone)
	m := smsCodeRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("message %q", body)
	}
	return m[1]
}

func (f *smsFixture) verify(t *testing.T, phone, code string) (*signInStep, *atriumtest.Response) {
	t.Helper()
	r := f.anon.Do(t, verifySMSDoc, map[string]any{"a": f.app, "p": phone, "c": code})
	if len(r.Errors) > 0 {
		return nil, r
	}
	var out struct{ VerifySmsSignIn signInStep }
	atriumtest.Must(t, json.Unmarshal(r.Data, &out))
	return &out.VerifySmsSignIn, r
}

// otherCode is a 6-digit code that is not code.
func otherCode(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

func TestSMSSignInOfAUserInvitedByPhone(t *testing.T) {
	t.Parallel()
	f := newSMSFixture(t)
	// The invitation link came by SMS.
	if body := f.text(t, smsPhone); !strings.Contains(body, f.link) || !strings.Contains(body, "Clinic") {
		t.Fatalf("invitation message %q, want the link %s", body, f.link)
	}

	code := f.code(t, smsPhone)
	_, r := f.verify(t, smsPhone, otherCode(code))
	expectError(t, r, "UNAUTHENTICATED", "wrong code")
	st, r := f.verify(t, smsPhone, code)
	if st == nil || st.Next != "DONE" || !slices.Equal(st.AMR, []string{"sms"}) || st.Session == nil {
		t.Fatalf("verifySmsSignIn: %s", r.Raw)
	}
	var me struct {
		Me struct{ Status, PhoneNumber, AuthenticationMethod string }
	}
	f.s.Client(st.Session.AccessToken, "").MustDo(t, `{ me { status phoneNumber authenticationMethod } }`, nil, &me)
	if me.Me.Status != "ACTIVE" || me.Me.PhoneNumber != smsPhone || me.Me.AuthenticationMethod != "sms" {
		t.Fatalf("the user after its first SMS sign-in: %+v", me.Me)
	}
	// One use.
	_, r = f.verify(t, smsPhone, code)
	expectField(t, r, "UNAUTHENTICATED", "input.code")
	wantMessage(t, r, "ask for a new one")

	// The server's log (at debug level) never holds a code or the link.
	if log := f.s.Log.String(); strings.Contains(log, code) || strings.Contains(log, f.link) {
		t.Fatal("a code or an invitation link is in the log")
	}
}

func TestSMSCodeExpiresAfterFiveMinutes(t *testing.T) {
	t.Parallel()
	f := newSMSFixture(t)
	f.text(t, smsPhone) // the invitation
	code := f.code(t, smsPhone)
	f.clock.Advance(5*time.Minute + time.Second)
	_, r := f.verify(t, smsPhone, code)
	expectField(t, r, "UNAUTHENTICATED", "input.code")

	code = f.code(t, smsPhone)
	f.clock.Advance(4*time.Minute + 50*time.Second)
	if st, r := f.verify(t, smsPhone, code); st == nil {
		t.Fatalf("a code within its 5 minutes: %s", r.Raw)
	}
}

func TestSMSCodeAllowsFiveTries(t *testing.T) {
	t.Parallel()
	f := newSMSFixture(t)
	f.text(t, smsPhone)
	code := f.code(t, smsPhone)
	for i := range 5 {
		_, r := f.verify(t, smsPhone, otherCode(code))
		if r.Code() != "UNAUTHENTICATED" || !strings.Contains(r.Errors[0].Message, "wrong code") {
			t.Fatalf("wrong try %d: %s", i+1, r.Raw)
		}
	}
	_, r := f.verify(t, smsPhone, code)
	expectField(t, r, "UNAUTHENTICATED", "input.code")
	wantMessage(t, r, "5 wrong tries")
}

func TestNewSMSCodeRetiresTheOldOne(t *testing.T) {
	t.Parallel()
	f := newSMSFixture(t)
	f.text(t, smsPhone)
	first := f.code(t, smsPhone)
	second := f.code(t, smsPhone)
	if first != second {
		_, r := f.verify(t, smsPhone, first)
		expectError(t, r, "UNAUTHENTICATED", "wrong code")
	}
	if st, r := f.verify(t, smsPhone, second); st == nil {
		t.Fatalf("the newest code: %s", r.Raw)
	}
}

func TestSMSSendingIsLimitedPerNumberAndAddress(t *testing.T) {
	t.Parallel()
	f := newSMSFixture(t)
	// Per number, from many addresses: 3 codes, then RATE_LIMITED.
	for i := range 4 {
		r := f.anon.ForwardedFor(fmt.Sprintf("198.51.100.%d", i+1)).Do(t, startSMSDoc, map[string]any{"a": f.app, "p": smsPhone})
		if i < 3 && len(r.Errors) > 0 {
			t.Fatalf("code %d: %s", i+1, r.Raw)
		}
		if i == 3 {
			thWantLimit(t, r, 3)
		}
	}
	// Per address, for many numbers (nobody's): 10, then RATE_LIMITED.
	for i := range 11 {
		r := f.anon.Do(t, startSMSDoc, map[string]any{"a": f.app, "p": fmt.Sprintf("+1555555%04d", 2000+i)})
		if i < 10 && len(r.Errors) > 0 {
			t.Fatalf("number %d: %s", i+1, r.Raw)
		}
		if i == 10 {
			thWantLimit(t, r, 10)
		}
	}
}

// A number nobody has gets the same answer, and its wrong codes the same
// error, as a user's; no message is sent to it.
func TestSMSUnknownNumberGetsTheSameAnswer(t *testing.T) {
	t.Parallel()
	f := newSMSFixture(t)
	f.text(t, smsPhone)
	const nobody = "+15555559999"
	var known, unknown struct{ StartSmsSignIn struct{ ExpiresAt time.Time } }
	f.anon.MustDo(t, startSMSDoc, map[string]any{"a": f.app, "p": nobody}, &unknown)
	f.anon.MustDo(t, startSMSDoc, map[string]any{"a": f.app, "p": smsPhone}, &known)
	if !known.StartSmsSignIn.ExpiresAt.Equal(unknown.StartSmsSignIn.ExpiresAt) {
		t.Fatalf("answers differ: %v and %v", known, unknown)
	}
	f.text(t, smsPhone) // delivered in order: the unknown number's would be out already
	if sent := f.s.SMS.Sent(nobody); len(sent) != 0 {
		t.Fatalf("a message went to a number nobody has: %v", sent)
	}
	_, rk := f.verify(t, smsPhone, "000000")
	_, ru := f.verify(t, nobody, "000000")
	if rk.Code() != ru.Code() || rk.Errors[0].Message != ru.Errors[0].Message {
		t.Fatalf("wrong code for a user's number: %s; for nobody's: %s", rk.Raw, ru.Raw)
	}
	// An application without passwordlessSMS refuses.
	other := createApplication(t, f.s.Operator(f.s.Sandbox), "Desk")
	r := f.anon.Do(t, startSMSDoc, map[string]any{"a": other, "p": smsPhone})
	expectError(t, r, "FORBIDDEN", "sms sign-in is turned off")
	r = f.anon.Do(t, startSMSDoc, map[string]any{"a": f.app, "p": "555-0100"})
	expectField(t, r, "BAD_USER_INPUT", "input.phoneNumber")
}
