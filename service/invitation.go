package service

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/google/uuid"

	"atrium/access"
	"atrium/auth"
	"atrium/iam"
	"atrium/mail"
	"atrium/sms"
	"atrium/store"
)

// InvitationPath is where invitation links point; the ticket is the query
// parameter "ticket".
const InvitationPath = "/invitation"

// InviteInput is one invitation.
type InviteInput struct {
	Email                 *string
	PhoneNumber           *string
	Username              *string
	ApplicationID         string
	Roles                 []string
	AccessPolicy          *access.Policy
	Resource              map[string]any
	Profile               *string
	ShouldSendInviteEmail *bool
}

// Invited is a new user and the link where it sets its password.
type Invited struct {
	User          *iam.User
	InvitationURL string
}

// InviteUser invites one user to the project in scope.
func (s *Service) InviteUser(ctx context.Context, in InviteInput) (_ *Invited, err error) {
	sc, op, err := s.begin(ctx, ucInviteUser, "")
	defer op.end(&err)
	if err != nil {
		return nil, err
	}
	inv, err := s.invite(ctx, sc, "input", in)
	if err != nil {
		return nil, err
	}
	op.target(inv.User.ID)
	return inv, nil
}

// MaxInviteBatch bounds InviteUsers.
const MaxInviteBatch = 100

// InviteResult is the outcome of one row of InviteUsers.
type InviteResult struct {
	Invited *Invited
	Err     error
}

// InviteUsers invites each row on its own: a bad row fails alone.
func (s *Service) InviteUsers(ctx context.Context, rows []InviteInput) (_ []InviteResult, err error) {
	sc, op, err := s.begin(ctx, ucInviteUsers, "")
	defer op.end(&err)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 || len(rows) > MaxInviteBatch {
		return nil, iam.Invalid("input", "give between 1 and %d invitations", MaxInviteBatch)
	}
	out := make([]InviteResult, len(rows))
	for i, in := range rows {
		inv, err := s.invite(ctx, sc, fmt.Sprintf("input[%d]", i), in)
		err = domainError(err)
		if iam.ErrorCode(err) == iam.Internal && err != nil {
			s.log.ErrorContext(ctx, "invitation row failed", "row", i, "error", err.Error())
			err = iam.Errorf(iam.Internal, "internal server error")
		}
		out[i] = InviteResult{Invited: inv, Err: err}
	}
	return out, nil
}

func (s *Service) invite(ctx context.Context, sc *scope, at string, in InviteInput) (*Invited, error) {
	t := sc.tenant
	u := &iam.User{ID: uuid.NewString(), Status: iam.Invited, RoleIDs: []string{}}
	var err error
	if in.Email != nil && strings.TrimSpace(*in.Email) != "" {
		if u.Email, err = normaliseEmail(at+".email", *in.Email); err != nil {
			return nil, err
		}
	}
	if in.PhoneNumber != nil && strings.TrimSpace(*in.PhoneNumber) != "" {
		if u.PhoneNumber, err = checkPhone(at+".phoneNumber", *in.PhoneNumber); err != nil {
			return nil, err
		}
	}
	key := u.Email
	u.AuthenticationMethod = "email"
	if u.Email == "" {
		if u.PhoneNumber == "" {
			return nil, iam.Invalid(at+".email", "give an email, or a phoneNumber for a user who signs in by SMS")
		}
		key, u.AuthenticationMethod = u.PhoneNumber, "sms"
	}
	name := key
	if in.Username != nil && strings.TrimSpace(*in.Username) != "" {
		name = *in.Username
	}
	if u.Name, err = checkName(at+".username", name); err != nil {
		return nil, err
	}
	if err := needsAccess(at+".roles", in.Roles, in.AccessPolicy); err != nil {
		return nil, err
	}
	if in.AccessPolicy != nil {
		if err := checkPolicy(at+".accessPolicy", *in.AccessPolicy); err != nil {
			return nil, err
		}
		u.AccessPolicy = in.AccessPolicy
	}
	if u.RoleIDs, err = s.rolesOf(ctx, t, at+".roles", in.Roles); err != nil {
		return nil, err
	}
	app, err := s.application(ctx, t, in.ApplicationID, at+".applicationId")
	if err != nil {
		return nil, err
	}
	u.ApplicationID = app.ID
	if err := s.notMember(ctx, t, u); err != nil {
		return nil, err
	}

	// The profile: an existing one, or the given resource written first, and
	// removed again if the user cannot be written.
	var profile *iam.Profile
	switch {
	case in.Profile != nil && in.Resource != nil:
		return nil, iam.Invalid(at+".profile", "give either resource (a new profile) or profile (an existing one), not both")
	case in.Profile != nil:
		if u.Profile, err = s.existingProfile(ctx, t, at+".profile", *in.Profile); err != nil {
			return nil, err
		}
	case in.Resource != nil:
		if profile, err = newProfile(at+".resource", in.Resource, []string{"Patient", "Practitioner"}, t.ProjectID(), key); err != nil {
			return nil, err
		}
	default:
		return nil, iam.Invalid(at+".resource", "give the user's FHIR resource (Patient or Practitioner) or an existing profile reference")
	}

	ticket, hash := auth.NewTicket()
	u.Invitation = &iam.Ticket{Hash: hash, ExpiresAt: s.now().Add(s.inviteTTL)}
	if err := s.withProfile(ctx, t, profile, &u.Profile, func() error { return t.Users().Insert(ctx, u) }); err != nil {
		return nil, s.memberError(ctx, t, u, err)
	}
	link := s.invitationURL(ticket)
	send := app.ShouldSendInviteEmail
	if in.ShouldSendInviteEmail != nil {
		send = *in.ShouldSendInviteEmail
	}
	s.sendInvitation(ctx, send, sc, app, u, link)
	return &Invited{User: u, InvitationURL: link}, nil
}

// notMember refuses to invite an email or phone number that already belongs
// to a user of the project.
func (s *Service) notMember(ctx context.Context, t *store.Tenant, u *iam.User) error {
	for _, key := range []struct {
		value string
		find  func(context.Context, string) (*iam.User, error)
	}{{u.Email, t.UserByEmail}, {u.PhoneNumber, t.UserByPhone}} {
		if key.value == "" {
			continue
		}
		existing, err := key.find(ctx, key.value)
		if err == nil {
			return alreadyMember(key.value, existing.ID)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}

// memberError explains a duplicate-key failure of a user write, which a
// concurrent invitation of the same person can cause after notMember passed.
func (s *Service) memberError(ctx context.Context, t *store.Tenant, u *iam.User, err error) error {
	if !errors.Is(err, store.ErrDuplicate) {
		return err
	}
	if merr := s.notMember(ctx, t, u); merr != nil {
		return merr
	}
	return iam.Errorf(iam.Conflict, "%s is already a member of this project", firstNonEmpty(u.Email, u.PhoneNumber))
}

func alreadyMember(who, id string) error {
	return iam.Errorf(iam.Conflict, "%s is already a member of this project (user %s); use resendInvitation or updateUser instead", who, id)
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (s *Service) invitationURL(ticket string) string {
	return s.publicURL + InvitationPath + "?" + url.Values{"ticket": {ticket}}.Encode()
}

// sendInvitation hands the email to the mailer (or, for a user invited by
// phone, the SMS to the sender), which sends it off the request path. It
// never logs the link.
func (s *Service) sendInvitation(ctx context.Context, send bool, sc *scope, app *iam.Application, u *iam.User, link string) {
	if !send {
		return
	}
	smsInvite := u.Email == "" && u.PhoneNumber != "" && s.texts != nil
	if !smsInvite && (u.Email == "" || s.mailer == nil) {
		return
	}
	p, err := sc.Project(ctx)
	if err != nil {
		s.log.ErrorContext(ctx, "invitation not queued: reading the project", "user", u.ID, "error", err.Error())
		return
	}
	if smsInvite {
		// Invited by phone: the link goes by SMS, through the same sender
		// as sign-in codes.
		s.texts.SendSMS(sms.Message{To: u.PhoneNumber, Body: fmt.Sprintf("%s invites you to %s: %s", p.Name, app.Name, link)})
		s.log.InfoContext(ctx, "invitation sms queued", "user", u.ID)
		return
	}
	s.mailer.SendInvitation(mail.Invitation{To: u.Email, URL: link, ProjectName: p.Name, ApplicationName: app.Name})
	s.log.InfoContext(ctx, "invitation email queued", "user", u.ID)
}

// ResendInvitation gives a user who has not accepted yet a fresh link (and
// email, when the application sends them); older links stop working.
func (s *Service) ResendInvitation(ctx context.Context, userID string) (_ *Invited, err error) {
	sc, op, err := s.begin(ctx, ucResendInvitation, userID)
	defer op.end(&err)
	if err != nil {
		return nil, err
	}
	ticket, hash := auth.NewTicket()
	u, err := sc.tenant.Users().Update(ctx, userID, 0, func(u *iam.User) error {
		if u.Status != iam.Invited {
			return iam.Errorf(iam.Conflict, "user %q has already accepted the invitation", userID)
		}
		u.Invitation = &iam.Ticket{Hash: hash, ExpiresAt: s.now().Add(s.inviteTTL)}
		return nil
	})
	if err != nil {
		return nil, userWriteError(err, userID, "input.userId", 0)
	}
	link := s.invitationURL(ticket)
	if app, err := sc.tenant.Applications().Get(ctx, u.ApplicationID); err == nil {
		s.sendInvitation(ctx, app.ShouldSendInviteEmail, sc, app, u, link)
	}
	return &Invited{User: u, InvitationURL: link}, nil
}

// Invitation is what an invitation link shows: who is invited, to what.
// Exactly one of User and Developer is set.
type Invitation struct {
	Email       string
	ProjectName string
	Application *iam.Application // nil for developers, or if it was deleted since
	User        *iam.User
	Developer   *iam.Developer
	// Membership is the developer's place in the inviting project.
	Membership *iam.Membership
	// Phone is the number of a user invited by phone, who logs in with
	// the codes texted to it (passwordlessSMS) and needs no password.
	Phone string
	// LoginURL is where an invited user signs in once it has accepted: its
	// application's loginRedirectUri, else the project's first
	// application's (HostedProject.LoginURL), else "". "" for developers.
	LoginURL  string
	hash      string
	projectID string
}

var errBadTicket = iam.Errorf(iam.NotFound, "this invitation link is not valid: it may have been used already, or replaced by a newer one")

// errExpiredTicket is the answer to a ticket whose time is up; only its
// holder can ask, so saying so reveals nothing to anyone else.
var errExpiredTicket = iam.Errorf(iam.NotFound, "this invitation link has expired: ask the person who invited you for a new one")

// ticketError is the answer to a failed look-up or use of an invitation
// ticket: expired, not valid (unknown, used or replaced), or the store's
// own error.
func ticketError(err error) error { return ticketErrorAs(err, errBadTicket, errExpiredTicket) }

// ticketErrorAs is ticketError with the answers of a kind of ticket.
func ticketErrorAs(err, bad, expired error) error {
	switch {
	case errors.Is(err, store.ErrExpired):
		return expired
	case errors.Is(err, store.ErrNotFound):
		return bad
	}
	return err
}

// OpenInvitation looks an invitation ticket up without using it.
func (s *Service) OpenInvitation(ctx context.Context, ticket string) (_ *Invitation, err error) {
	_, op, err := s.begin(ctx, ucOpenInvitation, "")
	defer op.end(&err)
	return s.openInvitation(ctx, ticket)
}

func (s *Service) openInvitation(ctx context.Context, ticket string) (*Invitation, error) {
	if ticket == "" {
		return nil, errBadTicket
	}
	inv := &Invitation{hash: auth.HashSecret(ticket)}
	u, err := s.db.UserByInvitation(ctx, inv.hash, s.now())
	if errors.Is(err, store.ErrNotFound) {
		var m *iam.Membership
		if m, err = s.db.MembershipByInvitation(ctx, inv.hash, s.now()); err == nil {
			return s.developerInvitation(ctx, inv, m)
		}
	}
	if err := ticketError(err); err != nil {
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	inv.User, inv.Email = u, u.Email
	if u.AuthenticationMethod == "sms" {
		inv.Phone = u.PhoneNumber
	}
	return inv, s.describeInvitation(ctx, inv, u.ProjectID, u.ApplicationID)
}

// developerInvitation describes the invitation of a developer's membership.
// Once the developer has set a password (with another project's link) the
// link has nothing left to do.
func (s *Service) developerInvitation(ctx context.Context, inv *Invitation, m *iam.Membership) (*Invitation, error) {
	dev, err := s.db.Developers().Get(ctx, m.DeveloperID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && dev.PasswordHash != "") {
		return nil, errBadTicket
	}
	if err != nil {
		return nil, err
	}
	inv.Developer, inv.Membership, inv.Email = dev, m, dev.Email
	return inv, s.describeInvitation(ctx, inv, m.ProjectID, "")
}

// describeInvitation adds the names the page shows.
func (s *Service) describeInvitation(ctx context.Context, inv *Invitation, projectID, applicationID string) error {
	t := s.db.Tenant(projectID)
	p, err := t.Project(ctx)
	if err != nil {
		return err
	}
	inv.ProjectName = p.Name
	if applicationID != "" {
		if app, err := t.Applications().Get(ctx, applicationID); err == nil {
			inv.Application = app
		}
		inv.LoginURL = s.loginURL(ctx, t, applicationID)
	}
	inv.projectID = projectID
	return nil
}

// AcceptInvitation sets the invitee's password (and activates a user). The
// ticket is consumed by one conditional update: of concurrent calls with the
// same ticket exactly one succeeds.
func (s *Service) AcceptInvitation(ctx context.Context, ticket, password string) (_ *Invitation, err error) {
	_, op, err := s.begin(ctx, ucAcceptInvitation, "")
	defer op.end(&err)
	inv, err := s.openInvitation(ctx, ticket)
	if err != nil {
		return nil, err
	}
	op.inProject(inv.projectID)
	if inv.User != nil {
		op.targetAs("User", inv.User.ID)
	} else {
		op.targetAs("Developer", inv.Developer.ID)
	}
	if err := checkPassword("input.password", password, inv.Email); err != nil {
		return nil, err
	}
	hash, err := auth.HashPassword(ctx, password)
	if err != nil {
		return nil, err
	}
	if inv.User != nil {
		inv.User, err = s.db.AcceptUserInvitation(ctx, inv.hash, hash, s.now())
	} else {
		inv.Membership, err = s.db.AcceptDeveloperInvitation(ctx, inv.hash, hash, s.now())
	}
	if err := ticketError(err); err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "invitation accepted", "email_domain", domainOf(inv.Email))
	return inv, nil
}

func domainOf(email string) string {
	_, d, _ := strings.Cut(email, "@")
	return d
}
