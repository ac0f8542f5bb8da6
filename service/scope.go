package service

import (
	"context"
	"errors"

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

// Authorize establishes the scope of an operation guarded by action on
// resource: the caller must be authenticated, the project must exist and be
// visible to the caller, and the caller's effective policy must allow the
// action on the resource.
func (s *Service) Authorize(ctx context.Context, action, resource string) (*Scope, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
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
	if p.Kind != auth.Operator {
		policy, err := s.effectivePolicy(ctx, t, p)
		if err != nil {
			return nil, err
		}
		if !access.Can(policy, action, resource).Allowed {
			return nil, iam.Errorf(iam.Forbidden, "%s on %s is not allowed by your access policy", action, resource)
		}
	}
	return &Scope{Principal: *p, Project: project, tenant: t}, nil
}

// effectivePolicy is the union of the principal's roles' policies and its
// inline policy. Principals other than the operator arrive with the User
// service; until then they have no policy and are denied everything.
func (s *Service) effectivePolicy(ctx context.Context, t *store.Tenant, p *auth.Principal) (access.Policy, error) {
	return access.Policy{}, nil
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
