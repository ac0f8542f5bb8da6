package rest

// This file is the one seam between the REST transport and the domain's
// rules: which use case a route calls, how it is authorized and audited, and
// how a domain error becomes an HTTP status. Until the domain owns a table
// of use cases (each authorizing and auditing itself) and one error table,
// the grant of each use case is the one its GraphQL twin declares in
// schema.graphqls (a test checks that they agree), and call applies it.

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"atrium/audit"
	"atrium/auth"
	"atrium/iam"
	"atrium/service"
)

// useCase is a domain operation: its GraphQL twin (a Query or Mutation
// field) and the grant that guards it.
type useCase struct {
	// name is the GraphQL field of the same use case.
	name string
	// action on resource (with the id taken from the path parameter id)
	// must be allowed; or, failing that, orAction on orResource.
	action, resource, id string
	orAction, orResource string
	// kinds, for operations any signed-in principal of these kinds may
	// call (action empty).
	kinds []auth.Kind
	// pending marks a use case of the platform Atrium does not have yet:
	// its route is guarded with the platform's grant and answers 501.
	pending bool
}

// call authorizes the use case of rt, runs its handler and, for a change,
// records the audit event.
func call(ctx context.Context, svc *service.Service, rt route, q *request) (res any, err error) {
	uc := rt.useCase
	if uc.name == "" {
		return rt.handle(ctx, svc, q)
	}
	resource := uc.resource
	if uc.id != "" {
		resource += ":" + q.path(uc.id)
	}
	if rt.method != http.MethodGet {
		var entry *audit.Entry
		ctx, entry = audit.Begin(ctx)
		defer func() { record(ctx, svc, entry, uc, q, res, err) }()
	}
	if uc.action == "" {
		if _, err := svc.Authenticate(ctx, uc.kinds...); err != nil {
			return nil, err
		}
		return rt.handle(ctx, svc, q)
	}
	grants := []service.Grant{{Action: uc.action, Resource: resource}}
	if uc.orAction != "" {
		grants = append(grants, service.Grant{Action: uc.orAction, Resource: uc.orResource})
	}
	sc, err := svc.Authorize(ctx, grants...)
	if err != nil {
		return nil, err
	}
	return rt.handle(service.WithScope(ctx, sc), svc, q)
}

// audited is an answer that names the entity a change created.
type audited interface{ auditID() string }

// record writes the audit event of a change, as graph's middleware does for
// a mutation.
func record(ctx context.Context, svc *service.Service, entry *audit.Entry, uc useCase, q *request, res any, err error) {
	project, actorKind, actorID, targetType, targetID := entry.Facts()
	if targetID == "" && uc.id != "" {
		targetID = q.path(uc.id)
	}
	if a, ok := res.(audited); ok && targetID == "" {
		targetID = a.auditID()
	}
	if targetType == "" {
		if parts := strings.Split(uc.resource, ":"); uc.resource == "Project:Settings" {
			targetType, targetID = "Project", project
		} else {
			targetType = parts[len(parts)-1]
		}
	}
	action := uc.action
	if action == "" {
		action = uc.name
	}
	fields := q.fields
	if fields == nil {
		fields = []string{}
	}
	svc.Record(ctx, iam.AuditEvent{
		ProjectID: project, ActorKind: actorKind, ActorID: actorID,
		Action: action, Target: targetType, TargetID: targetID,
		Outcome: service.Outcome(err), Fields: fields,
	})
}

// statuses maps the domain's codes to HTTP.
var statuses = map[iam.Code]int{
	iam.BadUserInput:    http.StatusBadRequest,
	iam.Unauthenticated: http.StatusUnauthorized,
	iam.Forbidden:       http.StatusForbidden,
	iam.NotFound:        http.StatusNotFound,
	iam.Conflict:        http.StatusConflict,
	iam.ImmutableField:  http.StatusBadRequest,
	iam.RateLimited:     http.StatusTooManyRequests,
	iam.Unavailable:     http.StatusServiceUnavailable,
	iam.Internal:        http.StatusInternalServerError,
}

// domainError is err as a domain error and its HTTP status. A store that
// does not answer is UNAVAILABLE; any other unknown error is internal.
func domainError(err error) (*iam.Error, int) {
	var e *iam.Error
	switch {
	case errors.As(err, &e):
	case mongo.IsNetworkError(err) || mongo.IsTimeout(err) || errors.Is(err, mongo.ErrClientDisconnected) ||
		errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "server selection"):
		e = iam.Errorf(iam.Unavailable, "the store does not answer; try again shortly")
	default:
		e = iam.Errorf(iam.Internal, "internal server error")
	}
	status, ok := statuses[e.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	return e, status
}
