package service

import (
	"context"
	"errors"
	"slices"

	"atrium/access"
	"atrium/auth"
	"atrium/iam"
	"atrium/store"
)

// Scope is an authorised operation: who acts, in which project.
type Scope struct {
	Principal auth.Principal
	Project   *iam.Project
	tenant    *store.Tenant
}

// effectivePolicy is the union of the principal's roles' policies and its
// inline policy. The principal is read afresh on every request, so a
// disabled user or a changed role takes effect at once.
func (s *Service) effectivePolicy(ctx context.Context, t *store.Tenant, p *auth.Principal) (access.Policy, error) {
	switch p.Kind {
	case auth.User:
		u, err := s.activeUser(ctx, t.ProjectID(), p.ID)
		if err != nil {
			return access.Policy{}, err
		}
		return s.merge(ctx, t, u.RoleIDs, u.AccessPolicy)
	case auth.Developer:
		// Not a member: the project is not revealed to exist.
		m, err := t.Memberships().Get(ctx, store.MembershipID(t.ProjectID(), p.ID))
		if errors.Is(err, store.ErrNotFound) {
			return access.Policy{}, projectNotFound(t.ProjectID())
		}
		if err != nil {
			return access.Policy{}, err
		}
		return s.merge(ctx, t, m.RoleIDs, m.AccessPolicy)
	case auth.M2MClient:
		c, err := s.activeM2M(ctx, t.ProjectID(), p.ID)
		if err != nil {
			return access.Policy{}, err
		}
		return s.merge(ctx, t, c.RoleIDs, c.AccessPolicy)
	}
	return access.Policy{}, nil
}

// merge unions the policies of roles and an inline policy.
func (s *Service) merge(ctx context.Context, t *store.Tenant, roleIDs []string, inline *access.Policy) (access.Policy, error) {
	ep, err := s.effective(ctx, t, roleIDs, inline)
	return ep.Policy, err
}

// sourcedPolicy is a principal's merged policy, and where each of its
// rules comes from.
type sourcedPolicy struct {
	access.Policy
	sources []PolicySource
	offsets []int // index in Policy.Rule of each source's first rule
}

// effective merges the policies of roles (in the order the principal holds
// them; ids of deleted roles are skipped) and the inline policy.
func (s *Service) effective(ctx context.Context, t *store.Tenant, roleIDs []string, inline *access.Policy) (sourcedPolicy, error) {
	roles, err := t.RolesByID(ctx, roleIDs)
	if err != nil {
		return sourcedPolicy{}, err
	}
	var ep sourcedPolicy
	add := func(p access.Policy, src PolicySource) {
		ep.sources, ep.offsets = append(ep.sources, src), append(ep.offsets, len(ep.Rule))
		ep.Rule = append(ep.Rule, p.Rule...)
	}
	for _, id := range roleIDs {
		if i := slices.IndexFunc(roles, func(r iam.Role) bool { return r.ID == id }); i >= 0 {
			add(roles[i].AccessPolicy, PolicySource{Kind: "ROLE", RoleID: id, RoleName: roles[i].Name})
		}
	}
	if inline != nil {
		add(*inline, PolicySource{Kind: "INLINE"})
	}
	return ep, nil
}

// source says where the rule at index i of the merged policy comes from and
// its index there.
func (ep sourcedPolicy) source(i int) (PolicySource, int) {
	j := len(ep.offsets) - 1
	for ep.offsets[j] > i {
		j--
	}
	return ep.sources[j], i - ep.offsets[j]
}

func projectNotFound(id string) error {
	return iam.Errorf(iam.NotFound, "project %q not found", id)
}

func kindName(k auth.Kind) string {
	switch k {
	case auth.Operator:
		return "operator"
	case auth.User:
		return "user"
	case auth.Developer:
		return "developer"
	case auth.M2MClient:
		return "machine client"
	}
	return string(k)
}
