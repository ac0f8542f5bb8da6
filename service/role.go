package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"atrium/access"
	"atrium/iam"
	"atrium/store"
)

// Role returns one role of the project in scope.
func (s *Service) Role(ctx context.Context, id string) (_ *iam.Role, err error) {
	sc, op, err := s.begin(ctx, ucRole, id)
	defer op.end(&err)
	if err != nil {
		return nil, err
	}
	return s.role(ctx, sc.tenant, id, "id")
}

// role loads a role of the tenant; field names the input that gave the id.
func (s *Service) role(ctx context.Context, t *store.Tenant, id, field string) (*iam.Role, error) {
	r, err := t.Roles().Get(ctx, id)
	return r, asNotFound(err, "role", id, field)
}

// ProjectRole resolves a role referenced by a project (its default roles):
// nil when id is empty or the role no longer exists.
func (s *Service) ProjectRole(ctx context.Context, p *iam.Project, id string) (*iam.Role, error) {
	if id == "" {
		return nil, nil
	}
	r, err := s.db.Tenant(p.ID).Roles().Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return r, domainError(err)
}

// Roles lists the roles of the project in scope.
func (s *Service) Roles(ctx context.Context) (_ []iam.Role, err error) {
	sc, op, err := s.begin(ctx, ucRoles, "")
	defer op.end(&err)
	if err != nil {
		return nil, err
	}
	return sc.tenant.ListRoles(ctx)
}

// MemberCount counts the holders of a role.
func (s *Service) MemberCount(ctx context.Context, r *iam.Role) (int64, error) {
	n, err := s.db.Tenant(r.ProjectID).RoleMemberCount(ctx, r.ID)
	return n, domainError(err)
}

// NewRole is the input of CreateRole.
type NewRole struct {
	Name         string
	Description  string
	AccessPolicy *access.Policy
}

// CreateRole creates a role in the project in scope.
func (s *Service) CreateRole(ctx context.Context, in NewRole) (_ *iam.Role, err error) {
	sc, op, err := s.begin(ctx, ucCreateRole, "")
	defer op.end(&err)
	if err != nil {
		return nil, err
	}
	defer forgetRoles(ctx, sc.tenant.ProjectID()) // what the request resolves next sees the change
	r := &iam.Role{ID: uuid.NewString(), AccessPolicy: access.Policy{Rule: []access.Rule{}}}
	if r.Name, err = checkName("input.name", in.Name); err != nil {
		return nil, err
	}
	if r.Description, err = checkDescription("input.description", in.Description); err != nil {
		return nil, err
	}
	if in.AccessPolicy != nil {
		if err := checkPolicy("input.accessPolicy", *in.AccessPolicy); err != nil {
			return nil, err
		}
		r.AccessPolicy = *in.AccessPolicy
	}
	if err := sc.tenant.Roles().Insert(ctx, r); err != nil {
		return nil, roleWriteError(err, r.Name, 0)
	}
	op.target(r.ID)
	return r, nil
}

// RoleChanges is the input of UpdateRole; nil fields stay unchanged.
type RoleChanges struct {
	Name         *string
	Description  *string
	AccessPolicy *access.Policy
	// ExpectedVersion, when given, must equal the stored version.
	ExpectedVersion *int64
}

// UpdateRole changes a role of the project in scope.
func (s *Service) UpdateRole(ctx context.Context, id string, in RoleChanges) (_ *iam.Role, err error) {
	sc, op, err := s.begin(ctx, ucUpdateRole, id)
	defer op.end(&err)
	if err != nil {
		return nil, err
	}
	defer forgetRoles(ctx, sc.tenant.ProjectID()) // what the request resolves next sees the change
	expected, err := expectedVersion(in.ExpectedVersion)
	if err != nil {
		return nil, err
	}
	var name, desc string
	if in.Name != nil {
		if name, err = checkName("input.name", *in.Name); err != nil {
			return nil, err
		}
	}
	if in.Description != nil {
		if desc, err = checkDescription("input.description", *in.Description); err != nil {
			return nil, err
		}
	}
	if in.AccessPolicy != nil {
		if err := checkPolicy("input.accessPolicy", *in.AccessPolicy); err != nil {
			return nil, err
		}
	}
	r, err := sc.tenant.Roles().Update(ctx, id, expected, func(r *iam.Role) error {
		if in.Name != nil {
			r.Name = name
		}
		if in.Description != nil {
			r.Description = desc
		}
		if in.AccessPolicy != nil {
			r.AccessPolicy = *in.AccessPolicy
		}
		return nil
	})
	return r, roleWriteError(asNotFound(err, "role", id, "input.id"), name, expected)
}

// DeleteRole deletes a role that is neither a default role of the project nor
// held by anyone.
func (s *Service) DeleteRole(ctx context.Context, id string) (err error) {
	sc, op, err := s.begin(ctx, ucDeleteRole, id)
	defer op.end(&err)
	if err != nil {
		return err
	}
	defer forgetRoles(ctx, sc.tenant.ProjectID()) // what the request resolves next sees the change
	r, err := s.role(ctx, sc.tenant, id, "input.id")
	if err != nil {
		return err
	}
	// Re-read the project: the scope's copy may predate a concurrent update.
	p, err := sc.tenant.Project(ctx)
	if err != nil {
		return err
	}
	switch id {
	case p.DefaultPatientRoleID:
		return iam.Errorf(iam.Conflict, "role %q is the project's default patient role; set defaultPatientRoleId to another role or null first", r.Name)
	case p.DefaultSSOUserRoleID:
		return iam.Errorf(iam.Conflict, "role %q is the project's default SSO user role; set defaultSSOUserRoleId to another role or null first", r.Name)
	}
	n, err := sc.tenant.RoleMemberCount(ctx, id)
	if err != nil {
		return err
	}
	if n > 0 {
		return iam.Errorf(iam.Conflict, "role %q is held by %d member(s); take it away from them first", r.Name, n)
	}
	if err := sc.tenant.Roles().Delete(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

func roleWriteError(err error, name string, expected int64) error {
	switch {
	case errors.Is(err, store.ErrDuplicate):
		return &iam.Error{Code: iam.Conflict, Message: fmt.Sprintf("a role named %q already exists in this project", name), Field: "input.name"}
	case errors.Is(err, store.ErrStale):
		return staleVersion("role", expected)
	}
	return err
}
