package store

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"atrium/iam"
)

// ssoConnectionsColl holds the projects' SSO connections to upstream
// OpenID Connect providers. Like applications they grow with the number
// of projects, not with a project's users, so the collection is shared on
// every layout; a name is unique within its project.
const ssoConnectionsColl = "ssoConnections"

type ssoConnectionDoc struct {
	ID           string            `bson:"_id"`
	ProjectID    string            `bson:"projectId"`
	Name         string            `bson:"name"`
	Issuer       string            `bson:"issuer"`
	ClientID     string            `bson:"clientId"`
	ClientSecret []byte            `bson:"clientSecret,omitempty"` // sealed
	Scopes       []string          `bson:"scopes"`
	ClaimMapping map[string]string `bson:"claimMapping"`
	Meta         metaDoc           `bson:",inline"`
}

func toSSOConnectionDoc(c *iam.SSOConnection) *ssoConnectionDoc {
	return &ssoConnectionDoc{ID: c.ID, ProjectID: c.ProjectID, Name: c.Name, Issuer: c.Issuer, ClientID: c.ClientID,
		ClientSecret: c.ClientSecret, Scopes: c.Scopes, ClaimMapping: c.ClaimMapping, Meta: metaDoc(c.Meta)}
}

func fromSSOConnectionDoc(d *ssoConnectionDoc) *iam.SSOConnection {
	return &iam.SSOConnection{ID: d.ID, ProjectID: d.ProjectID, Name: d.Name, Issuer: d.Issuer, ClientID: d.ClientID,
		ClientSecret: d.ClientSecret, Scopes: d.Scopes, ClaimMapping: d.ClaimMapping, Meta: iam.Meta(d.Meta)}
}

var ssoConnectionCodec = codec[iam.SSOConnection, ssoConnectionDoc]{toSSOConnectionDoc, fromSSOConnectionDoc, func(v *iam.SSOConnection) *iam.Meta { return &v.Meta }}

// SSOConnections of this tenant.
func (t *Tenant) SSOConnections() Repo[iam.SSOConnection, ssoConnectionDoc] {
	return repo(t, ssoConnectionsColl, ssoConnectionCodec)
}

// ListSSOConnections returns the project's SSO connections ordered by name.
func (t *Tenant) ListSSOConnections(ctx context.Context) ([]iam.SSOConnection, error) {
	return listByName(ctx, t, ssoConnectionsColl, ssoConnectionCodec)
}

// SSOConnection finds a connection by its id, whatever its project: a
// sign-in through it names only the connection, which names its project.
func (d *DB) SSOConnection(ctx context.Context, id string) (*iam.SSOConnection, error) {
	return anyProjectByID(ctx, d, ssoConnectionsColl, ssoConnectionCodec, id)
}

// listByName returns every document of kind in the project, by name.
func listByName[E, D any](ctx context.Context, t *Tenant, kind string, c codec[E, D]) ([]E, error) {
	var docs []D
	err := t.collection(kind).find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "name", Value: 1}, {Key: "_id", Value: 1}}), &docs)
	return c.all(docs), err
}

// anyProjectByID reads a document of a shared kind by its id, whatever its
// project, or ErrNotFound.
func anyProjectByID[E, D any](ctx context.Context, d *DB, kind string, c codec[E, D], id string) (*E, error) {
	var doc D
	err := d.db.Collection(kind).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return c.from(&doc), nil
}
