package service

// Passwordless SMS on the hosted login page, for an application with
// passwordlessSMS: the same code as startSmsSignIn / verifySmsSignIn
// (smscode.go: its limits, its lifetime and tries, the same answer for a
// number nobody has), bound to the authorization request. StartSMSLogIn
// sends the code and answers a state, sealed over the project, the request
// and the number, that the page's code step carries; LogInSMS checks the
// code for that number only and then begins the browser session, or, for
// an application with mfaEnabled, answers the TOTP step (LogInSecondFactor
// goes on from there). The state proves nothing but which number the code
// was sent to: without the right code it logs nobody in.

import (
	"context"
	"time"

	"atrium/iam"
)

// sealSMSLogin is the seal context of the states of SMS logins.
const sealSMSLogin = "sms-login-state"

// smsLoginState is what the state of an SMS login's code step holds.
type smsLoginState struct {
	ProjectID     string `json:"p"`
	AuthRequestID string `json:"r"`
	Phone         string `json:"ph"`
	ExpiresAt     int64  `json:"e"`
}

// SMSLogIn is the code step of an SMS login on the hosted page.
type SMSLogIn struct {
	Request *iam.AuthRequest
	Client  *OpenIDClient
	// Phone is the number the code went to, normalised.
	Phone string
	// State is what the code step posts back (sealed).
	State string
	// ExpiresAt is until when the code works.
	ExpiresAt time.Time
}

// StartSMSLogIn sends a login code to a phone number for an authorization
// request whose application has passwordlessSMS. The answer is the same
// whether or not a user has the number.
func (s *Service) StartSMSLogIn(ctx context.Context, projectID, authRequestID, phone string) (_ *SMSLogIn, err error) {
	_, op, err := s.begin(ctx, ucStartSmsLogIn, "")
	defer op.end(&err)
	_, r, c, err := s.loginRequest(ctx, op, projectID, authRequestID)
	if err != nil {
		return nil, err
	}
	phone, err = smsAllowed(op, c.Application, phone)
	if err != nil {
		return nil, err
	}
	sent, err := s.sendSMSCode(ctx, op, c.Application, phone)
	if err != nil {
		return nil, err
	}
	state, err := s.sealState(sealSMSLogin, smsLoginState{ProjectID: projectID, AuthRequestID: r.ID, Phone: phone, ExpiresAt: s.now().Add(loginStateTTL).Unix()})
	if err != nil {
		return nil, err
	}
	return &SMSLogIn{Request: r, Client: c, Phone: phone, State: state, ExpiresAt: sent.ExpiresAt}, nil
}

// LogInSMS checks the code of an SMS login (state is StartSMSLogIn's, for
// this authorization request) and begins the browser session with amr
// "sms", or answers the second factor the application asks for (Step).
func (s *Service) LogInSMS(ctx context.Context, projectID, authRequestID, state, code string) (_ *Login, err error) {
	_, op, err := s.begin(ctx, ucLogInSms, "")
	defer op.end(&err)
	t, r, c, err := s.loginRequest(ctx, op, projectID, authRequestID)
	if err != nil {
		return nil, err
	}
	var st smsLoginState
	if !s.openState(sealSMSLogin, state, &st) || st.ProjectID != projectID || st.AuthRequestID != r.ID || !s.now().Before(time.Unix(st.ExpiresAt, 0)) {
		return nil, errLoginState
	}
	phone, err := smsAllowed(op, c.Application, st.Phone)
	if err != nil {
		return nil, err
	}
	_, u, err := s.checkSMSCode(ctx, op, c.Application, phone, code)
	if err != nil {
		return nil, err
	}
	step, err := s.step(ctx, t, c.Application, u, []string{AMRSMS})
	if err != nil {
		return nil, err
	}
	if step.Next != SignInDone {
		return &Login{Request: r, Client: c, Step: step}, nil
	}
	return s.beginBrowserSession(ctx, t, r, c, u.ID, step.AMR)
}
