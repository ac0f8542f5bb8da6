package service

import (
	"context"
	"strconv"
	"strings"

	"atrium/access"
	"atrium/iam"
	"atrium/store"
)

// Subject names the principal whose access is simulated: exactly one id.
type Subject struct {
	UserID, DeveloperID, M2MClientID string
}

// PolicySource is where a rule of an effective policy comes from: a role
// (with its id and name) or the principal's inline policy.
type PolicySource struct {
	Kind     string // "ROLE" or "INLINE"
	RoleID   string
	RoleName string
}

// DecidingRule is the rule that decided a simulated check.
type DecidingRule struct {
	Source PolicySource
	// Index is the rule's position in its source's policy.
	Index int
	Rule  access.Rule
}

// AccessCheck is the answer of the access simulator.
type AccessCheck struct {
	Allowed bool
	// Rule is nil when nothing matched (default deny).
	Rule   *DecidingRule
	Reason string
}

// CheckAccess answers whether a principal of the project in scope may do
// action on resource, and which rule decides it.
func (s *Service) CheckAccess(ctx context.Context, who Subject, action, resource string) (_ *AccessCheck, err error) {
	sc, op, err := s.begin(ctx, ucCheckAccess, "")
	defer op.end(&err)
	if err != nil {
		return nil, err
	}
	action, resource = strings.TrimSpace(action), strings.TrimSpace(resource)
	if action == "" {
		return nil, iam.Invalid("input.action", "must not be empty")
	}
	if resource == "" {
		return nil, iam.Invalid("input.resource", "must not be empty")
	}
	roleIDs, inline, inactive, err := s.subjectAccess(ctx, sc.tenant, who)
	if err != nil {
		return nil, err
	}
	if inactive != "" {
		return &AccessCheck{Reason: inactive}, nil
	}
	ep, err := s.effective(ctx, sc.tenant, roleIDs, inline)
	if err != nil {
		return nil, err
	}
	d := access.Can(ep.Policy, action, resource)
	out := &AccessCheck{Allowed: d.Allowed}
	if d.Rule == nil {
		out.Reason = "no rule matches " + action + " on " + resource + ": denied by default"
		return out, nil
	}
	src, index := ep.source(d.Index)
	out.Rule = &DecidingRule{Source: src, Index: index, Rule: *d.Rule}
	where := "the inline policy"
	if src.Kind == "ROLE" {
		where = "role " + src.RoleName
	}
	verb := "allows"
	if !d.Allowed {
		verb = "denies"
	}
	out.Reason = where + ", rule " + strconv.Itoa(out.Rule.Index) + ", " + verb + " " + action + " on " + resource
	return out, nil
}

// subjectAccess loads the roles and inline policy of the simulated
// principal; inactive says why a user is refused whatever its policy.
func (s *Service) subjectAccess(ctx context.Context, t *store.Tenant, who Subject) (roleIDs []string, inline *access.Policy, inactive string, err error) {
	given := 0
	for _, id := range []string{who.UserID, who.DeveloperID, who.M2MClientID} {
		if id != "" {
			given++
		}
	}
	if given != 1 {
		return nil, nil, "", iam.Invalid("input.principal", "give exactly one of userId, developerId and m2mClientId")
	}
	switch {
	case who.UserID != "":
		u, err := s.user(ctx, t, who.UserID, "input.principal.userId")
		if err != nil {
			return nil, nil, "", err
		}
		if u.Status == iam.Disabled {
			inactive = "the user is disabled: every request it makes is refused, whatever its policy"
		}
		return u.RoleIDs, u.AccessPolicy, inactive, nil
	case who.DeveloperID != "":
		m, err := s.membership(ctx, t, who.DeveloperID, "input.principal.developerId")
		if err != nil {
			return nil, nil, "", err
		}
		return m.RoleIDs, m.AccessPolicy, "", nil
	}
	c, err := s.m2mClient(ctx, t, who.M2MClientID, "input.principal.m2mClientId")
	if err != nil {
		return nil, nil, "", err
	}
	return c.RoleIDs, c.AccessPolicy, "", nil
}
