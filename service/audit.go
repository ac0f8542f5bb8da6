package service

import (
	"context"
	"time"

	"atrium/iam"
	"atrium/store"
)

// AuditPage is one page of audit events, newest first.
type AuditPage struct {
	Events []iam.AuditEvent
	Paging
}

// AuditEvents lists the project's audit events, newest first.
func (s *Service) AuditEvents(ctx context.Context, args PageArgs, f iam.AuditFilter) (_ *AuditPage, err error) {
	sc, op, err := s.begin(ctx, ucAuditEvents, "")
	defer op.end(&err)
	if err != nil {
		return nil, err
	}
	if f.Since != nil && f.Until != nil && !f.Since.Before(*f.Until) {
		return nil, iam.Invalid("filter.since", "must be before filter.until")
	}
	// Read the trail this instance's earlier requests left, even the
	// events still queued.
	flushCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	s.flushAudit(flushCtx)
	cancel()
	page := &AuditPage{}
	page.Events, page.Paging, err = listPage(args, true, func(p store.Page) ([]iam.AuditEvent, []string, error) {
		return sc.tenant.ListAuditEvents(ctx, f, p)
	})
	return page, err
}
