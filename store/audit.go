package store

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"atrium/iam"
)

// AuditEvents of this tenant.
func (t *Tenant) AuditEvents() Repo[iam.AuditEvent, *iam.AuditEvent] {
	return repo[iam.AuditEvent](t, auditColl)
}

// AuditFilter selects audit events; empty fields select everything.
type AuditFilter struct {
	ActorID, TargetID, Action string
	Since, Until              *time.Time
}

func (f AuditFilter) filter() bson.D {
	var d bson.D
	for _, kv := range []struct{ k, v string }{{"actorId", f.ActorID}, {"targetId", f.TargetID}, {"action", f.Action}} {
		if kv.v != "" {
			d = append(d, bson.E{Key: kv.k, Value: kv.v})
		}
	}
	var span bson.D
	if f.Since != nil {
		span = append(span, bson.E{Key: "$gte", Value: *f.Since})
	}
	if f.Until != nil {
		span = append(span, bson.E{Key: "$lt", Value: *f.Until})
	}
	if span != nil {
		d = append(d, bson.E{Key: "time", Value: span})
	}
	return d
}

// AuditCursor returns the cursor after e (events are listed by time).
func AuditCursor(e *iam.AuditEvent) string { return Cursor("time", e.Time, e.ID) }

// ListAuditEvents returns one page of events, ordered by time.
func (t *Tenant) ListAuditEvents(ctx context.Context, f AuditFilter, p Page) ([]iam.AuditEvent, error) {
	p.Field = "time"
	return list[iam.AuditEvent](ctx, t.collection(auditColl), f.filter(), p)
}
