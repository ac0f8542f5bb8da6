package store

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"atrium/iam"
)

// Roles of this tenant.
func (t *Tenant) Roles() Repo[iam.Role, roleDoc] {
	return repo(t, rolesColl, roleCodec)
}

var roleCodec = codec[iam.Role, roleDoc]{toRoleDoc, fromRoleDoc, func(v *iam.Role) *iam.Meta { return &v.Meta }}

// ListRoles returns the project's roles ordered by name.
func (t *Tenant) ListRoles(ctx context.Context) ([]iam.Role, error) {
	var docs []roleDoc
	err := t.collection(rolesColl).find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "name", Value: 1}, {Key: "_id", Value: 1}}), &docs)
	return roleCodec.all(docs), err
}

// RolesByID returns the roles with the given ids that belong to the project,
// in no particular order; ids of other projects are simply absent.
func (t *Tenant) RolesByID(ctx context.Context, ids []string) ([]iam.Role, error) {
	if len(ids) == 0 {
		return []iam.Role{}, nil
	}
	var docs []roleDoc
	err := t.collection(rolesColl).find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, nil, &docs)
	return roleCodec.all(docs), err
}

// roleHolders are the collections whose documents hold roles in a roleIds
// array; memberCount sums over them.
var roleHolders = []string{usersColl, membershipsColl, m2mColl}

// RoleMemberCount counts the principals of the project that hold the role.
func (t *Tenant) RoleMemberCount(ctx context.Context, roleID string) (int64, error) {
	var total int64
	for _, coll := range roleHolders {
		n, err := t.collection(coll).count(ctx, bson.D{{Key: "roleIds", Value: roleID}})
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}
