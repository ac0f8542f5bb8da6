package service

import (
	"context"
	"errors"
	"slices"

	"atrium/access"
	"atrium/audit"
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

type scopeKey struct{}

// WithScope returns ctx carrying sc; the operation run with it reads the
// project from there.
func WithScope(ctx context.Context, sc *Scope) context.Context {
	return context.WithValue(ctx, scopeKey{}, sc)
}

// scopeOf returns the scope Authorize established. Its absence is a
// programming error: an operation was wired without a guard.
func scopeOf(ctx context.Context) (*Scope, error) {
	if sc, ok := ctx.Value(scopeKey{}).(*Scope); ok {
		return sc, nil
	}
	return nil, errors.New("service: operation called without a guard")
}

// principal returns the authenticated principal of the request.
func principal(ctx context.Context) (*auth.Principal, error) {
	req := auth.FromContext(ctx)
	if req.Err != nil {
		return nil, req.Err
	}
	if req.Principal == nil {
		return nil, iam.Errorf(iam.Unauthenticated, "this operation needs a credential: send Authorization: Bearer <token>")
	}
	return req.Principal, nil
}

// Authenticate checks that the request carries a valid credential of one of
// the kinds (any kind when none is given).
func (s *Service) Authenticate(ctx context.Context, kinds ...auth.Kind) (*auth.Principal, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	audit.Actor(ctx, string(p.Kind), p.ID)
	if len(kinds) == 0 {
		return p, nil
	}
	for _, k := range kinds {
		if p.Kind == k {
			return p, nil
		}
	}
	return nil, iam.Errorf(iam.Forbidden, "this operation is not available to a %s credential", kindName(p.Kind))
}

// Grant is an action on a resource, e.g. IAM:GetRole on IAM:Role:<id>.
type Grant struct{ Action, Resource string }

// Authorize establishes the scope of a guarded operation: the caller must be
// authenticated, the project must exist and be visible to the caller, and
// the caller's effective policy must allow the first grant (or, failing
// that, one of the alternatives that follow it).
func (s *Service) Authorize(ctx context.Context, grants ...Grant) (*Scope, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	audit.Actor(ctx, string(p.Kind), p.ID)
	projectID := auth.FromContext(ctx).ProjectID
	switch {
	case p.ProjectID != "":
		// User and machine tokens are bound to their project; a header naming
		// another project finds nothing, as if it did not exist.
		if projectID != "" && projectID != p.ProjectID {
			return nil, projectNotFound(projectID)
		}
		projectID = p.ProjectID
	case projectID == "":
		return nil, iam.Invalid("x-oystehr-project-id", "name the project in the x-oystehr-project-id header")
	}
	t := s.db.Tenant(projectID)
	project, err := t.Project(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return nil, projectNotFound(projectID)
	}
	if err != nil {
		return nil, err
	}
	if p.Kind == auth.Operator {
		audit.Project(ctx, project.ID)
	} else {
		policy, err := s.effectivePolicy(ctx, t, p)
		if err != nil {
			return nil, err
		}
		// Only now is the caller known to belong to the project: attempts
		// of outsiders are not written into its audit trail.
		audit.Project(ctx, project.ID)
		if !slices.ContainsFunc(grants, func(g Grant) bool { return access.Can(policy, g.Action, g.Resource).Allowed }) {
			return nil, iam.Errorf(iam.Forbidden, "%s on %s is not allowed by your access policy", grants[0].Action, grants[0].Resource)
		}
	}
	return &Scope{Principal: *p, Project: project, tenant: t}, nil
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
		c, err := s.activeM2M(ctx, p)
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
