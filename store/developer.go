package store

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"atrium/iam"
)

// Developers are above projects: their accounts are the one kind of
// document not owned by a project. What a developer may do in a project
// lives in that project's Membership.
type Developers struct{ db *DB }

// Developers returns the developer accounts.
func (d *DB) Developers() Developers { return Developers{db: d} }

func (ds Developers) coll() *mongo.Collection { return ds.db.db.Collection(developersColl) }

func (ds Developers) one(ctx context.Context, filter bson.D) (*iam.Developer, error) {
	var dev developerDoc
	err := ds.coll().FindOne(ctx, filter).Decode(&dev)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return fromDeveloperDoc(&dev), nil
}

// Get returns a developer by id.
func (ds Developers) Get(ctx context.Context, id string) (*iam.Developer, error) {
	return ds.one(ctx, bson.D{{Key: "_id", Value: id}})
}

// ByEmail returns a developer by normalised email.
func (ds Developers) ByEmail(ctx context.Context, email string) (*iam.Developer, error) {
	return ds.one(ctx, bson.D{{Key: "email", Value: email}})
}

// Insert stores a new developer; an email already taken is ErrDuplicate.
func (ds Developers) Insert(ctx context.Context, dev *iam.Developer) error {
	dev.CreatedAt, dev.UpdatedAt, dev.Version = now(), now(), 1
	_, err := ds.coll().InsertOne(ctx, toDeveloperDoc(dev))
	return mapWriteError(err)
}

// Set changes fields of a developer (its last sign-in) without a version
// check: they are single-field facts.
func (ds Developers) Set(ctx context.Context, id string, fields bson.D) error {
	defer locks.lock(developersColl, id)()
	fields = append(fields, bson.E{Key: "updatedAt", Value: now()})
	res, err := ds.coll().UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: fields}, {Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}})
	if err == nil && res.MatchedCount == 0 {
		return ErrNotFound
	}
	return err
}

// setFirstPassword gives an account its password, unless it has one: a
// developer invited by several projects sets it with the first link used.
func (ds Developers) setFirstPassword(ctx context.Context, id, passwordHash string) error {
	_, err := ds.coll().UpdateOne(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "passwordHash", Value: bson.D{{Key: "$exists", Value: false}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "passwordHash", Value: passwordHash}, {Key: "updatedAt", Value: now()}}}, {Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}})
	return err
}

// SetLastSignIn records a sign-in.
func (ds Developers) SetLastSignIn(ctx context.Context, id string, at time.Time) error {
	return ds.Set(ctx, id, bson.D{{Key: "lastSignInAt", Value: at}})
}

// Memberships of this tenant.
func (t *Tenant) Memberships() Repo[iam.Membership, membershipDoc] {
	return repo(t, membershipsColl, membershipCodec)
}

var membershipCodec = codec[iam.Membership, membershipDoc]{toMembershipDoc, fromMembershipDoc, func(v *iam.Membership) *iam.Meta { return &v.Meta }}

// MembershipID is the id of a developer's membership in a project.
func MembershipID(projectID, developerID string) string { return projectID + "/" + developerID }

// membershipOrders are the fields a project's developers are listed by
// (the membership's _id is "<projectId>/<developerId>": in one project, the
// developers' ids order it); developers have no phone number.
var membershipOrders = map[iam.UserOrder]string{iam.UsersByCreatedAt: "createdAt", iam.UsersByName: "name", iam.UsersByEmail: "email",
	iam.UsersByID: "_id", iam.UsersByPhone: "_id"}

// ListMemberships returns one page of the project's developers in an order
// (by the time they joined, by default), and the cursor after each.
func (t *Tenant) ListMemberships(ctx context.Context, f iam.DeveloperFilter, order iam.UserOrder, p Page) ([]iam.Membership, []string, error) {
	var d bson.D
	if f.DeveloperID != "" {
		d = append(d, bson.E{Key: "developerId", Value: f.DeveloperID})
	}
	if f.Name != "" {
		d = append(d, nameContains(f.Name))
	}
	if f.Email != "" {
		d = append(d, bson.E{Key: "email", Value: f.Email})
	}
	if f.Profile != "" {
		d = append(d, bson.E{Key: "profile", Value: f.Profile})
	}
	if f.RoleID != "" {
		d = append(d, bson.E{Key: "roleIds", Value: f.RoleID})
	}
	return list(ctx, t.collection(membershipsColl), membershipCodec, d, orderField(membershipOrders, order), p)
}

// ProjectsOfDeveloper returns the ids of the projects a developer belongs
// to (a read across projects, by the developer's own id).
func (d *DB) ProjectsOfDeveloper(ctx context.Context, developerID string) ([]string, error) {
	cur, err := d.db.Collection(membershipsColl).Find(ctx, bson.D{{Key: "developerId", Value: developerID}},
		options.Find().SetProjection(bson.D{{Key: "projectId", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var ms []struct {
		ProjectID string `bson:"projectId"`
	}
	if err := cur.All(ctx, &ms); err != nil {
		return nil, err
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ProjectID
	}
	return ids, nil
}
