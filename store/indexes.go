package store

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// indexes lists every index Atrium needs, per collection. Creating an index
// that already exists with the same definition is a no-op, so ensureIndexes
// runs at every start-up. The models are made afresh for each call: the
// driver writes into their option builders, so two databases opened at once
// must not share them.
func indexes() map[string][]mongo.IndexModel {
	return map[string][]mongo.IndexModel{
		rolesColl: {
			{Keys: bson.D{{Key: "projectId", Value: 1}, {Key: "name", Value: 1}}, Options: options.Index().SetName("project_name").SetUnique(true)},
		},
		usersColl: {
			// "Unique when present": see uniqueKeys.
			{Keys: bson.D{{Key: "emailKey", Value: 1}}, Options: options.Index().SetName("email_key").SetUnique(true).SetSparse(true)},
			{Keys: bson.D{{Key: "phoneKey", Value: 1}}, Options: options.Index().SetName("phone_key").SetUnique(true).SetSparse(true)},
			{Keys: bson.D{{Key: "invitation.hash", Value: 1}}, Options: options.Index().SetName("invitation").SetSparse(true)},
			{Keys: bson.D{{Key: "projectId", Value: 1}, {Key: "roleIds", Value: 1}}, Options: options.Index().SetName("project_roles")},
			{Keys: bson.D{{Key: "projectId", Value: 1}, {Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}}, Options: options.Index().SetName("project_created")},
			{Keys: bson.D{{Key: "projectId", Value: 1}, {Key: "name", Value: 1}, {Key: "_id", Value: 1}}, Options: options.Index().SetName("project_name")},
			{Keys: bson.D{{Key: "projectId", Value: 1}, {Key: "email", Value: 1}, {Key: "_id", Value: 1}}, Options: options.Index().SetName("project_email")},
			{Keys: bson.D{{Key: "projectId", Value: 1}, {Key: "phoneNumber", Value: 1}, {Key: "_id", Value: 1}}, Options: options.Index().SetName("project_phone")},
		},
		auditColl: {
			{Keys: bson.D{{Key: "projectId", Value: 1}, {Key: "time", Value: -1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName("project_time")},
		},
		m2mColl: {
			{Keys: bson.D{{Key: "clientId", Value: 1}}, Options: options.Index().SetName("client_id").SetUnique(true)},
			{Keys: bson.D{{Key: "projectId", Value: 1}, {Key: "roleIds", Value: 1}}, Options: options.Index().SetName("project_roles")},
		},
		membershipsColl: {
			{Keys: bson.D{{Key: "projectId", Value: 1}, {Key: "roleIds", Value: 1}}, Options: options.Index().SetName("project_roles")},
			{Keys: bson.D{{Key: "developerId", Value: 1}}, Options: options.Index().SetName("developer")},
			{Keys: bson.D{{Key: "invitation.hash", Value: 1}}, Options: options.Index().SetName("invitation").SetSparse(true)},
		},
		developersColl: {
			{Keys: bson.D{{Key: "email", Value: 1}}, Options: options.Index().SetName("email").SetUnique(true)},
		},
		applicationsColl: {
			{Keys: bson.D{{Key: "clientId", Value: 1}}, Options: options.Index().SetName("client_id").SetUnique(true)},
		},
	}
}

func (d *DB) ensureIndexes(ctx context.Context) error {
	for coll, models := range indexes() {
		if _, err := d.db.Collection(coll).Indexes().CreateMany(ctx, models); err != nil {
			return fmt.Errorf("store: indexes of %s: %w", coll, err)
		}
	}
	return nil
}
