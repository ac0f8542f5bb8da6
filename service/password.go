package service

// The hosted pages' room: what a project's pages show of it, forgotten
// passwords (an emailed link, valid one hour, used once, replaced by a newer
// one), the reset link an administrator asks for, and self-registration on
// the sign-up page.
//
// A reset ticket is "<handle>.<secret>": the handle names the account (a
// hash of the project and the user id), so the ticket is found by _id; only
// the hash of the whole ticket is kept. Asking for a link for an address
// that has no account does the same work as for one that has (one read, one
// ticket made and written under a handle of the address) but sends nothing,
// so neither the answer nor its time tells them apart.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"strings"
	"time"

	"atrium/auth"
	"atrium/iam"
	"atrium/mail"
	"atrium/store"
)

// PasswordResetTTL is how long a password reset link works.
const PasswordResetTTL = time.Hour

// HostedPath is the path of one of a project's hosted pages, under its
// issuer: /p/<projectId>/<page> (page "reset", "forgot", "signup", "login").
func HostedPath(projectID, page string) string {
	return "/p/" + url.PathEscape(projectID) + "/" + page
}

// HostedProject is what a project's hosted pages show of it.
type HostedProject struct {
	ID, Name string
	// SignupOpen reports whether people may register themselves: the
	// project's signupEnabled, with a defaultPatientRole to give them.
	SignupOpen bool
	// LoginURL is where a person signs in to the project's applications:
	// the first application's loginRedirectUri (in the listing's order) that
	// is an absolute http(s) URL, "" when none is.
	LoginURL string
}

// HostedProject describes a project for its hosted pages; NOT_FOUND for a
// project that does not exist.
func (s *Service) HostedProject(ctx context.Context, projectID string) (_ *HostedProject, err error) {
	_, op, err := s.begin(ctx, ucHostedProject, "")
	defer op.end(&err)
	p, err := s.hostedProject(ctx, projectID)
	if err != nil {
		return nil, err
	}
	return &HostedProject{ID: p.ID, Name: p.Name, SignupOpen: p.SignupEnabled && p.DefaultPatientRoleID != "",
		LoginURL: s.loginURL(ctx, s.db.Tenant(p.ID), "")}, nil
}

func (s *Service) hostedProject(ctx context.Context, projectID string) (*iam.Project, error) {
	if projectID == "" {
		return nil, projectNotFound(projectID)
	}
	p, err := s.db.Tenant(projectID).Project(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return nil, projectNotFound(projectID)
	}
	return p, err
}

// loginURL is where a user of the application with appID signs in: its
// loginRedirectUri, else the project's first application's, else "".
func (s *Service) loginURL(ctx context.Context, t *store.Tenant, appID string) string {
	if appID != "" {
		if a, err := t.Applications().Get(ctx, appID); err == nil && iam.ValidWebURL(a.LoginRedirectURI) == nil {
			return a.LoginRedirectURI
		}
	}
	apps, err := t.ListApplications(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "listing the applications for a login link", "error", err.Error())
		return ""
	}
	for _, a := range apps {
		if iam.ValidWebURL(a.LoginRedirectURI) == nil {
			return a.LoginRedirectURI
		}
	}
	return ""
}

// ForgotPassword emails a password reset link to the active user of the
// project with the email, if there is one. The answer is the same, after the
// same work, whether or not there is: nil, unless the input is invalid, the
// project unknown, or too many links were asked for (per address and per
// account, as sign-ins are limited). authRequest, when not "", is the login
// in progress (see the hosted pages); the link carries it, so that the reset
// page can return to that login.
func (s *Service) ForgotPassword(ctx context.Context, projectID, email, authRequest string) (err error) {
	_, op, err := s.begin(ctx, ucForgotPassword, "")
	defer op.end(&err)
	p, err := s.hostedProject(ctx, projectID)
	if err != nil {
		return err
	}
	op.inProject(p.ID)
	if email, err = normaliseEmail("email", email); err != nil {
		return err
	}
	if err := s.throttle.Request(ctx, "password reset", p.ID+"/"+email, clientAddr(ctx)); err != nil {
		return err
	}
	t := s.db.Tenant(p.ID)
	u, err := t.UserByEmail(ctx, email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	send := err == nil && u.Status == iam.Active
	handle, userID := accountHandle(p.ID, "email", email), ""
	if send {
		handle, userID = accountHandle(p.ID, "user", u.ID), u.ID
		op.target(u.ID)
	}
	link, err := s.newReset(ctx, p.ID, handle, userID, "", authRequest)
	if err != nil || !send || s.mailer == nil {
		return err
	}
	// Only the project's name, which is at hand: reading the user's
	// application here would be work the other path does not do.
	s.mailer.SendPasswordReset(mail.PasswordReset{To: u.Email, URL: link, ProjectName: p.Name})
	return nil
}

// accountHandle names an account's reset ticket: a user's by its id (so a
// changed email keeps the handle), an address without an account by the
// address.
func accountHandle(projectID, kind, key string) string {
	sum := sha256.Sum256([]byte(projectID + "\x00" + kind + "\x00" + key))
	return hex.EncodeToString(sum[:16])
}

// newReset makes the account's one open reset ticket, replacing any older
// one, and returns its link (with authRequest, when not "").
func (s *Service) newReset(ctx context.Context, projectID, handle, userID, redirectURL, authRequest string) (string, error) {
	ticket := handle + "." + auth.NewSecret()
	err := s.db.Resets().Put(ctx, store.Reset{Handle: handle, ProjectID: projectID, UserID: userID,
		Hash: auth.HashSecret(ticket), ExpiresAt: s.now().Add(PasswordResetTTL), RedirectURL: redirectURL})
	if err != nil {
		return "", err
	}
	link := s.publicURL + HostedPath(projectID, "reset") + "?" + url.Values{"ticket": {ticket}}.Encode()
	if authRequest != "" {
		link += "&" + url.Values{"authRequest": {authRequest}}.Encode()
	}
	return link, nil
}

var errBadReset = iam.Errorf(iam.NotFound, "this password reset link is not valid: it may have been used already, or replaced by a newer one")

var errExpiredReset = iam.Errorf(iam.NotFound, "this password reset link has expired: ask for a new one")

// PasswordReset is what a reset link is for, and where its page goes once
// the password is set.
type PasswordReset struct {
	User        *iam.User
	ProjectName string
	// RedirectURL is where the administrator who made the link wants the
	// user to go after the reset; "" when not set.
	RedirectURL string
	// LoginURL is where the user signs in (see HostedProject.LoginURL,
	// starting from the user's own application); "" when none is known.
	LoginURL string
	handle   string
	hash     string
}

// OpenPasswordReset looks a reset ticket of the project up without using it.
func (s *Service) OpenPasswordReset(ctx context.Context, projectID, ticket string) (_ *PasswordReset, err error) {
	_, op, err := s.begin(ctx, ucOpenPasswordReset, "")
	defer op.end(&err)
	return s.openReset(ctx, projectID, ticket)
}

func (s *Service) openReset(ctx context.Context, projectID, ticket string) (*PasswordReset, error) {
	p, err := s.hostedProject(ctx, projectID)
	if err != nil {
		return nil, err
	}
	handle, _, ok := strings.Cut(ticket, ".")
	if !ok || handle == "" {
		return nil, errBadReset
	}
	r := &PasswordReset{ProjectName: p.Name, handle: handle, hash: auth.HashSecret(ticket)}
	stored, err := s.db.Resets().Get(ctx, handle, r.hash, s.now())
	if err := resetError(err); err != nil {
		return nil, err
	}
	if stored.ProjectID != p.ID || stored.UserID == "" {
		return nil, errBadReset
	}
	t := s.db.Tenant(p.ID)
	u, err := t.Users().Get(ctx, stored.UserID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Status != iam.Active) {
		return nil, errBadReset
	}
	if err != nil {
		return nil, err
	}
	r.User, r.RedirectURL, r.LoginURL = u, stored.RedirectURL, s.loginURL(ctx, t, u.ApplicationID)
	return r, nil
}

// resetError is ticketError for reset tickets.
func resetError(err error) error { return ticketErrorAs(err, errBadReset, errExpiredReset) }

// ResetPassword sets a new password with a reset ticket of the project. The
// password follows the same rules as an invitation's; the ticket is used up
// by one conditional delete, so of concurrent uses exactly one succeeds.
func (s *Service) ResetPassword(ctx context.Context, projectID, ticket, password string) (_ *PasswordReset, err error) {
	_, op, err := s.begin(ctx, ucResetPassword, "")
	defer op.end(&err)
	r, err := s.openReset(ctx, projectID, ticket)
	if err != nil {
		return nil, err
	}
	op.inProject(r.User.ProjectID)
	op.target(r.User.ID)
	if err := checkPassword("password", password, r.User.Email); err != nil {
		return nil, err
	}
	hash, err := auth.HashPassword(ctx, password)
	if err != nil {
		return nil, err
	}
	if _, err := s.db.Resets().Use(ctx, r.handle, r.hash, s.now()); err != nil {
		return nil, resetError(err)
	}
	u, err := s.db.Tenant(r.User.ProjectID).Users().Update(ctx, r.User.ID, 0, func(u *iam.User) error {
		if u.Status != iam.Active {
			return errBadReset
		}
		u.PasswordHash = hash
		return nil
	})
	if err != nil {
		return nil, resetError(err)
	}
	r.User = u
	// The link proved the owner: its failed sign-ins are forgotten, so an
	// account locked by someone guessing opens with the new password.
	if err := s.throttle.Forgive(context.WithoutCancel(ctx), signInKey(u.ProjectID, u.Email)); err != nil {
		s.log.WarnContext(ctx, "forgetting the failed sign-ins after a reset", "error", err.Error())
	}
	s.log.InfoContext(ctx, "password reset", "user", u.ID)
	return r, nil
}

// ResetLink is a password reset link made for an administrator.
type ResetLink struct {
	URL       string
	ExpiresAt time.Time
}

// UserPasswordResetLink makes a password reset link for an active user of
// the project in scope, replacing any older link, and returns it (nothing
// is emailed). redirectURL, when given, is where the reset page sends the
// user afterwards; it must be exactly the loginRedirectUri or one of the
// allowedCallbackUrls of one of the project's applications.
func (s *Service) UserPasswordResetLink(ctx context.Context, userID, redirectURL string) (_ *ResetLink, err error) {
	sc, op, err := s.begin(ctx, ucUserPasswordResetLink, userID)
	defer op.end(&err)
	if err != nil {
		return nil, err
	}
	t := sc.tenant
	u, err := t.Users().Get(ctx, userID)
	if err != nil {
		return nil, asNotFound(err, "user", userID, "input.id")
	}
	switch u.Status {
	case iam.Invited:
		return nil, iam.Errorf(iam.Conflict, "user %q has not accepted the invitation yet: use resendInvitation instead", userID)
	case iam.Disabled:
		return nil, iam.Errorf(iam.Conflict, "user %q is disabled: enable it first", userID)
	}
	if redirectURL = strings.TrimSpace(redirectURL); redirectURL != "" {
		if err := s.allowedRedirect(ctx, t, redirectURL); err != nil {
			return nil, err
		}
	}
	link, err := s.newReset(ctx, t.ProjectID(), accountHandle(t.ProjectID(), "user", u.ID), u.ID, redirectURL, "")
	if err != nil {
		return nil, err
	}
	return &ResetLink{URL: link, ExpiresAt: s.now().Add(PasswordResetTTL).Truncate(time.Millisecond)}, nil
}

// allowedRedirect accepts a URL one of the project's applications allows:
// its loginRedirectUri or one of its allowedCallbackUrls, exactly.
func (s *Service) allowedRedirect(ctx context.Context, t *store.Tenant, u string) error {
	const field = "input.redirectUrl"
	if err := iam.ValidWebURL(u); err != nil {
		return iam.Invalid(field, "%s", err.Error())
	}
	apps, err := t.ListApplications(ctx)
	if err != nil {
		return err
	}
	for _, a := range apps {
		if a.LoginRedirectURI == u {
			return nil
		}
		for _, c := range a.AllowedCallbackURLs {
			if c == u {
				return nil
			}
		}
	}
	return iam.Invalid(field, "%q is not the loginRedirectUri or one of the allowedCallbackUrls of an application of this project", u)
}
