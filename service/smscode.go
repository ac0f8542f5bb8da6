package service

// Passwordless sign-in by SMS, for applications with passwordlessSMS: a
// 6-digit code from crypto/rand, kept only as a MAC, good for 5 minutes,
// once and for 5 tries; a new code retires the one before. Sending is
// limited per phone number and per client address. A number that belongs
// to nobody gets the same answer after the same work (a code is made and
// stored), only no message: the messages leave off the answer path
// (sms.Outbox), so the answer's time does not tell either. A verified code
// is a first factor (amr "sms"); an invited user who signs in so has
// proven its number and becomes active.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"atrium/auth"
	"atrium/iam"
	"atrium/sms"
	"atrium/store"
)

// SMSSender sends text messages off the request path (sms.Outbox).
type SMSSender interface {
	SendSMS(sms.Message)
}

const (
	smsCodeTTL   = 5 * time.Minute
	smsCodeTries = 5
)

// The limits on sending codes: per phone number of a project, and per
// client address.
var (
	smsPhoneLimit   = auth.Limit{Max: 3, Window: 15 * time.Minute}
	smsAddressLimit = auth.Limit{Max: 10, Window: 15 * time.Minute}
)

// SMSCodeSent says until when the code just sent works.
type SMSCodeSent struct{ ExpiresAt time.Time }

// smsKey names the open code of a phone number in a project; it is also
// the MAC context of its code.
func smsKey(projectID, phone string) string { return projectID + "/" + phone }

// smsApplication is the application of an SMS sign-in, which must allow
// it.
func (s *Service) smsApplication(ctx context.Context, o *op, applicationID, phone string) (*iam.Application, string, error) {
	app, err := s.db.Application(ctx, applicationID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", &iam.Error{Code: iam.NotFound, Message: "application not found", Field: "input.applicationId"}
	}
	if err != nil {
		return nil, "", err
	}
	phone, err = smsAllowed(o, app, phone)
	return app, phone, err
}

// smsAllowed checks that the application allows SMS sign-in and the
// phone number (E.164), which it answers normalised.
func smsAllowed(o *op, app *iam.Application, phone string) (string, error) {
	if !app.PasswordlessSMS {
		return "", iam.Errorf(iam.Forbidden, "SMS sign-in is turned off for this application")
	}
	phone, err := checkPhone("input.phoneNumber", phone)
	if err != nil {
		return "", err
	}
	o.inProject(app.ProjectID)
	return phone, nil
}

// StartSMSSignIn sends a sign-in code to a phone number. The answer is the
// same whether or not a user has the number.
func (s *Service) StartSMSSignIn(ctx context.Context, applicationID, phone string) (_ *SMSCodeSent, err error) {
	_, op, err := s.begin(ctx, ucStartSmsSignIn, "")
	defer op.end(&err)
	app, phone, err := s.smsApplication(ctx, op, applicationID, phone)
	if err != nil {
		return nil, err
	}
	return s.sendSMSCode(ctx, op, app, phone)
}

// sendSMSCode makes, stores and sends the code of an SMS sign-in, under the
// sending limits (the phone number is checked already).
func (s *Service) sendSMSCode(ctx context.Context, op *op, app *iam.Application, phone string) (*SMSCodeSent, error) {
	if s.texts == nil {
		return nil, iam.Errorf(iam.Unavailable, "this Atrium sends no text messages (ATRIUM_SMS_SENDER is off)")
	}
	if addr := clientAddr(ctx); addr != "" {
		if err := s.throttle.Count(ctx, "sms/address/"+addr, smsAddressLimit, "codes sent from your address"); err != nil {
			return nil, err
		}
	}
	key := smsKey(app.ProjectID, phone)
	if err := s.throttle.Count(ctx, "sms/phone/"+key, smsPhoneLimit, "codes sent to this number"); err != nil {
		return nil, err
	}
	u, err := s.db.Tenant(app.ProjectID).UserByPhone(ctx, phone)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	code := fmt.Sprintf("%06d", randIntn(1_000_000))
	expires := s.now().Add(smsCodeTTL).Truncate(time.Millisecond)
	if err := s.db.SMSCodes().Put(ctx, key, app.ProjectID, s.sealer.MAC(key, code), expires); err != nil {
		return nil, err
	}
	if u != nil && u.Status != iam.Disabled {
		op.target(u.ID)
		s.texts.SendSMS(sms.Message{To: phone, Body: fmt.Sprintf("%s is your %s sign-in code. It expires in %d minutes.", code, app.Name, int(smsCodeTTL.Minutes()))})
	}
	return &SMSCodeSent{ExpiresAt: expires}, nil
}

// VerifySMSSignIn checks the code StartSMSSignIn sent and signs the
// number's user in (or on to the second factor, LoginStep).
func (s *Service) VerifySMSSignIn(ctx context.Context, applicationID, phone, code string) (_ *LoginStep, err error) {
	_, op, err := s.begin(ctx, ucVerifySmsSignIn, "")
	defer op.end(&err)
	app, phone, err := s.smsApplication(ctx, op, applicationID, phone)
	if err != nil {
		return nil, err
	}
	t, u, err := s.checkSMSCode(ctx, op, app, phone, code)
	if err != nil {
		return nil, err
	}
	return s.withSession(ctx)(s.step(ctx, t, app, u, []string{AMRSMS}))
}

// checkSMSCode checks a code sendSMSCode sent to the phone number (checked
// already) and answers the number's user, who has now proven it.
func (s *Service) checkSMSCode(ctx context.Context, op *op, app *iam.Application, phone, code string) (*store.Tenant, *iam.User, error) {
	if err := checkCode(code); err != nil {
		return nil, nil, err
	}
	key := smsKey(app.ProjectID, phone)
	outcome, err := s.db.SMSCodes().Try(ctx, key, smsCodeTries, s.now(), func(mac string) bool { return s.sealer.MACMatches(key, code, mac) })
	switch {
	case err != nil:
		return nil, nil, err
	case outcome == store.CodeGone:
		return nil, nil, &iam.Error{Code: iam.Unauthenticated, Field: "input.code",
			Message: fmt.Sprintf("no code is open for this number: it expired, was used, had %d wrong tries or was replaced; ask for a new one", smsCodeTries)}
	case outcome == store.CodeWrong:
		return nil, nil, errWrongCode
	}
	t := s.db.Tenant(app.ProjectID)
	u, err := t.UserByPhone(ctx, phone)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, errWrongCode // no code was sent: nobody can know it
	}
	if err != nil {
		return nil, nil, err
	}
	op.target(u.ID)
	if u.Status == iam.Invited {
		// The code proves the number the user was invited with.
		if u, err = t.Users().Update(ctx, u.ID, 0, func(u *iam.User) error {
			if u.Status == iam.Invited {
				u.Status, u.Invitation = iam.Active, nil
			}
			return nil
		}); err != nil {
			return nil, nil, err
		}
	}
	if why := refusedUser(u); why != "" {
		return nil, nil, cannotAct(why)
	}
	op.actor(auth.User, u.ID)
	return t, u, nil
}
