package service

import (
	"context"
	"errors"

	"atrium/access"
	"atrium/auth"
	"atrium/iam"
	"atrium/store"
)

// scope is an authorised operation: who acts, in which project.
type scope struct {
	Principal auth.Principal
	tenant    *store.Tenant
	project   *iam.Project // once read
}

// Project returns the project in scope, read the first time it is asked
// for (the guard reads it for the operator only).
func (sc *scope) Project(ctx context.Context) (*iam.Project, error) {
	if sc.project != nil {
		return sc.project, nil
	}
	p, err := sc.tenant.Project(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return nil, projectNotFound(sc.tenant.ProjectID())
	}
	if err != nil {
		return nil, err
	}
	sc.project = p
	return p, nil
}

// effectivePolicy is the union of the calling principal's roles' policies
// and its inline policy. The principal is read afresh on every request, so a
// disabled user or a changed role takes effect at once.
func (s *Service) effectivePolicy(ctx context.Context, t *store.Tenant, p *auth.Principal) (access.Policy, error) {
	h, err := s.holdingOf(ctx, t, p.Kind, p.ID)
	switch {
	case errors.Is(err, store.ErrNotFound) && p.Kind == auth.Developer:
		// Not a member: the project is not revealed to exist.
		return access.Policy{}, projectNotFound(t.ProjectID())
	case errors.Is(err, store.ErrNotFound):
		return access.Policy{}, iam.Errorf(iam.Unauthenticated, "this %s no longer exists", kindName(p.Kind))
	case err != nil:
		return access.Policy{}, err
	case h.refused != "":
		return access.Policy{}, cannotAct(h.refused)
	case p.Kind == auth.M2MClient:
		if err := retiredM2MToken(h.secretVersion, p); err != nil {
			return access.Policy{}, err
		}
	}
	ep, err := s.effective(ctx, t, h)
	return ep.Policy, err
}

// holding is what a principal holds in a project: its roles and inline
// policy, and why it may not act at all whatever they allow ("" when it
// may).
type holding struct {
	roleIDs []string
	inline  *access.Policy
	refused string
	// secretVersion is a machine client's iam.M2MClient.SecretVersion.
	secretVersion int64
}

// holdingOf reads what the principal of kind with id holds in the tenant's
// project; store.ErrNotFound when it is not there. The guard and the access
// simulator both read principals through it, so they agree.
func (s *Service) holdingOf(ctx context.Context, t *store.Tenant, kind auth.Kind, id string) (holding, error) {
	switch kind {
	case auth.User:
		u, err := t.Users().Get(ctx, id)
		if err != nil {
			return holding{}, err
		}
		return holding{roleIDs: u.RoleIDs, inline: u.AccessPolicy, refused: refusedUser(u)}, nil
	case auth.Developer:
		m, err := t.Memberships().Get(ctx, store.MembershipID(t.ProjectID(), id))
		if err != nil {
			return holding{}, err
		}
		return holding{roleIDs: m.RoleIDs, inline: m.AccessPolicy}, nil
	case auth.M2MClient:
		c, err := t.M2MClients().Get(ctx, id)
		if err != nil {
			return holding{}, err
		}
		return holding{roleIDs: c.RoleIDs, inline: c.AccessPolicy, secretVersion: c.SecretVersion}, nil
	}
	return holding{}, store.ErrNotFound
}

// refusedUser says why a user may not act whatever its policy, "" when it
// may: only an ACTIVE user acts (signs in, or uses its tokens).
func refusedUser(u *iam.User) string {
	switch u.Status {
	case iam.Active:
		return ""
	case iam.Invited:
		return "the user has not accepted its invitation yet"
	case iam.Disabled:
		return "the user is disabled"
	}
	return "the user is " + string(u.Status)
}

// cannotAct is the answer to a caller whose account may not act.
func cannotAct(why string) error {
	return iam.Errorf(iam.Unauthenticated, "this account cannot act: %s", why)
}

// sourcedPolicy is a principal's merged policy, and where each of its
// rules comes from.
type sourcedPolicy struct {
	access.Policy
	sources []PolicySource
	offsets []int // index in Policy.Rule of each source's first rule
}

// effective merges the policies of the roles a principal holds (in the
// order it holds them; ids of deleted roles are skipped) and its inline
// policy, remembering where each rule comes from.
func (s *Service) effective(ctx context.Context, t *store.Tenant, h holding) (sourcedPolicy, error) {
	roles, err := s.rolesByID(ctx, t.ProjectID(), h.roleIDs)
	if err != nil {
		return sourcedPolicy{}, err
	}
	var ep sourcedPolicy
	var parts []access.Policy
	n := 0
	add := func(p access.Policy, src PolicySource) {
		ep.sources, ep.offsets = append(ep.sources, src), append(ep.offsets, n)
		parts, n = append(parts, p), n+len(p.Rule)
	}
	for _, r := range roles {
		add(r.AccessPolicy, PolicySource{Kind: "ROLE", RoleID: r.ID, RoleName: r.Name})
	}
	if h.inline != nil {
		add(*h.inline, PolicySource{Kind: "INLINE"})
	}
	ep.Policy = access.Merge(parts...)
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
