package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"atrium/iam"
)

// Users of this tenant.
func (t *Tenant) Users() Repo[iam.User, *iam.User] {
	return repo[iam.User](t, usersColl)
}

// uniqueKeys derives the fields that carry "unique when present" indexes.
// MongoDB indexes a missing field as null, so a plain unique index on
// {projectId, email} would let only one phone-only user exist per project; a
// single derived field that exists only when the value does, with a sparse
// unique index, behaves the same on MongoDB and on the embedded engine.
func uniqueKeys(projectID string, v any) bson.D {
	u, ok := v.(*iam.User)
	if !ok {
		return nil
	}
	var d bson.D
	if u.Email != "" {
		d = append(d, bson.E{Key: "emailKey", Value: projectID + "/" + u.Email})
	}
	if u.PhoneNumber != "" {
		d = append(d, bson.E{Key: "phoneKey", Value: projectID + "/" + u.PhoneNumber})
	}
	return d
}

// UserByEmail finds the user with a normalised email, or ErrNotFound.
func (t *Tenant) UserByEmail(ctx context.Context, email string) (*iam.User, error) {
	var u iam.User
	if err := t.collection(usersColl).findOne(ctx, bson.D{{Key: "emailKey", Value: t.projectID + "/" + email}}, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// invitationFilter selects the invited user holding an unexpired ticket.
func invitationFilter(hash string, now time.Time) bson.D {
	return bson.D{
		{Key: "invitation.hash", Value: hash},
		{Key: "invitation.expiresAt", Value: bson.D{{Key: "$gt", Value: now}}},
		{Key: "status", Value: iam.Invited},
	}
}

// UserByInvitation finds the user an open invitation ticket belongs to. The
// ticket is a secret that names its user, so this is one of the few reads
// that is not confined to a project up front; the user it returns says which
// project it is in.
func (d *DB) UserByInvitation(ctx context.Context, hash string, now time.Time) (*iam.User, error) {
	var u iam.User
	err := d.db.Collection(usersColl).FindOne(ctx, invitationFilter(hash, now)).Decode(&u)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrNotFound
	}
	return &u, err
}

// AcceptInvitation consumes an invitation ticket and activates its user with
// the password hash, in one conditional update: of any number of concurrent
// calls with the same ticket exactly one succeeds; the others, and any later
// call, get ErrNotFound.
func (d *DB) AcceptInvitation(ctx context.Context, hash, passwordHash string, now time.Time) (*iam.User, error) {
	t := now.UTC().Truncate(time.Millisecond)
	update := bson.D{
		{Key: "$set", Value: bson.D{{Key: "passwordHash", Value: passwordHash}, {Key: "status", Value: iam.Active}, {Key: "updatedAt", Value: t}}},
		{Key: "$unset", Value: bson.D{{Key: "invitation", Value: ""}}},
		{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}},
	}
	var u iam.User
	err := d.db.Collection(usersColl).FindOneAndUpdate(ctx, invitationFilter(hash, now), update,
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&u)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrNotFound
	}
	return &u, err
}

// UserOrder is the sort key of a user listing.
type UserOrder string

// The orders users can be listed in; ties are broken by id.
const (
	ByCreatedAt UserOrder = "createdAt"
	ByName      UserOrder = "name"
	ByEmail     UserOrder = "email"
)

// UserQuery selects a page of users.
type UserQuery struct {
	Name    string // case-insensitive substring
	Email   string // exact, normalised
	Profile string // exact reference
	RoleID  string
	Status  iam.UserStatus
	Order   UserOrder
	Desc    bool
	After   string // cursor of the last user of the previous page
	Limit   int
}

func (q UserQuery) filter() bson.D {
	var f bson.D
	if q.Name != "" {
		f = append(f, bson.E{Key: "name", Value: bson.D{{Key: "$regex", Value: regexp.QuoteMeta(q.Name)}, {Key: "$options", Value: "i"}}})
	}
	if q.Email != "" {
		f = append(f, bson.E{Key: "email", Value: q.Email})
	}
	if q.Profile != "" {
		f = append(f, bson.E{Key: "profile", Value: q.Profile})
	}
	if q.RoleID != "" {
		f = append(f, bson.E{Key: "roleIds", Value: q.RoleID})
	}
	if q.Status != "" {
		f = append(f, bson.E{Key: "status", Value: q.Status})
	}
	return f
}

// ErrBadCursor is returned for a cursor this store did not make.
var ErrBadCursor = errors.New("store: malformed cursor")

// cursor is the position after a user in a given order.
type cursor struct {
	Order UserOrder `json:"o"`
	Key   string    `json:"k"`
	ID    string    `json:"i"`
}

// sortKey is the value of the order's field, as a string that sorts the same
// way (dates in a fixed-width RFC 3339 form).
func sortKey(u *iam.User, o UserOrder) any {
	switch o {
	case ByName:
		return u.Name
	case ByEmail:
		return u.Email
	}
	return u.CreatedAt
}

// UserCursor returns the opaque cursor after u.
func UserCursor(u *iam.User, o UserOrder) string {
	c := cursor{Order: o, ID: u.ID}
	switch k := sortKey(u, o).(type) {
	case string:
		c.Key = k
	case time.Time:
		c.Key = k.UTC().Format(time.RFC3339Nano)
	}
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (q UserQuery) after() (bson.D, error) {
	if q.After == "" {
		return nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(q.After)
	var c cursor
	if err != nil || json.Unmarshal(raw, &c) != nil || c.ID == "" {
		return nil, ErrBadCursor
	}
	if c.Order != q.Order {
		return nil, fmt.Errorf("%w: it was made for another order", ErrBadCursor)
	}
	var key any = c.Key
	if q.Order == ByCreatedAt {
		t, err := time.Parse(time.RFC3339Nano, c.Key)
		if err != nil {
			return nil, ErrBadCursor
		}
		key = t
	}
	op := "$gt"
	if q.Desc {
		op = "$lt"
	}
	field := string(q.Order)
	return bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: field, Value: bson.D{{Key: op, Value: key}}}},
		bson.D{{Key: field, Value: key}, {Key: "_id", Value: bson.D{{Key: op, Value: c.ID}}}},
	}}}, nil
}

// ListUsers returns up to q.Limit users after the cursor, in a stable order.
func (t *Tenant) ListUsers(ctx context.Context, q UserQuery) ([]iam.User, error) {
	after, err := q.after()
	if err != nil {
		return nil, err
	}
	dir := 1
	if q.Desc {
		dir = -1
	}
	opts := options.Find().
		SetSort(bson.D{{Key: string(q.Order), Value: dir}, {Key: "_id", Value: dir}}).
		SetLimit(int64(q.Limit))
	out := []iam.User{}
	err = t.collection(usersColl).find(ctx, append(q.filter(), after...), opts, &out)
	return out, err
}

// CountUsers counts the users matching the query's filters.
func (t *Tenant) CountUsers(ctx context.Context, q UserQuery) (int64, error) {
	return t.collection(usersColl).count(ctx, q.filter())
}
