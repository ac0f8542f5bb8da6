package service

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"atrium/auth"
	"atrium/iam"
	"atrium/store"
)

// Session is the result of a successful sign-in.
type Session struct {
	AccessToken string
	ExpiresAt   time.Time
	User        *iam.User
}

// publicApplication finds the application a public operation names; its
// project is the one the operation acts in.
func (s *Service) publicApplication(ctx context.Context, id string) (*iam.Application, error) {
	app, err := s.db.Application(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &iam.Error{Code: iam.NotFound, Message: "application not found", Field: "input.applicationId"}
	}
	if err != nil {
		return nil, err
	}
	if !app.LoginWithEmailEnabled {
		return nil, iam.Errorf(iam.Forbidden, "email and password sign-in is turned off for application %q", app.Name)
	}
	return app, nil
}

// SignIn checks a user's email and password and issues an access token bound
// to the user's project. An unknown email and a wrong password fail the same
// way after the same work, and repeated failures for one email are refused
// for a while. An application that asks for a second factor is refused:
// its users sign in with StartSignIn and the steps after it.
func (s *Service) SignIn(ctx context.Context, applicationID, email, password string) (_ *Session, err error) {
	_, op, err := s.begin(ctx, ucSignIn, "")
	defer op.end(&err)
	app, err := s.publicApplication(ctx, applicationID)
	if err != nil {
		return nil, err
	}
	if app.MFAEnabled {
		// Refused before the password is checked: no answer tells whether it was right.
		return nil, iam.Errorf(iam.Forbidden, "this application asks for a second factor: sign in with startSignIn (or its login page)")
	}
	u, err := s.checkUserPassword(ctx, op, app.ProjectID, email, password)
	if err != nil {
		return nil, err
	}
	return s.session(ctx, u)
}

// checkUserPassword is the first factor of every sign-in of a project's
// user (GraphQL signIn, the hosted login page): the email and password,
// under the sign-in throttle. An unknown email and a wrong password fail
// the same way after the same work. It records the sign-in on the user.
func (s *Service) checkUserPassword(ctx context.Context, op *op, projectID, email, password string) (_ *iam.User, err error) {
	email, err = normaliseEmail("input.email", email)
	if err != nil {
		return nil, err
	}
	t := s.db.Tenant(projectID)
	op.inProject(projectID)
	var u *iam.User
	err = s.throttle.SignIn(ctx, signInKey(projectID, email), clientAddr(ctx), password, func() (string, bool, error) {
		var err error
		if u, err = t.UserByEmail(ctx, email); err != nil {
			return "", false, ignoreNotFound(err)
		}
		op.target(u.ID)
		return u.PasswordHash, true, nil
	})
	if err != nil {
		return nil, err
	}
	if why := refusedUser(u); why != "" {
		return nil, cannotAct(why)
	}
	op.actor(auth.User, u.ID)
	now := s.now().Truncate(time.Millisecond)
	return t.Users().Update(ctx, u.ID, 0, func(u *iam.User) error {
		u.LastSignInAt = &now
		return nil
	})
}

// signInKey is the account a user's sign-ins are throttled as.
func signInKey(projectID, email string) string { return projectID + "/" + email }

func (s *Service) session(ctx context.Context, u *iam.User) (*Session, error) {
	token, exp, err := s.tokens.Issue(ctx, auth.Principal{Kind: auth.User, ID: u.ID, ProjectID: u.ProjectID})
	if err != nil {
		return nil, err
	}
	return &Session{AccessToken: token, ExpiresAt: exp, User: u}, nil
}

// SignUpInput registers a user without an invitation.
type SignUpInput struct {
	ApplicationID string
	Email         string
	Password      string
	// Resource is the user's Patient resource; a bare Patient when nil.
	Resource map[string]any
}

// SignUp registers an active user with the project's default patient role,
// when the project allows self-registration, and signs it in.
func (s *Service) SignUp(ctx context.Context, in SignUpInput) (_ *Session, err error) {
	_, op, err := s.begin(ctx, ucSignUp, "")
	defer op.end(&err)
	app, err := s.publicApplication(ctx, in.ApplicationID)
	if err != nil {
		return nil, err
	}
	t := s.db.Tenant(app.ProjectID)
	op.inProject(app.ProjectID)
	p, err := t.Project(ctx)
	if err != nil {
		return nil, err
	}
	u, err := s.register(ctx, op, t, p, app.ID, in.Email, in.Password, in.Resource)
	if err != nil {
		return nil, err
	}
	return s.session(ctx, u)
}

// CreateAccount registers a user on a project's sign-up page, as SignUp
// does but without signing it in (the page leads to the login page) and
// without an application (the page belongs to the project).
func (s *Service) CreateAccount(ctx context.Context, projectID, email, password string) (_ *iam.User, err error) {
	_, op, err := s.begin(ctx, ucCreateAccount, "")
	defer op.end(&err)
	p, err := s.hostedProject(ctx, projectID)
	if err != nil {
		return nil, err
	}
	op.inProject(p.ID)
	return s.register(ctx, op, s.db.Tenant(p.ID), p, "", email, password, nil)
}

// register creates an active Patient user holding the project's default
// patient role, when the project allows self-registration. An anonymous
// caller learns only that the email is taken, nothing of the account; two
// registrations of one email at once make one user (the unique index).
func (s *Service) register(ctx context.Context, op *op, t *store.Tenant, p *iam.Project, appID, email, password string, resource map[string]any) (*iam.User, error) {
	if !p.SignupEnabled {
		return nil, iam.Errorf(iam.Forbidden, "self-registration is turned off for this project; ask for an invitation")
	}
	if p.DefaultPatientRoleID == "" {
		// A user must hold a role or a policy; self-registered users get theirs
		// from the project.
		return nil, iam.Errorf(iam.Forbidden, "self-registration needs the project's defaultPatientRole; ask the project's developers to set it")
	}
	email, err := normaliseEmail("input.email", email)
	if err != nil {
		return nil, err
	}
	if err := checkPassword("input.password", password, email); err != nil {
		return nil, err
	}
	if resource == nil {
		resource = map[string]any{"resourceType": "Patient"}
	}
	profile, err := newProfile("input.resource", resource, []string{"Patient"}, p.ID, email)
	if err != nil {
		return nil, err
	}
	hash, err := auth.HashPassword(ctx, password)
	if err != nil {
		return nil, err
	}
	u := &iam.User{
		ID: uuid.NewString(), Name: email, Email: email, AuthenticationMethod: "email",
		RoleIDs: []string{p.DefaultPatientRoleID}, Status: iam.Active,
		ApplicationID: appID, PasswordHash: hash,
	}
	errTaken := iam.Errorf(iam.Conflict, "an account with this email already exists; sign in instead")
	if err := s.notMember(ctx, t, u); iam.ErrorCode(err) == iam.Conflict {
		return nil, errTaken
	} else if err != nil {
		return nil, err
	}
	if err := s.withProfile(ctx, t, profile, &u.Profile, func() error { return t.Users().Insert(ctx, u) }); err != nil {
		if errors.Is(err, store.ErrDuplicate) {
			return nil, errTaken
		}
		return nil, err
	}
	op.target(u.ID)
	return u, nil
}
