package store

import (
	"context"
	"errors"
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

// UserByPhone finds the user with a phone number, or ErrNotFound.
func (t *Tenant) UserByPhone(ctx context.Context, phone string) (*iam.User, error) {
	var u iam.User
	if err := t.collection(usersColl).findOne(ctx, bson.D{{Key: "phoneKey", Value: t.projectID + "/" + phone}}, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// invitationFilter selects the holder of an unexpired invitation ticket.
func invitationFilter(hash string, now time.Time) bson.D {
	return bson.D{
		{Key: "invitation.hash", Value: hash},
		{Key: "invitation.expiresAt", Value: bson.D{{Key: "$gt", Value: now}}},
	}
}

// invitees are the collections whose documents hold invitation tickets.
var invitees = map[Invitee]string{InvitedUser: usersColl, InvitedDeveloper: membershipsColl}

// Invitee is who an invitation ticket can belong to.
type Invitee int

// The invitees.
const (
	InvitedUser Invitee = iota
	InvitedDeveloper
)

// ByInvitation finds the holder of an open invitation ticket and decodes it
// into out (an *iam.User, or the *iam.Membership of an invited developer). The ticket is a secret that
// names its holder, so this is one of the few reads that is not confined to
// a project up front; the holder says which project it is in.
func (d *DB) ByInvitation(ctx context.Context, kind Invitee, hash string, now time.Time, out any) error {
	err := d.db.Collection(invitees[kind]).FindOne(ctx, invitationFilter(hash, now)).Decode(out)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return ErrNotFound
	}
	return err
}

// AcceptInvitation consumes an invitation ticket in one conditional update:
// of any number of concurrent calls with the same ticket exactly one
// succeeds; the others, and any later call, get ErrNotFound. A user gets the
// password hash and becomes active in the same update; a developer's
// membership gives up its ticket, and the developer's account then gets the
// password hash unless it already has one. out receives the holder as
// updated.
func (d *DB) AcceptInvitation(ctx context.Context, kind Invitee, hash, passwordHash string, now time.Time, out any) error {
	// Find the holder first, to take the same document lock as Update: the
	// conditional update below is not atomic on the embedded engine.
	coll := d.db.Collection(invitees[kind])
	raw, err := coll.FindOne(ctx, invitationFilter(hash, now)).Raw()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	id, _ := raw.Lookup("_id").StringValueOK()
	defer locks.lock(coll.Name(), id)()
	set := bson.D{{Key: "updatedAt", Value: now.UTC().Truncate(time.Millisecond)}}
	if kind == InvitedUser {
		set = append(set, bson.E{Key: "passwordHash", Value: passwordHash}, bson.E{Key: "status", Value: iam.Active})
	}
	update := bson.D{
		{Key: "$set", Value: set},
		{Key: "$unset", Value: bson.D{{Key: "invitation", Value: ""}}},
		{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}},
	}
	filter := append(bson.D{{Key: "_id", Value: id}}, invitationFilter(hash, now)...)
	err = coll.FindOneAndUpdate(ctx, filter, update, options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(out)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return ErrNotFound
	}
	if err != nil || kind != InvitedDeveloper {
		return err
	}
	developerID, _ := raw.Lookup("developerId").StringValueOK()
	return d.Developers().setFirstPassword(ctx, developerID, passwordHash)
}

// Orders of user listings; ties are broken by id.
const (
	ByCreatedAt   = "createdAt"
	ByName        = "name"
	ByEmail       = "email"
	ByPhoneNumber = "phoneNumber"
	ByID          = "_id"
)

// UserFilter selects users; empty fields select everything.
type UserFilter struct {
	ID      string
	Name    string // case-insensitive substring
	Email   string // exact, normalised
	Profile string // exact reference
	RoleID  string
	Status  iam.UserStatus
}

func (f UserFilter) filter() bson.D {
	var d bson.D
	if f.ID != "" {
		d = append(d, bson.E{Key: "_id", Value: f.ID})
	}
	if f.Name != "" {
		d = append(d, bson.E{Key: "name", Value: bson.D{{Key: "$regex", Value: regexp.QuoteMeta(f.Name)}, {Key: "$options", Value: "i"}}})
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
	if f.Status != "" {
		d = append(d, bson.E{Key: "status", Value: f.Status})
	}
	return d
}

// UserCursor returns the cursor after u in a listing ordered by field.
func UserCursor(u *iam.User, field string) string {
	switch field {
	case ByName:
		return Cursor(field, u.Name, u.ID)
	case ByEmail:
		return Cursor(field, u.Email, u.ID)
	case ByPhoneNumber:
		return Cursor(field, u.PhoneNumber, u.ID)
	case ByID:
		return Cursor(field, u.ID, u.ID)
	}
	return Cursor(field, u.CreatedAt, u.ID)
}

// ListUsers returns one page of the users matching f.
func (t *Tenant) ListUsers(ctx context.Context, f UserFilter, p Page) ([]iam.User, error) {
	return list[iam.User](ctx, t.collection(usersColl), f.filter(), p)
}

// CountUsers counts the users matching f.
func (t *Tenant) CountUsers(ctx context.Context, f UserFilter) (int64, error) {
	return t.collection(usersColl).count(ctx, f.filter())
}
