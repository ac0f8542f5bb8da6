package store

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"atrium/iam"
)

// M2MClients of this tenant.
func (t *Tenant) M2MClients() Repo[iam.M2MClient, m2mDoc] {
	return repo(t, m2mColl, m2mCodec)
}

var m2mCodec = codec[iam.M2MClient, m2mDoc]{toM2MDoc, fromM2MDoc, func(v *iam.M2MClient) *iam.Meta { return &v.Meta }}

// m2mOrders are the fields machine clients are listed by; they have no
// email or phone number, so those orders are the ids'.
var m2mOrders = map[iam.UserOrder]string{iam.UsersByCreatedAt: "createdAt", iam.UsersByName: "name", iam.UsersByID: "_id",
	iam.UsersByEmail: "_id", iam.UsersByPhone: "_id"}

// ListM2MClients returns one page of the project's machine clients in an
// order, and the cursor after each.
func (t *Tenant) ListM2MClients(ctx context.Context, f iam.M2MFilter, order iam.UserOrder, p Page) ([]iam.M2MClient, []string, error) {
	var d bson.D
	if f.ID != "" {
		d = append(d, bson.E{Key: "_id", Value: f.ID})
	}
	if f.Name != "" {
		d = append(d, nameContains(f.Name))
	}
	if f.Profile != "" {
		d = append(d, bson.E{Key: "profile", Value: f.Profile})
	}
	if f.RoleID != "" {
		d = append(d, bson.E{Key: "roleIds", Value: f.RoleID})
	}
	return list(ctx, t.collection(m2mColl), m2mCodec, d, orderField(m2mOrders, order), p)
}

// M2MClientByClientID finds a machine client by its OAuth client id, in
// whatever project: the token endpoint knows only the client id.
func (d *DB) M2MClientByClientID(ctx context.Context, clientID string) (*iam.M2MClient, error) {
	var c m2mDoc
	var err error
	if d.split {
		var raw bson.Raw
		if _, raw, err = d.lookup(ctx, clientIDField, clientID); err == nil {
			err = bson.Unmarshal(raw, &c)
		}
	} else {
		err = d.db.Collection(m2mColl).FindOne(ctx, bson.D{{Key: "clientId", Value: clientID}}).Decode(&c)
	}
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return fromM2MDoc(&c), nil
}
