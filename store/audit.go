package store

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"atrium/iam"
)

// AuditEvents of this tenant.
func (t *Tenant) AuditEvents() Repo[iam.AuditEvent, auditDoc] {
	return repo(t, auditColl, auditCodec)
}

var auditCodec = codec[iam.AuditEvent, auditDoc]{toAuditDoc, fromAuditDoc, func(v *iam.AuditEvent) *iam.Meta { return &v.Meta }}

func auditFilter(f iam.AuditFilter) bson.D {
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

// ListAuditEvents returns one page of the project's audit events matching
// f, newest first when p.Desc, and the cursor after each.
func (t *Tenant) ListAuditEvents(ctx context.Context, f iam.AuditFilter, p Page) ([]iam.AuditEvent, []string, error) {
	return list(ctx, t.collection(auditColl), auditCodec, auditFilter(f), "time", p)
}
