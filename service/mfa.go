package service

// The TOTP second factor (RFC 6238, github.com/pquerna/otp): enrolment in
// the middle of a sign-in (a secret shown once with its otpauth URL and QR
// code, confirmed by one code, then single-use recovery codes), the code
// asked at later sign-ins, recovery codes in its place, and the
// administrators' reset. Secrets are sealed at rest, recovery codes kept as
// MACs. The library allows one step of skew but remembers nothing, so the
// last accepted step is kept on the user and a code of that step or an
// earlier one is refused (RFC 6238 §5.2). Wrong codes go through the sign-in
// throttle under a key of their own.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"image/png"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"atrium/iam"
)

// The TOTP parameters every authenticator app understands.
var totpOptions = totp.ValidateOpts{Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

const (
	// enrolmentTTL is how long an enrolment waits for its first code.
	enrolmentTTL = 10 * time.Minute
	// recoveryCodes is how many recovery codes an enrolment hands out.
	recoveryCodes = 10
	// qrSize is the side of the QR code image, in pixels.
	qrSize = 256
)

// TOTPEnrolment is a secret being enrolled, shown to the user once.
type TOTPEnrolment struct {
	// Secret is the base32 secret, for typing into an authenticator app.
	Secret string
	// URL is the otpauth:// URL the QR code holds.
	URL string
	// QRCode is a PNG image of URL.
	QRCode    []byte
	ExpiresAt time.Time
}

var totpCode = regexp.MustCompile(`^[0-9]{6}$`)

// errWrongCode is the answer for a wrong, reused or outdated code.
var errWrongCode = iam.Errorf(iam.Unauthenticated, "wrong code")

// errNoMatch tells the throttle's check that a code did not match.
var errNoMatch = errors.New("no match")

// sealTOTP is the seal context of a user's TOTP secret.
func sealTOTP(userID string) string { return "totp/" + userID }

// macRecovery is the MAC context of a user's recovery codes.
func macRecovery(userID string) string { return "recovery/" + userID }

// BeginTOTPEnrolment makes a new TOTP secret for the user of a login state
// whose next step is EnrolTOTP. It replaces an enrolment not yet
// confirmed; a user who already has a second factor is refused, so that a
// password alone never replaces one.
func (s *Service) BeginTOTPEnrolment(ctx context.Context, state string) (_ *TOTPEnrolment, err error) {
	_, op, err := s.begin(ctx, ucBeginTotpEnrolment, "")
	defer op.end(&err)
	l, err := s.openLogin(ctx, op, state, SignInEnrolTOTP)
	if err != nil {
		return nil, err
	}
	account := firstNonEmpty(l.user.Email, l.user.PhoneNumber)
	key, err := totp.Generate(totp.GenerateOpts{Issuer: l.app.Name, AccountName: account, Period: totpOptions.Period,
		Digits: totpOptions.Digits, Algorithm: totpOptions.Algorithm, Rand: rand.Reader})
	if err != nil {
		return nil, err
	}
	sealed, err := s.sealer.Seal(sealTOTP(l.user.ID), []byte(key.Secret()))
	if err != nil {
		return nil, err
	}
	expires := s.now().Add(enrolmentTTL).Truncate(time.Millisecond)
	_, err = l.t.Users().Update(ctx, l.user.ID, 0, func(u *iam.User) error {
		if u.MFA.Enrolled() {
			return iam.Errorf(iam.Conflict, "this user already has a second factor: give its code (an administrator can reset it)")
		}
		if u.MFA == nil {
			u.MFA = &iam.MFA{}
		}
		u.MFA.Pending, u.MFA.PendingExpiresAt = sealed, expires
		return nil
	})
	if err != nil {
		return nil, err
	}
	img, err := key.Image(qrSize, qrSize)
	if err != nil {
		return nil, err
	}
	var qr bytes.Buffer
	if err := png.Encode(&qr, img); err != nil {
		return nil, err
	}
	return &TOTPEnrolment{Secret: key.Secret(), URL: key.URL(), QRCode: qr.Bytes(), ExpiresAt: expires}, nil
}

// SecondFactor names the code a second step of a sign-in gives.
type SecondFactor string

// The second factors.
const (
	// FactorEnrolTOTP confirms an enrolment (Next EnrolTOTP).
	FactorEnrolTOTP SecondFactor = "enrol"
	// FactorTOTP is a TOTP code (Next VerifyTOTP).
	FactorTOTP SecondFactor = "totp"
	// FactorRecoveryCode is a recovery code in its place.
	FactorRecoveryCode SecondFactor = "recovery"
)

// ConfirmTOTPEnrolment confirms an enrolment with one code of its secret:
// the secret becomes the user's second factor, the sign-in goes on (done,
// with amr pwd+otp+mfa) and the step carries the recovery codes, shown
// this once.
func (s *Service) ConfirmTOTPEnrolment(ctx context.Context, state, code string) (_ *LoginStep, err error) {
	_, op, err := s.begin(ctx, ucConfirmTotpEnrolment, "")
	defer op.end(&err)
	return s.withSession(ctx)(s.secondFactor(ctx, op, state, FactorEnrolTOTP, code, ""))
}

// VerifyTOTP checks the code of the user's second factor, for a login
// state whose next step is VerifyTOTP. A code is good once: it, and any
// code of an earlier step, is refused afterwards.
func (s *Service) VerifyTOTP(ctx context.Context, state, code string) (_ *LoginStep, err error) {
	_, op, err := s.begin(ctx, ucVerifyTotp, "")
	defer op.end(&err)
	return s.withSession(ctx)(s.secondFactor(ctx, op, state, FactorTOTP, code, ""))
}

// UseRecoveryCode takes one of the user's recovery codes in place of a
// TOTP code; each works once.
func (s *Service) UseRecoveryCode(ctx context.Context, state, code string) (_ *LoginStep, err error) {
	_, op, err := s.begin(ctx, ucUseRecoveryCode, "")
	defer op.end(&err)
	return s.withSession(ctx)(s.secondFactor(ctx, op, state, FactorRecoveryCode, code, ""))
}

// secondFactor checks the code of a login state's second step, under the
// throttle; applicationID, when not empty, is the application the state
// must be for (the login page's authorization request's).
func (s *Service) secondFactor(ctx context.Context, op *op, state string, factor SecondFactor, code, applicationID string) (*LoginStep, error) {
	next := SignInVerifyTOTP
	if factor == FactorEnrolTOTP {
		next = SignInEnrolTOTP
	}
	l, err := s.openLogin(ctx, op, state, next)
	if err != nil {
		return nil, err
	}
	if applicationID != "" && l.app.ID != applicationID {
		return nil, errLoginState
	}
	switch factor {
	case FactorEnrolTOTP:
		return s.confirmTOTP(ctx, l, code)
	case FactorTOTP:
		return s.verifyTOTP(ctx, l, code)
	case FactorRecoveryCode:
		return s.useRecoveryCode(ctx, l, code)
	}
	return nil, iam.Invalid("factor", "%q is not one of enrol, totp, recovery", factor)
}

func (s *Service) confirmTOTP(ctx context.Context, l *loginAt, code string) (*LoginStep, error) {
	if err := checkCode(code); err != nil {
		return nil, err
	}
	if l.user.MFA == nil || len(l.user.MFA.Pending) == 0 || !s.now().Before(l.user.MFA.PendingExpiresAt) {
		return nil, iam.Errorf(iam.Conflict, "no enrolment is waiting for a code (it may have expired): begin the enrolment again")
	}
	codes, macs := s.newRecoveryCodes(l.user.ID)
	err := s.throttle.Check(ctx, mfaKey(l), clientAddr(ctx), errWrongCode, func() (bool, error) {
		return s.acceptCode(ctx, l, code, func(m *iam.MFA) []byte { return m.Pending }, func(m *iam.MFA, now time.Time) {
			m.Secret, m.Pending, m.PendingExpiresAt = m.Pending, nil, time.Time{}
			m.RecoveryCodes, m.EnrolledAt = macs, &now
		})
	})
	if err != nil {
		return nil, err
	}
	st, err := s.step(ctx, l.t, l.app, l.user, append(slices.Clone(l.state.AMR), AMROTP))
	if err != nil {
		return nil, err
	}
	st.RecoveryCodes = codes
	return st, nil
}

func (s *Service) verifyTOTP(ctx context.Context, l *loginAt, code string) (*LoginStep, error) {
	if err := checkCode(code); err != nil {
		return nil, err
	}
	if !l.user.MFA.Enrolled() {
		return nil, errLoginState // reset since the state was made
	}
	err := s.throttle.Check(ctx, mfaKey(l), clientAddr(ctx), errWrongCode, func() (bool, error) {
		return s.acceptCode(ctx, l, code, func(m *iam.MFA) []byte { return m.Secret }, nil)
	})
	if err != nil {
		return nil, err
	}
	return s.step(ctx, l.t, l.app, l.user, append(slices.Clone(l.state.AMR), AMROTP))
}

func (s *Service) useRecoveryCode(ctx context.Context, l *loginAt, code string) (*LoginStep, error) {
	code = normalRecoveryCode(code)
	if len(code) != 10 {
		return nil, iam.Invalid("input.code", "a recovery code has 10 letters and digits, such as abcde-12345")
	}
	err := s.throttle.Check(ctx, mfaKey(l), clientAddr(ctx), errWrongCode, func() (bool, error) {
		u, err := l.t.Users().Update(ctx, l.user.ID, 0, func(u *iam.User) error {
			if !u.MFA.Enrolled() {
				return errNoMatch
			}
			i := slices.IndexFunc(u.MFA.RecoveryCodes, func(mac string) bool { return s.sealer.MACMatches(macRecovery(u.ID), code, mac) })
			if i < 0 {
				return errNoMatch
			}
			u.MFA.RecoveryCodes = slices.Delete(slices.Clone(u.MFA.RecoveryCodes), i, i+1)
			return nil
		})
		if errors.Is(err, errNoMatch) {
			return false, nil
		}
		if err == nil {
			l.user = u
		}
		return err == nil, err
	})
	if err != nil {
		return nil, err
	}
	return s.step(ctx, l.t, l.app, l.user, append(slices.Clone(l.state.AMR), AMRRecovery))
}

// ResetUserMFA removes a user's second factor and recovery codes: it
// enrols again at its next sign-in to an application that asks for one.
func (s *Service) ResetUserMFA(ctx context.Context, id string) (_ *iam.User, err error) {
	sc, op, err := s.begin(ctx, ucResetUserMfa, id)
	defer op.end(&err)
	if err != nil {
		return nil, err
	}
	u, err := sc.tenant.Users().Update(ctx, id, 0, func(u *iam.User) error {
		u.MFA = nil
		return nil
	})
	return u, asNotFound(err, "user", id, "input.id")
}

// mfaKey is the throttle's key of a user's second factor.
func mfaKey(l *loginAt) string { return "mfa/" + l.state.ProjectID + "/" + l.user.ID }

func checkCode(code string) error {
	if !totpCode.MatchString(code) {
		return iam.Invalid("input.code", "a code has 6 digits")
	}
	return nil
}

// acceptCode checks code against the secret secretOf picks and, if it is
// of a later step than any accepted before, records its step (and what
// then changes) in the same conditional write: of two requests with one
// code, one wins. It reports whether the code was accepted.
func (s *Service) acceptCode(ctx context.Context, l *loginAt, code string, secretOf func(*iam.MFA) []byte, then func(*iam.MFA, time.Time)) (bool, error) {
	now := s.now()
	u, err := l.t.Users().Update(ctx, l.user.ID, 0, func(u *iam.User) error {
		if u.MFA == nil || len(secretOf(u.MFA)) == 0 {
			return errNoMatch
		}
		secret, err := s.sealer.Open(sealTOTP(u.ID), secretOf(u.MFA))
		if err != nil {
			return err
		}
		step, ok := matchTOTP(string(secret), code, now)
		if !ok || step <= u.MFA.LastStep {
			return errNoMatch
		}
		u.MFA.LastStep = step
		if then != nil {
			then(u.MFA, now.Truncate(time.Millisecond))
		}
		return nil
	})
	if errors.Is(err, errNoMatch) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	l.user = u
	return true, nil
}

// matchTOTP finds the time step, within one step of now, whose code is
// code.
func matchTOTP(secret, code string, now time.Time) (int64, bool) {
	period := int64(totpOptions.Period)
	for d := int64(totpOptions.Skew); d >= -int64(totpOptions.Skew); d-- {
		step := now.Unix()/period + d
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*period, 0), totpOptions)
		if err == nil && subtleEqual(want, code) {
			return step, true
		}
	}
	return 0, false
}

// newRecoveryCodes returns fresh recovery codes, formatted for reading,
// and their MACs.
func (s *Service) newRecoveryCodes(userID string) (codes, macs []string) {
	const alphabet = "abcdefghjkmnpqrstuvwxyz23456789" // no 0/o, 1/l/i
	for range recoveryCodes {
		b := make([]byte, 10)
		for i := range b {
			b[i] = alphabet[randIntn(len(alphabet))]
		}
		codes = append(codes, string(b[:5])+"-"+string(b[5:]))
		macs = append(macs, s.sealer.MAC(macRecovery(userID), string(b)))
	}
	return codes, macs
}

// normalRecoveryCode drops the separators and case a person may type.
func normalRecoveryCode(code string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, strings.ToLower(strings.TrimSpace(code)))
}

func subtleEqual(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// randIntn is a uniform random number in [0, n) from crypto/rand.
func randIntn(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return int(v.Int64())
}
