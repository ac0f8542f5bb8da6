package store

import (
	"context"
	"errors"
	"regexp"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"atrium/iam"
)

// M2MClients of this tenant.
func (t *Tenant) M2MClients() Repo[iam.M2MClient, *iam.M2MClient] {
	return repo[iam.M2MClient](t, m2mColl)
}

// M2MFilter selects machine clients.
type M2MFilter struct {
	ID      string
	Name    string // case-insensitive substring
	Profile string // exact reference
	RoleID  string
}

func (f M2MFilter) filter() bson.D {
	var d bson.D
	if f.ID != "" {
		d = append(d, bson.E{Key: "_id", Value: f.ID})
	}
	if f.Profile != "" {
		d = append(d, bson.E{Key: "profile", Value: f.Profile})
	}
	if f.Name != "" {
		d = append(d, bson.E{Key: "name", Value: bson.D{{Key: "$regex", Value: regexp.QuoteMeta(f.Name)}, {Key: "$options", Value: "i"}}})
	}
	if f.RoleID != "" {
		d = append(d, bson.E{Key: "roleIds", Value: f.RoleID})
	}
	return d
}

// ListM2MClients returns one page of machine clients by creation time.
func (t *Tenant) ListM2MClients(ctx context.Context, f M2MFilter, p Page) ([]iam.M2MClient, error) {
	p.Field = ByCreatedAt
	return list[iam.M2MClient](ctx, t.collection(m2mColl), f.filter(), p)
}

// M2MClientByClientID finds a machine client by its OAuth client id, in
// whatever project: the token endpoint knows only the client id.
func (d *DB) M2MClientByClientID(ctx context.Context, clientID string) (*iam.M2MClient, error) {
	var c iam.M2MClient
	err := d.db.Collection(m2mColl).FindOne(ctx, bson.D{{Key: "clientId", Value: clientID}}).Decode(&c)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrNotFound
	}
	return &c, err
}
