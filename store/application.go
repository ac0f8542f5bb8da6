package store

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"atrium/iam"
)

// Applications of this tenant.
func (t *Tenant) Applications() Repo[iam.Application, applicationDoc] {
	return repo(t, applicationsColl, applicationCodec)
}

var applicationCodec = codec[iam.Application, applicationDoc]{toApplicationDoc, fromApplicationDoc, func(v *iam.Application) *iam.Meta { return &v.Meta }}

// ListApplications returns the project's applications ordered by name.
func (t *Tenant) ListApplications(ctx context.Context) ([]iam.Application, error) {
	return listByName(ctx, t, applicationsColl, applicationCodec)
}

// Application finds an application by its id, whatever its project: sign-in
// and sign-up name only the application, and the application names its
// project.
func (d *DB) Application(ctx context.Context, id string) (*iam.Application, error) {
	return anyProjectByID(ctx, d, applicationsColl, applicationCodec, id)
}

// ApplicationOrigins returns every origin any application allows for CORS.
func (d *DB) ApplicationOrigins(ctx context.Context) ([]string, error) {
	cur, err := d.db.Collection(applicationsColl).Find(ctx, bson.D{}, options.Find().SetProjection(bson.D{{Key: "allowedCORSOriginsUrls", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var apps []struct {
		Origins []string `bson:"allowedCORSOriginsUrls"`
	}
	if err := cur.All(ctx, &apps); err != nil {
		return nil, err
	}
	var out []string
	for _, a := range apps {
		out = append(out, a.Origins...)
	}
	return out, nil
}

// ApplicationByClientID finds the project's application with the OAuth
// client id, or ErrNotFound (also for another project's client id).
func (t *Tenant) ApplicationByClientID(ctx context.Context, clientID string) (*iam.Application, error) {
	var a applicationDoc
	if err := t.collection(applicationsColl).findOne(ctx, bson.D{{Key: "clientId", Value: clientID}}, &a); err != nil {
		return nil, err
	}
	return fromApplicationDoc(&a), nil
}
