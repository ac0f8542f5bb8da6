package service

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"atrium/iam"
	"atrium/requestid"
	"atrium/store"
)

var auditFailures = promauto.NewCounter(prometheus.CounterOpts{
	Name: "atrium_audit_write_failures_total",
	Help: "Audit events that could not be written.",
})

// Outcome of an operation, as recorded: success, denied, or the error code.
func Outcome(err error) string {
	switch code := iam.ErrorCode(err); {
	case err == nil:
		return "success"
	case code == iam.Forbidden || code == iam.Unauthenticated:
		return "denied"
	default:
		return string(code)
	}
}

// Record writes an audit event in its project. It never fails the operation
// it records: a failed write is logged and counted.
func (s *Service) Record(ctx context.Context, e iam.AuditEvent) {
	if e.ProjectID == "" {
		return // nothing was reached inside a project
	}
	e.ID = uuid.NewString()
	e.Time = s.now().Truncate(time.Millisecond)
	e.RequestID = requestid.From(ctx)
	if e.Fields == nil {
		e.Fields = []string{}
	}
	if err := s.db.Tenant(e.ProjectID).AuditEvents().Insert(context.WithoutCancel(ctx), &e); err != nil {
		auditFailures.Inc()
		s.log.ErrorContext(ctx, "audit event not written", "action", e.Action, "error", err.Error())
	}
}

// AuditFilter selects audit events.
type AuditFilter = store.AuditFilter

// AuditPage is one page of audit events, newest first.
type AuditPage struct {
	Events      []iam.AuditEvent
	HasNextPage bool
}

// Cursor returns the opaque cursor after e.
func (p *AuditPage) Cursor(e *iam.AuditEvent) string { return store.AuditCursor(e) }

// AuditEvents lists the project's audit events, newest first.
func (s *Service) AuditEvents(ctx context.Context, first *int64, after string, f AuditFilter) (*AuditPage, error) {
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	if f.Since != nil && f.Until != nil && !f.Since.Before(*f.Until) {
		return nil, iam.Invalid("filter.since", "must be before filter.until")
	}
	page := &AuditPage{}
	page.Events, page.HasNextPage, err = listPage(first, after, "time", true, func(p store.Page) ([]iam.AuditEvent, error) {
		return sc.tenant.ListAuditEvents(ctx, f, p)
	})
	return page, err
}
