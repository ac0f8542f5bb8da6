package service

import (
	"context"
	"strconv"
	"strings"

	"atrium/access"
	"atrium/auth"
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
	h, err := s.subjectHolding(ctx, sc.tenant, who)
	if err != nil {
		return nil, err
	}
	if h.refused != "" {
		return &AccessCheck{Reason: h.refused + ": every request it makes is refused, whatever its policy"}, nil
	}
	ep, err := s.effective(ctx, sc.tenant, h)
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

// subjectHolding reads what the simulated principal holds, as the guard
// reads a caller.
func (s *Service) subjectHolding(ctx context.Context, t *store.Tenant, who Subject) (holding, error) {
	type subject struct {
		kind      auth.Kind
		id        string
		what, key string
	}
	var subjects []subject
	for _, c := range []subject{{auth.User, who.UserID, "user", "userId"}, {auth.Developer, who.DeveloperID, "developer", "developerId"}, {auth.M2MClient, who.M2MClientID, "machine client", "m2mClientId"}} {
		if c.id != "" {
			subjects = append(subjects, c)
		}
	}
	if len(subjects) != 1 {
		return holding{}, iam.Invalid("input.principal", "give exactly one of userId, developerId and m2mClientId")
	}
	c := subjects[0]
	h, err := s.holdingOf(ctx, t, c.kind, c.id)
	return h, asNotFound(err, c.what, c.id, "input.principal."+c.key)
}
