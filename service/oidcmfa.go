package service

// The second factor on the hosted login page: LogIn answers a LoginStep
// instead of a session when the application has mfaEnabled; the page shows
// the TOTP step (BeginTOTPEnrolment for a user who has none yet) and posts
// its code here. The login state must be for the authorization request's
// application. The browser session then begins with the factors used, so
// the ID token's amr says them, and a session of one factor does not
// resume a login to such an application (ResumeSession).

import (
	"context"
)

// LogInSecondFactor checks the second factor of a login on the hosted page
// and, when it is right, begins the browser session and completes the
// authorization request. After an enrolment, the Login's Step carries the
// recovery codes to show once.
func (s *Service) LogInSecondFactor(ctx context.Context, projectID, authRequestID, state string, factor SecondFactor, code string) (_ *Login, err error) {
	_, op, err := s.begin(ctx, ucLogInSecondFactor, "")
	defer op.end(&err)
	t, r, c, err := s.loginRequest(ctx, op, projectID, authRequestID)
	if err != nil {
		return nil, err
	}
	st, err := s.secondFactor(ctx, op, state, factor, code, c.ID)
	if err != nil {
		return nil, err
	}
	if st.Next != SignInDone {
		return nil, errLoginState
	}
	login, err := s.beginBrowserSession(ctx, t, r, c, st.User.ID, st.AMR)
	if err != nil {
		return nil, err
	}
	login.Step = st
	return login, nil
}
