package service

// Sign-ins of more than one step. A first factor (a password, an SMS code,
// an SSO connection) gives a LoginStep: either the sign-in is done, or the
// application asks for a second factor (mfaEnabled) and the step carries a
// login state for the next one.
//
// For the hosted login page (and any other caller of these use cases): the
// login state is the only proof that a first factor succeeded. It is sealed
// (AES-GCM, auth.Tokens.Seal) over the project, the application, the user,
// the factors so far (amr) and the step it is good for, and it expires
// after loginStateTTL; nobody can make one for another user, and a state
// for one step is refused by the others. The page keeps it server-side (on
// its auth request) or in a hidden form field, and passes it to
// BeginTOTPEnrolment / ConfirmTOTPEnrolment (Next EnrolTOTP), or VerifyTOTP
// / UseRecoveryCode (Next VerifyTOTP). When a step answers Next Done, the
// page completes the auth request with step.User and step.AMR (the amr
// claim). The same use cases serve GraphQL (startSignIn, verifyTotp, ...),
// whose callers get step.Session.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"atrium/auth"
	"atrium/iam"
	"atrium/store"
)

// SignInNext is what a sign-in needs next.
type SignInNext string

// The steps of a sign-in.
const (
	SignInDone       SignInNext = "DONE"
	SignInEnrolTOTP  SignInNext = "ENROL_TOTP"
	SignInVerifyTOTP SignInNext = "VERIFY_TOTP"
)

// The authentication method references (RFC 8176) a sign-in records, for
// the amr claim.
const (
	AMRPassword  = "pwd"
	AMRSMS       = "sms"
	AMROTP       = "otp" // a TOTP code
	AMRRecovery  = "rec" // a recovery code, in place of a TOTP code (Atrium's own)
	AMRFederated = "fed" // an upstream IdP through an SSO connection
	AMRMFA       = "mfa" // more than one factor
)

// LoginStep is where a sign-in stands after a factor.
type LoginStep struct {
	Next SignInNext
	// State proves the factors so far to the next step; "" when done.
	State     string
	ExpiresAt time.Time
	User      *iam.User
	// ApplicationID is the application signed in to.
	ApplicationID string
	// AMR are the factors used so far, in order.
	AMR []string
	// Session is the access token of a finished sign-in (Next is Done)
	// through GraphQL; nil on the login page, which begins a browser
	// session instead (LogInSecondFactor).
	Session *Session
	// RecoveryCodes are shown once, at the end of a TOTP enrolment.
	RecoveryCodes []string
}

// loginStateTTL is how long a login state stays good.
const loginStateTTL = 10 * time.Minute

// sealLoginState is the seal context of login states.
const sealLoginState = "login-state"

// loginState is what a login state holds.
type loginState struct {
	ProjectID     string     `json:"p"`
	ApplicationID string     `json:"a"`
	UserID        string     `json:"u"`
	AMR           []string   `json:"amr"`
	Next          SignInNext `json:"n"`
	ExpiresAt     int64      `json:"e"`
}

// errLoginState is the answer for a login state that is not good (any
// more) for the step.
var errLoginState = &iam.Error{Code: iam.Unauthenticated, Message: "this sign-in has expired or is not at this step; start again", Field: "input.state"}

// step ends a factor: the sign-in is done unless the application asks for
// a second factor the user has not given yet.
func (s *Service) step(ctx context.Context, t *store.Tenant, app *iam.Application, u *iam.User, amr []string) (*LoginStep, error) {
	if why := refusedUser(u); why != "" {
		return nil, cannotAct(why)
	}
	st := &LoginStep{User: u, ApplicationID: app.ID, AMR: amr}
	second := slices.Contains(amr, AMROTP) || slices.Contains(amr, AMRRecovery)
	if app.MFAEnabled && !second {
		st.Next = SignInVerifyTOTP
		if !u.MFA.Enrolled() {
			st.Next = SignInEnrolTOTP
		}
		st.ExpiresAt = s.now().Add(loginStateTTL).Truncate(time.Second)
		var err error
		st.State, err = s.sealState(sealLoginState, loginState{ProjectID: app.ProjectID, ApplicationID: app.ID, UserID: u.ID, AMR: amr, Next: st.Next, ExpiresAt: st.ExpiresAt.Unix()})
		return st, err
	}
	if second {
		st.AMR = append(slices.Clone(amr), AMRMFA)
	}
	st.Next = SignInDone
	now := s.now().Truncate(time.Millisecond)
	u, err := t.Users().Update(ctx, u.ID, 0, func(u *iam.User) error {
		u.LastSignInAt = &now
		return nil
	})
	if err != nil {
		return nil, err
	}
	st.User = u
	return st, nil
}

// withSession gives a finished step an access token, for the callers that
// sign in through GraphQL (the login page begins a browser session
// instead): s.withSession(ctx)(step, err).
func (s *Service) withSession(ctx context.Context) func(*LoginStep, error) (*LoginStep, error) {
	return func(st *LoginStep, err error) (*LoginStep, error) {
		if err != nil || st.Next != SignInDone {
			return st, err
		}
		if st.Session, err = s.session(ctx, st.User); err != nil {
			return nil, err
		}
		return st, nil
	}
}

// sealState seals v (as JSON) for a form to carry between two steps, in
// the seal context kind, so that a state of one kind is no other.
func (s *Service) sealState(kind string, v any) (string, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	sealed, err := s.sealer.Seal(kind, raw)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(sealed), nil
}

// openState opens a state sealState made into v; false when it is not
// one of the kind (made up, altered or of another kind).
func (s *Service) openState(kind, state string, v any) bool {
	sealed, err := base64.RawURLEncoding.DecodeString(state)
	if err != nil {
		return false
	}
	raw, err := s.sealer.Open(kind, sealed)
	return err == nil && json.Unmarshal(raw, v) == nil
}

// loginAt is an open login state with what it names.
type loginAt struct {
	state loginState
	app   *iam.Application
	t     *store.Tenant
	user  *iam.User
}

// openLogin checks a login state for the step next and reads what it
// names; the user must still be able to act.
func (s *Service) openLogin(ctx context.Context, o *op, state string, next SignInNext) (*loginAt, error) {
	var l loginAt
	if !s.openState(sealLoginState, state, &l.state) || l.state.Next != next || !s.now().Before(time.Unix(l.state.ExpiresAt, 0)) {
		return nil, errLoginState
	}
	o.inProject(l.state.ProjectID)
	o.target(l.state.UserID)
	var err error
	l.app, err = s.db.Application(ctx, l.state.ApplicationID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && l.app.ProjectID != l.state.ProjectID) {
		return nil, errLoginState
	}
	if err != nil {
		return nil, err
	}
	l.t = s.db.Tenant(l.state.ProjectID)
	l.user, err = l.t.Users().Get(ctx, l.state.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errLoginState
	}
	if err != nil {
		return nil, err
	}
	if why := refusedUser(l.user); why != "" {
		return nil, cannotAct(why)
	}
	o.actor(auth.User, l.user.ID)
	return &l, nil
}

// StartSignIn is the first factor of a sign-in with email and password:
// the same check and throttle as SignIn, then the next step (a second
// factor when the application asks for one). The login page starts here.
func (s *Service) StartSignIn(ctx context.Context, applicationID, email, password string) (_ *LoginStep, err error) {
	_, op, err := s.begin(ctx, ucStartSignIn, "")
	defer op.end(&err)
	app, err := s.publicApplication(ctx, applicationID)
	if err != nil {
		return nil, err
	}
	u, err := s.checkUserPassword(ctx, op, app.ProjectID, email, password)
	if err != nil {
		return nil, err
	}
	return s.withSession(ctx)(s.step(ctx, s.db.Tenant(app.ProjectID), app, u, []string{AMRPassword}))
}
