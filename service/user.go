package service

import (
	"context"
	"errors"
	"strings"

	"atrium/access"
	"atrium/iam"
	"atrium/store"
)

// User returns one user of the project in scope.
func (s *Service) User(ctx context.Context, id string) (_ *iam.User, err error) {
	sc, op, err := s.begin(ctx, ucUser, id)
	defer op.end(&err)
	if err != nil {
		return nil, err
	}
	return s.user(ctx, sc.tenant, id, "id")
}

func (s *Service) user(ctx context.Context, t *store.Tenant, id, field string) (*iam.User, error) {
	u, err := t.Users().Get(ctx, id)
	return u, asNotFound(err, "user", id, field)
}

// UserRoles resolves the roles a user holds, from the request's one read
// of the project's roles (loader.go).
func (s *Service) UserRoles(ctx context.Context, u *iam.User) ([]iam.Role, error) {
	return loadRoles(ctx, s, u.ProjectID, u.RoleIDs)
}

// UserPage is one page of a user listing: the users, the cursor after
// each, and whether another page follows.
type UserPage struct {
	Users []iam.User
	Paging
	filter iam.UserFilter
	tenant *store.Tenant
}

// TotalCount counts every user matching the filter (one more round trip, made
// only when asked for).
func (p *UserPage) TotalCount(ctx context.Context) (int64, error) {
	n, err := p.tenant.CountUsers(ctx, p.filter)
	return n, domainError(err)
}

// Users lists a page of the project's users in a stable order.
func (s *Service) Users(ctx context.Context, args PageArgs, f iam.UserFilter, order iam.UserOrder, desc bool) (_ *UserPage, err error) {
	sc, op, err := s.begin(ctx, ucUsers, "")
	defer op.end(&err)
	if err != nil {
		return nil, err
	}
	f.Email = strings.ToLower(strings.TrimSpace(f.Email))
	page := &UserPage{filter: f, tenant: sc.tenant}
	page.Users, page.Paging, err = listPage(args, desc, func(p store.Page) ([]iam.User, []string, error) {
		return sc.tenant.ListUsers(ctx, f, order, p)
	})
	if err != nil {
		return nil, err
	}
	noteProfiles(ctx, sc.tenant.ProjectID(), page.Users, func(u *iam.User) string { return u.Profile })
	return page, nil
}

// UserChanges is the input of UpdateUser; unset fields stay unchanged.
type UserChanges struct {
	Name         Optional[*string]
	Roles        Optional[[]string]
	AccessPolicy Optional[*access.Policy]
	Profile      Optional[*string]
	// ExpectedVersion, when given, must equal the stored version.
	ExpectedVersion *int64
}

// UpdateUser changes a user. Roles replace the whole set; the user must keep
// at least one role or an inline policy.
func (s *Service) UpdateUser(ctx context.Context, id string, in UserChanges) (_ *iam.User, err error) {
	sc, op, err := s.begin(ctx, ucUpdateUser, id)
	defer op.end(&err)
	if err != nil {
		return nil, err
	}
	expected, err := expectedVersion(in.ExpectedVersion)
	if err != nil {
		return nil, err
	}
	var name, profile string
	if in.Name.Set {
		if in.Name.Value == nil {
			return nil, iam.Invalid("input.name", "must not be null")
		}
		if name, err = checkName("input.name", *in.Name.Value); err != nil {
			return nil, err
		}
	}
	var roles []string
	if in.Roles.Set {
		if roles, err = s.rolesOf(ctx, sc.tenant, "input.roles", in.Roles.Value); err != nil {
			return nil, err
		}
	}
	if in.AccessPolicy.Set && in.AccessPolicy.Value != nil {
		if err := checkPolicy("input.accessPolicy", *in.AccessPolicy.Value); err != nil {
			return nil, err
		}
	}
	if in.Profile.Set {
		if in.Profile.Value == nil {
			return nil, iam.Invalid("input.profile", "must not be null: every user has a profile")
		}
		if profile, err = s.existingProfile(ctx, sc.tenant, "input.profile", *in.Profile.Value); err != nil {
			return nil, err
		}
	}
	u, err := sc.tenant.Users().Update(ctx, id, expected, func(u *iam.User) error {
		if in.Name.Set {
			u.Name = name
		}
		if in.Roles.Set {
			u.RoleIDs = roles
		}
		if in.AccessPolicy.Set {
			u.AccessPolicy = in.AccessPolicy.Value
		}
		if in.Profile.Set {
			u.Profile = profile
		}
		return needsAccess("input.roles", u.RoleIDs, u.AccessPolicy)
	})
	return u, userWriteError(err, id, "input.id", expected)
}

func userWriteError(err error, id, field string, expected int64) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return notFound("user", id, field)
	case errors.Is(err, store.ErrStale):
		return staleVersion("user", expected)
	}
	return err
}

// DeleteUser deletes a user. Its FHIR profile stays: it is clinical data.
func (s *Service) DeleteUser(ctx context.Context, id string) (err error) {
	sc, op, err := s.begin(ctx, ucDeleteUser, id)
	defer op.end(&err)
	if err != nil {
		return err
	}
	u, err := s.user(ctx, sc.tenant, id, "input.id")
	if err != nil {
		return err
	}
	if err := sc.tenant.Users().Delete(ctx, id); err != nil {
		return userWriteError(err, id, "input.id", 0)
	}
	s.retireProfile(ctx, sc.tenant, u.Profile)
	// Its tokens already fail (the user is gone); its logins end too.
	return sc.tenant.EndUserLogins(ctx, id)
}

// SetUserDisabled disables or re-enables a user. A disabled user cannot sign
// in, and its tokens stop working at once (every request re-reads the user).
func (s *Service) SetUserDisabled(ctx context.Context, id string, disabled bool) (_ *iam.User, err error) {
	uc := ucEnableUser
	if disabled {
		uc = ucDisableUser
	}
	sc, op, err := s.begin(ctx, uc, id)
	defer op.end(&err)
	if err != nil {
		return nil, err
	}
	u, err := sc.tenant.Users().Update(ctx, id, 0, func(u *iam.User) error {
		switch {
		case disabled && u.Status == iam.Active:
			u.Status = iam.Disabled
		case !disabled && u.Status == iam.Disabled:
			u.Status = iam.Active
		case u.Status == iam.Invited:
			return iam.Errorf(iam.Conflict, "user %q has not accepted the invitation yet; delete it or resend the invitation instead", id)
		}
		return nil
	})
	if err == nil && disabled {
		// Its browser sessions and refresh tokens end at once.
		err = sc.tenant.EndUserLogins(ctx, id)
	}
	return u, userWriteError(err, id, "input.id", 0)
}

// Me returns the signed-in user.
func (s *Service) Me(ctx context.Context) (_ *iam.User, err error) {
	sc, op, err := s.begin(ctx, ucMe, "")
	defer op.end(&err)
	if err != nil {
		return nil, err
	}
	return s.activeUser(ctx, sc.Principal.ProjectID, sc.Principal.ID)
}

// activeUser loads the user behind a token; a deleted or disabled user is no
// longer authenticated.
func (s *Service) activeUser(ctx context.Context, projectID, id string) (*iam.User, error) {
	u, err := s.db.Tenant(projectID).Users().Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, iam.Errorf(iam.Unauthenticated, "this account no longer exists")
	}
	if err != nil {
		return nil, err
	}
	if why := refusedUser(u); why != "" {
		return nil, cannotAct(why)
	}
	return u, nil
}
