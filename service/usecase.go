package service

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"atrium/access"
	"atrium/auth"
	"atrium/iam"
	"atrium/requestid"
	"atrium/store"
)

// op is one run of a use case: begin authorizes it against its entry, and
// end records its audit event (whatever the outcome) and turns a store that
// did not answer into UNAVAILABLE.
type op struct {
	s   *Service
	ctx context.Context
	uc  *UseCase
	ev  iam.AuditEvent
	// projects are the audit trails the event is written to: the project
	// the operation acts in, once the caller is known to belong there (an
	// outsider's attempt stays out of it).
	projects []string
}

// begin starts a use case: it checks that the caller is of a kind the entry
// allows and, for a guarded entry, that the project is visible to it and its
// effective policy allows the grant (on Resource:id when id is not empty).
// The op it returns is never nil; callers defer op.end(&err) at once.
func (s *Service) begin(ctx context.Context, uc *UseCase, id string) (*scope, *op, error) {
	o := &op{s: s, ctx: ctx, uc: uc, ev: iam.AuditEvent{Action: uc.Action, Target: uc.Target, TargetID: id, Fields: inputFields(ctx, uc)}}
	s.log.DebugContext(ctx, "use case", "name", uc.Name)
	if uc.Public() {
		return &scope{}, o, nil
	}
	p, err := principal(ctx)
	if err != nil {
		return nil, o, err
	}
	if err := s.grantLive(ctx, p); err != nil {
		return nil, o, err
	}
	o.actor(p.Kind, p.ID)
	if !slices.Contains(uc.Kinds, p.Kind) {
		return nil, o, iam.Errorf(iam.Forbidden, "this operation is not available to a %s credential", kindName(p.Kind))
	}
	if !uc.Guarded() {
		return &scope{Principal: *p}, o, nil
	}
	grants := []Grant{{uc.Action, uc.Resource}}
	if id != "" && uc.ID != "" {
		grants[0].Resource += ":" + id
	}
	if uc.Or != nil {
		grants = append(grants, *uc.Or)
	}
	sc, err := s.authorize(ctx, o, p, grants)
	return sc, o, err
}

// authorize establishes the scope of a guarded operation: the project must
// exist and be visible to the caller, and the caller's effective policy must
// allow the first grant (or, failing that, one of the alternatives).
func (s *Service) authorize(ctx context.Context, o *op, p *auth.Principal, grants []Grant) (*scope, error) {
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
	sc := &scope{Principal: *p, tenant: s.db.Tenant(projectID)}
	if p.Kind == auth.Operator {
		// The operator belongs everywhere: the project must exist.
		if _, err := sc.Project(ctx); err != nil {
			return nil, err
		}
	} else {
		// Any other caller's own document in the project (its user, machine
		// client or membership, which only a project that exists can have;
		// projects are never deleted) proves the project; use cases that
		// need the project's document read it then.
		policy, err := s.effectivePolicy(ctx, sc.tenant, p)
		if err != nil {
			return nil, err
		}
		// Only now is the caller known to belong to the project.
		o.inProject(projectID)
		if !slices.ContainsFunc(grants, func(g Grant) bool { return access.Can(policy, g.Action, g.Resource).Allowed }) {
			return nil, iam.Errorf(iam.Forbidden, "%s on %s is not allowed by your access policy", grants[0].Action, grants[0].Resource)
		}
	}
	o.inProject(projectID)
	return sc, nil
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

// target names the entity the operation acts on, once it is known.
func (o *op) target(id string) { o.ev.TargetID = id }

// targetAs names the target and its type, for use cases that act on one of
// several types (an invitation is a user's or a developer's).
func (o *op) targetAs(typ, id string) { o.ev.Target, o.ev.TargetID = typ, id }

// actor names who acts; "" for an anonymous caller.
func (o *op) actor(kind auth.Kind, id string) { o.ev.ActorKind, o.ev.ActorID = string(kind), id }

// inProject names the audit trails the event belongs to.
func (o *op) inProject(ids ...string) {
	for _, id := range ids {
		if !slices.Contains(o.projects, id) {
			o.projects = append(o.projects, id)
		}
	}
}

// end finishes the use case with *errp, its result: a store that did not
// answer becomes UNAVAILABLE, and an audited use case records its event in
// each of its projects.
func (o *op) end(errp *error) {
	*errp = domainError(*errp)
	if !o.uc.Audited() {
		return
	}
	e := o.ev
	if e.Target == "Project" {
		// A project is the target of its own settings; a new project
		// records its own creation.
		if e.TargetID == "" && len(o.projects) > 0 {
			e.TargetID = o.projects[0]
		}
		if len(o.projects) == 0 && e.TargetID != "" && *errp == nil {
			o.inProject(e.TargetID)
		}
	}
	e.Outcome = outcome(*errp)
	for _, p := range o.projects {
		e.ProjectID = p
		o.s.record(o.ctx, o.uc, e)
	}
}

// domainError turns a store that did not answer into UNAVAILABLE, keeping
// the detail for the log.
func domainError(err error) error {
	if err != nil && iam.ErrorCode(err) == iam.Internal && store.Unavailable(err) {
		return fmt.Errorf("%w: %w", iam.ErrUnavailable, err)
	}
	return err
}

type inputFieldsKey struct{}

// WithInputFields returns ctx noting the names of the input fields a request
// gave (never their values), for the audit trail. A transport whose inputs
// have a fixed shape needs not: the use case's own Fields are recorded then.
func WithInputFields(ctx context.Context, names []string) context.Context {
	return context.WithValue(ctx, inputFieldsKey{}, names)
}

func inputFields(ctx context.Context, uc *UseCase) []string {
	if names, ok := ctx.Value(inputFieldsKey{}).([]string); ok {
		return slices.Clone(names)
	}
	return slices.Clone(uc.Fields)
}

var auditFailures = promauto.NewCounter(prometheus.CounterOpts{
	Name: "atrium_audit_write_failures_total",
	Help: "Audit events that could not be written.",
})

// outcome of an operation, as recorded: success, denied, or the error code.
func outcome(err error) string {
	switch code := iam.ErrorCode(err); {
	case err == nil:
		return "success"
	case code == iam.Forbidden || code == iam.Unauthenticated:
		return "denied"
	default:
		return string(code)
	}
}

// record writes an audit event in its project, for a use case that checks
// a credential off the answer path (background.go). It never fails the
// operation it records: a failed write is logged and counted.
func (s *Service) record(ctx context.Context, uc *UseCase, e iam.AuditEvent) {
	e.ID = uuid.NewString()
	e.Time = s.now().Truncate(time.Millisecond)
	e.RequestID = requestid.From(ctx)
	if e.Fields == nil {
		e.Fields = []string{}
	}
	if uc.ChecksCredential {
		s.recordLater(ctx, e)
		return
	}
	s.insertEvent(ctx, e)
}

func (s *Service) insertEvent(ctx context.Context, e iam.AuditEvent) {
	if err := s.db.Tenant(e.ProjectID).AuditEvents().Insert(context.WithoutCancel(ctx), &e); err != nil {
		auditFailures.Inc()
		s.log.ErrorContext(ctx, "audit event not written", "action", e.Action, "error", err.Error())
	}
}
