package service

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"atrium/access"
	"atrium/auth"
	"atrium/iam"
	"atrium/store"
)

// fullAccess returns the policy of a project's creator and of its default
// machine client, as on the platform (a fresh value each time: stored
// entities own their policies).
func fullAccess() access.Policy {
	return access.Policy{Rule: []access.Rule{{Resource: []string{"*"}, Action: []string{"*"}, Effect: access.Allow}}}
}

// DeveloperInput invites a developer into the project in scope.
type DeveloperInput struct {
	Email        string
	Roles        []string
	AccessPolicy *access.Policy
	// Practitioner is the FHIR resource that becomes the developer's profile
	// in this project; a bare Practitioner when nil.
	Practitioner map[string]any
}

// InvitedDeveloper is a developer's membership and, for a developer who has
// no password yet, the link where it sets one ("" otherwise).
type InvitedDeveloper struct {
	Developer     *iam.Membership
	InvitationURL string
}

// InviteDeveloper adds a developer to the project in scope, creating its
// account when the email is new. A developer who already has an account
// gets a membership and no invitation link.
func (s *Service) InviteDeveloper(ctx context.Context, in DeveloperInput) (_ *InvitedDeveloper, err error) {
	sc, op, err := s.begin(ctx, ucInviteDeveloper, "")
	defer op.end(&err)
	if err != nil {
		return nil, err
	}
	email, err := normaliseEmail("input.email", in.Email)
	if err != nil {
		return nil, err
	}
	if err := needsAccess("input.roles", in.Roles, in.AccessPolicy); err != nil {
		return nil, err
	}
	if in.AccessPolicy != nil {
		if err := checkPolicy("input.accessPolicy", *in.AccessPolicy); err != nil {
			return nil, err
		}
	}
	roles, err := s.rolesOf(ctx, sc.tenant, "input.roles", in.Roles)
	if err != nil {
		return nil, err
	}
	practitioner := in.Practitioner
	if practitioner == nil {
		practitioner = map[string]any{"resourceType": "Practitioner"}
	}
	profile, err := newProfile("input.practitioner", practitioner, []string{"Practitioner"}, sc.tenant.ProjectID(), "developer/"+email)
	if err != nil {
		return nil, err
	}
	dev, err := s.developerAccount(ctx, email)
	if err != nil {
		return nil, err
	}
	// A developer without a password gets a link, kept on this membership so
	// that invitations from other projects do not retire it.
	var ticket string
	var invitation *iam.Ticket
	if dev.PasswordHash == "" {
		var hash string
		ticket, hash = auth.NewTicket()
		invitation = &iam.Ticket{Hash: hash, ExpiresAt: s.now().Add(s.inviteTTL)}
	}
	m, err := s.join(ctx, sc.tenant, dev, profile, roles, in.AccessPolicy, invitation)
	if err != nil {
		return nil, err
	}
	op.target(dev.ID)
	out := &InvitedDeveloper{Developer: m}
	if ticket != "" {
		out.InvitationURL = s.invitationURL(ticket)
	}
	return out, nil
}

// developerAccount finds the developer with email or creates it.
func (s *Service) developerAccount(ctx context.Context, email string) (*iam.Developer, error) {
	dev, err := s.db.Developers().ByEmail(ctx, email)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return dev, err
	}
	dev = &iam.Developer{ID: uuid.NewString(), Email: email, Name: email}
	err = s.db.Developers().Insert(ctx, dev)
	if errors.Is(err, store.ErrDuplicate) { // invited concurrently elsewhere
		return s.db.Developers().ByEmail(ctx, email)
	}
	return dev, err
}

// join makes dev a member of the tenant's project with a profile there.
func (s *Service) join(ctx context.Context, t *store.Tenant, dev *iam.Developer, profile *iam.Profile, roles []string, policy *access.Policy, invitation *iam.Ticket) (*iam.Membership, error) {
	m := &iam.Membership{
		ID: store.MembershipID(t.ProjectID(), dev.ID), DeveloperID: dev.ID, Email: dev.Email, Name: dev.Name,
		RoleIDs: roles, AccessPolicy: policy, Invitation: invitation,
	}
	if m.RoleIDs == nil {
		m.RoleIDs = []string{}
	}
	if _, err := t.Memberships().Get(ctx, m.ID); err == nil {
		return nil, iam.Errorf(iam.Conflict, "%s is already a developer of this project (developer %s)", dev.Email, dev.ID)
	}
	if err := s.withProfile(ctx, t, profile, &m.Profile, func() error { return t.Memberships().Insert(ctx, m) }); err != nil {
		if errors.Is(err, store.ErrDuplicate) {
			return nil, iam.Errorf(iam.Conflict, "%s is already a developer of this project (developer %s)", dev.Email, dev.ID)
		}
		return nil, err
	}
	return m, nil
}

// Developer returns a developer of the project in scope.
func (s *Service) Developer(ctx context.Context, id string) (_ *iam.Membership, err error) {
	sc, op, err := s.begin(ctx, ucDeveloper, id)
	defer op.end(&err)
	if err != nil {
		return nil, err
	}
	return s.membership(ctx, sc.tenant, id, "id")
}

func (s *Service) membership(ctx context.Context, t *store.Tenant, developerID, field string) (*iam.Membership, error) {
	m, err := t.Memberships().Get(ctx, store.MembershipID(t.ProjectID(), developerID))
	return m, asNotFound(err, "developer", developerID, field)
}

// DeveloperPage is one page of a project's developers.
type DeveloperPage struct {
	Developers []iam.Membership
	Paging
}

// Developers lists the project's developers in the order they joined.
func (s *Service) Developers(ctx context.Context, args PageArgs, f iam.DeveloperFilter, order iam.UserOrder, desc bool) (_ *DeveloperPage, err error) {
	sc, op, err := s.begin(ctx, ucDevelopers, "")
	defer op.end(&err)
	if err != nil {
		return nil, err
	}
	f.Email = strings.ToLower(strings.TrimSpace(f.Email))
	page := &DeveloperPage{}
	page.Developers, page.Paging, err = listPage(args, desc, func(p store.Page) ([]iam.Membership, []string, error) {
		return sc.tenant.ListMemberships(ctx, f, order, p)
	})
	noteProfiles(ctx, sc.tenant.ProjectID(), page.Developers, func(m *iam.Membership) string { return m.Profile })
	return page, err
}

// UpdateDeveloper changes a developer's roles and inline policy in the
// project in scope.
func (s *Service) UpdateDeveloper(ctx context.Context, id string, roles Optional[[]string], policy Optional[*access.Policy]) (_ *iam.Membership, err error) {
	sc, op, err := s.begin(ctx, ucUpdateDeveloper, id)
	defer op.end(&err)
	if err != nil {
		return nil, err
	}
	var roleIDs []string
	if roles.Set {
		if roleIDs, err = s.rolesOf(ctx, sc.tenant, "input.roles", roles.Value); err != nil {
			return nil, err
		}
	}
	if policy.Set && policy.Value != nil {
		if err := checkPolicy("input.accessPolicy", *policy.Value); err != nil {
			return nil, err
		}
	}
	m, err := sc.tenant.Memberships().Update(ctx, store.MembershipID(sc.tenant.ProjectID(), id), 0, func(m *iam.Membership) error {
		if roles.Set {
			m.RoleIDs = roleIDs
		}
		if policy.Set {
			m.AccessPolicy = policy.Value
		}
		return needsAccess("input.roles", m.RoleIDs, m.AccessPolicy)
	})
	return m, asNotFound(err, "developer", id, "input.id")
}

// RemoveDeveloper ends a developer's membership of the project in scope; its
// account and other memberships stay.
func (s *Service) RemoveDeveloper(ctx context.Context, id string) (err error) {
	sc, op, err := s.begin(ctx, ucRemoveDeveloper, id)
	defer op.end(&err)
	if err != nil {
		return err
	}
	m, err := s.membership(ctx, sc.tenant, id, "input.id")
	if err != nil {
		return err
	}
	err = sc.tenant.Memberships().Delete(ctx, m.ID)
	if err != nil {
		return asNotFound(err, "developer", id, "input.id")
	}
	if err == nil {
		s.retireProfile(ctx, sc.tenant, m.Profile)
	}
	return err
}

// DeveloperRoles resolves the roles a developer holds in its membership's
// project.
func (s *Service) DeveloperRoles(ctx context.Context, m *iam.Membership) ([]iam.Role, error) {
	return loadRoles(ctx, s, m.ProjectID, m.RoleIDs)
}

// SignInDeveloper checks a developer's email and password and issues a token
// that is not bound to a project: each request names its project, and the
// developer's membership there decides. Failures behave as for users.
func (s *Service) SignInDeveloper(ctx context.Context, email, password string) (_ *DeveloperSession, err error) {
	_, op, err := s.begin(ctx, ucSignInDeveloper, "")
	defer op.end(&err)
	email, err = normaliseEmail("input.email", email)
	if err != nil {
		return nil, err
	}
	var dev *iam.Developer
	err = s.throttle.SignIn(ctx, "developer/"+email, clientAddr(ctx), password, func() (string, bool, error) {
		var err error
		if dev, err = s.db.Developers().ByEmail(ctx, email); err != nil {
			return "", false, ignoreNotFound(err)
		}
		op.target(dev.ID)
		// A developer is above projects: each of its projects has a stake
		// in who holds its keys.
		projects, err := s.db.ProjectsOfDeveloper(ctx, dev.ID)
		op.inProject(projects...)
		return dev.PasswordHash, true, err
	})
	if err != nil {
		return nil, err
	}
	op.actor(auth.Developer, dev.ID)
	if err := s.db.Developers().SetLastSignIn(ctx, dev.ID, s.now().Truncate(time.Millisecond)); err != nil {
		return nil, err
	}
	token, exp, err := s.tokens.Issue(ctx, auth.Principal{Kind: auth.Developer, ID: dev.ID})
	if err != nil {
		return nil, err
	}
	return &DeveloperSession{AccessToken: token, ExpiresAt: exp, DeveloperID: dev.ID, Email: dev.Email}, nil
}

// DeveloperSession is the result of a developer's sign-in.
type DeveloperSession struct {
	AccessToken string
	ExpiresAt   time.Time
	DeveloperID string
	Email       string
}
