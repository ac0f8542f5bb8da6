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
func (t *Tenant) Users() Repo[iam.User, userDoc] {
	return repo(t, usersColl, userCodec)
}

var userCodec = codec[iam.User, userDoc]{toUserDoc, fromUserDoc, func(v *iam.User) *iam.Meta { return &v.Meta }}

// uniqueKeys derives the fields that carry "unique when present" indexes.
// MongoDB indexes a missing field as null, so a plain unique index on
// {projectId, email} would let only one phone-only user exist per project; a
// single derived field that exists only when the value does, with a sparse
// unique index, behaves the same on MongoDB and on the embedded engine.
func uniqueKeys(projectID string, v any) bson.D {
	u, ok := v.(*userDoc)
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
	if u.SSOSubject != "" {
		d = append(d, bson.E{Key: "ssoKey", Value: projectID + "/" + u.SSOSubject})
	}
	return d
}

// UserByEmail finds the user with a normalised email, or ErrNotFound.
func (t *Tenant) UserByEmail(ctx context.Context, email string) (*iam.User, error) {
	return t.userBy(ctx, emailField, email)
}

// UserByPhone finds the user with a phone number, or ErrNotFound.
func (t *Tenant) UserByPhone(ctx context.Context, phone string) (*iam.User, error) {
	return t.userBy(ctx, phoneField, phone)
}

// UserBySSOSubject finds the user linked to an upstream identity
// ("<connection id>/<sub>"), or ErrNotFound.
func (t *Tenant) UserBySSOSubject(ctx context.Context, subject string) (*iam.User, error) {
	return t.userBy(ctx, ssoField, subject)
}

// userBy finds the user whose derived key field f (see uniqueKeys) holds
// value.
func (t *Tenant) userBy(ctx context.Context, f dirField, value string) (*iam.User, error) {
	u, _, err := t.userByKey(ctx, f, value)
	return u, err
}

// userByEmailRaw is UserByEmail with the stored document.
func (t *Tenant) userByEmailRaw(ctx context.Context, email string) (*iam.User, bson.Raw, error) {
	return t.userByKey(ctx, emailField, email)
}

// userByKey finds the user whose derived key field f holds value, with its
// document. On the per-project layout the directory maps the key to the
// user: two reads by _id instead of a scan of the project's users.
func (t *Tenant) userByKey(ctx context.Context, f dirField, value string) (*iam.User, bson.Raw, error) {
	value = t.projectID + "/" + value
	var raw bson.Raw
	var err error
	if t.db.split {
		_, raw, err = t.db.lookup(ctx, f, value)
		if err == nil {
			if p, _ := raw.Lookup("projectId").StringValueOK(); p != t.projectID {
				err = ErrNotFound
			}
		}
	} else {
		s := t.collection(usersColl)
		raw, err = s.c.FindOne(ctx, s.where(bson.D{{Key: f.path[0], Value: value}})).Raw()
		if errors.Is(err, mongo.ErrNoDocuments) {
			err = ErrNotFound
		}
	}
	if err != nil {
		return nil, nil, err
	}
	var u userDoc
	if err := bson.Unmarshal(raw, &u); err != nil {
		return nil, nil, err
	}
	return fromUserDoc(&u), raw, nil
}

// invitationFilter selects the holder of an unexpired invitation ticket.
func invitationFilter(hash string, now time.Time) bson.D {
	return bson.D{
		{Key: "invitation.hash", Value: hash},
		{Key: "invitation.expiresAt", Value: bson.D{{Key: "$gt", Value: now}}},
	}
}

// UserByInvitation finds the user holding an open invitation ticket. The
// ticket is a secret that names its holder, so this is one of the few reads
// that is not confined to a project up front; the holder says which project
// it is in.
func (d *DB) UserByInvitation(ctx context.Context, hash string, now time.Time) (*iam.User, error) {
	var u userDoc
	if err := d.byInvitation(ctx, usersColl, hash, now, &u); err != nil {
		return nil, err
	}
	return fromUserDoc(&u), nil
}

// MembershipByInvitation finds the membership of an invited developer
// holding an open invitation ticket, as UserByInvitation does for users.
func (d *DB) MembershipByInvitation(ctx context.Context, hash string, now time.Time) (*iam.Membership, error) {
	var m membershipDoc
	if err := d.byInvitation(ctx, membershipsColl, hash, now, &m); err != nil {
		return nil, err
	}
	return fromMembershipDoc(&m), nil
}

func (d *DB) byInvitation(ctx context.Context, kind, hash string, now time.Time, out any) error {
	_, raw, err := d.ticketHolder(ctx, kind, hash, now)
	if err != nil {
		return err
	}
	return bson.Unmarshal(raw, out)
}

// ticketHolder finds the document of kind holding an open invitation
// ticket, and the collection it is in: through the directory when the
// documents of kind are kept per project, else by the ticket's index.
// A ticket still held but past its time is ErrExpired.
func (d *DB) ticketHolder(ctx context.Context, kind, hash string, now time.Time) (*mongo.Collection, bson.Raw, error) {
	if d.split && kind == ticketField.kind {
		s, raw, err := d.lookup(ctx, ticketField, hash)
		if err != nil {
			return nil, nil, err
		}
		if exp, ok := raw.Lookup("invitation", "expiresAt").TimeOK(); !ok || !exp.After(now) {
			return nil, nil, ErrExpired
		}
		return s.c, raw, nil
	}
	c := d.db.Collection(kind)
	raw, err := c.FindOne(ctx, invitationFilter(hash, now)).Raw()
	if errors.Is(err, mongo.ErrNoDocuments) {
		// Held, but past its time, or not held at all?
		if err := c.FindOne(ctx, bson.D{{Key: "invitation.hash", Value: hash}}).Err(); err == nil {
			return nil, nil, ErrExpired
		}
		return nil, nil, ErrNotFound
	}
	return c, raw, err
}

// AcceptUserInvitation consumes a user's invitation ticket in one
// conditional update: of any number of concurrent calls with the same ticket
// exactly one succeeds; the others, and any later call, get ErrNotFound. The
// user gets the password hash and becomes active in the same update.
func (d *DB) AcceptUserInvitation(ctx context.Context, hash, passwordHash string, now time.Time) (*iam.User, error) {
	var u userDoc
	set := bson.D{{Key: "passwordHash", Value: passwordHash}, {Key: "status", Value: iam.Active}}
	if _, err := d.acceptInvitation(ctx, usersColl, hash, set, now, &u); err != nil {
		return nil, err
	}
	return fromUserDoc(&u), nil
}

// AcceptDeveloperInvitation consumes the ticket of a developer's membership
// as AcceptUserInvitation does; the developer's account then gets the
// password hash unless it already has one.
func (d *DB) AcceptDeveloperInvitation(ctx context.Context, hash, passwordHash string, now time.Time) (*iam.Membership, error) {
	var m membershipDoc
	raw, err := d.acceptInvitation(ctx, membershipsColl, hash, nil, now, &m)
	if err != nil {
		return nil, err
	}
	developerID, _ := raw.Lookup("developerId").StringValueOK()
	if err := d.Developers().setFirstPassword(ctx, developerID, passwordHash); err != nil {
		return nil, err
	}
	return fromMembershipDoc(&m), nil
}

// acceptInvitation removes the ticket from its holder in coll and sets set;
// out receives the holder as updated. It returns the holder as it was.
func (d *DB) acceptInvitation(ctx context.Context, kind, hash string, set bson.D, now time.Time, out any) (bson.Raw, error) {
	// Find the holder first, to take the same document lock as Update: the
	// conditional update below is not atomic on the embedded engine.
	c, raw, err := d.ticketHolder(ctx, kind, hash, now)
	if err != nil {
		return nil, err
	}
	id, _ := raw.Lookup("_id").StringValueOK()
	defer locks.lock(c.Name(), id)()
	set = append(bson.D{{Key: "updatedAt", Value: now.UTC().Truncate(time.Millisecond)}}, set...)
	update := bson.D{
		{Key: "$set", Value: set},
		{Key: "$unset", Value: bson.D{{Key: "invitation", Value: ""}}},
		{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}},
	}
	filter := append(bson.D{{Key: "_id", Value: id}}, invitationFilter(hash, now)...)
	err = c.FindOneAndUpdate(ctx, filter, update, options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(out)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrNotFound
	}
	if err == nil && d.split && kind == ticketField.kind {
		projectID, _ := raw.Lookup("projectId").StringValueOK()
		err = d.dropEntry(context.WithoutCancel(ctx), ticketField, hash, projectID, id, true)
	}
	return raw, err
}

// userOrders are the fields users are listed by.
var userOrders = map[iam.UserOrder]string{iam.UsersByCreatedAt: "createdAt", iam.UsersByName: "name", iam.UsersByEmail: "email",
	iam.UsersByPhone: "phoneNumber", iam.UsersByID: "_id"}

func userFilter(f iam.UserFilter) bson.D {
	var d bson.D
	if f.ID != "" {
		d = append(d, bson.E{Key: "_id", Value: f.ID})
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
	if f.Status != "" {
		d = append(d, bson.E{Key: "status", Value: f.Status})
	}
	return d
}

// nameContains selects documents whose name holds s, in any case.
func nameContains(s string) bson.E {
	return bson.E{Key: "name", Value: bson.D{{Key: "$regex", Value: regexp.QuoteMeta(s)}, {Key: "$options", Value: "i"}}}
}

// ListUsers returns one page of the users matching f in order, and the
// cursor after each.
func (t *Tenant) ListUsers(ctx context.Context, f iam.UserFilter, order iam.UserOrder, p Page) ([]iam.User, []string, error) {
	field := orderField(userOrders, order)
	if t.byEmailOnly(f) {
		// At most one user: found through the directory, not a scan.
		p.field = field
		if _, err := p.within(); err != nil || p.After != "" || p.Before != "" || p.Limit < 1 {
			return nil, nil, err // the one user, if any, is the cursor's own
		}
		u, raw, err := t.userByEmailRaw(ctx, f.Email)
		if errors.Is(err, ErrNotFound) {
			return []iam.User{}, []string{}, nil
		}
		if err != nil {
			return nil, nil, err
		}
		return []iam.User{*u}, []string{cursorAt(field, raw)}, nil
	}
	return list(ctx, t.collection(usersColl), userCodec, userFilter(f), field, p)
}

// byEmailOnly says whether a listing filters by email alone on the
// per-project layout, where the directory finds the one user it can match.
func (t *Tenant) byEmailOnly(f iam.UserFilter) bool {
	return t.db.split && f.Email != "" && f == iam.UserFilter{Email: f.Email}
}

// CountUsers counts the users matching f.
func (t *Tenant) CountUsers(ctx context.Context, f iam.UserFilter) (int64, error) {
	if t.byEmailOnly(f) {
		_, _, err := t.userByEmailRaw(ctx, f.Email)
		if errors.Is(err, ErrNotFound) {
			return 0, nil
		}
		return 1, err
	}
	return t.collection(usersColl).count(ctx, userFilter(f))
}
