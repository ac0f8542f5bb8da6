package store

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"atrium/iam"
)

// Projects is the project document of this tenant (a project is stored with
// its own id as projectId, so the same scoping applies).
func (t *Tenant) Projects() Repo[iam.Project, projectDoc] {
	return repo(t, projectsColl, projectCodec)
}

var projectCodec = codec[iam.Project, projectDoc]{toProjectDoc, fromProjectDoc, func(v *iam.Project) *iam.Meta { return &v.Meta }}

// Project returns this tenant's project, or ErrNotFound.
func (t *Tenant) Project(ctx context.Context) (*iam.Project, error) {
	return t.Projects().Get(ctx, t.projectID)
}

// AllProjects lists every project, oldest first. Only the operator's view
// needs this; it is the one read that crosses tenants.
func (d *DB) AllProjects(ctx context.Context) ([]iam.Project, error) {
	cur, err := d.db.Collection(projectsColl).Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var docs []projectDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	return projectCodec.all(docs), nil
}

// ProjectsByID returns the projects with the given ids, oldest first.
func (d *DB) ProjectsByID(ctx context.Context, ids []string) ([]iam.Project, error) {
	cur, err := d.db.Collection(projectsColl).Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var docs []projectDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	return projectCodec.all(docs), nil
}
