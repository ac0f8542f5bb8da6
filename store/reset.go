package store

// Password reset tickets: at most one open ticket per account, found by the
// account's handle (the document's _id) which the ticket itself carries, so
// every read and write is by _id.

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// resetsColl holds the open password reset tickets of every project. It
// grows with the tickets handed out in the last hour, not with a project's
// users; SweepResets removes the expired ones (the embedded engine has no
// TTL indexes).
const resetsColl = "passwordResets"

// Reset is one open password reset ticket. Only the ticket's hash is kept.
type Reset struct {
	// Handle names the account (see service), and is the document's _id: a
	// new ticket for the account replaces the old one.
	Handle    string    `bson:"_id"`
	ProjectID string    `bson:"projectId"`
	UserID    string    `bson:"userId"` // "" for an address that has no account
	Hash      string    `bson:"hash"`
	ExpiresAt time.Time `bson:"expiresAt"`
	// RedirectURL is where the reset page sends the user after the reset,
	// "" for the default.
	RedirectURL string `bson:"redirectUrl,omitempty"`
}

// Resets are the open password reset tickets.
type Resets struct{ coll *mongo.Collection }

// Resets returns the password reset tickets.
func (d *DB) Resets() Resets { return Resets{d.db.Collection(resetsColl)} }

// Put stores r as its account's one open ticket, replacing any other: one
// write by _id, whether or not the handle held a ticket before.
func (rs Resets) Put(ctx context.Context, r Reset) error {
	defer locks.lock(resetsColl, r.Handle)()
	r.ExpiresAt = r.ExpiresAt.UTC().Truncate(time.Millisecond)
	_, err := rs.coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: r.Handle}}, r, options.Replace().SetUpsert(true))
	return err
}

// Get returns the open ticket of a handle whose hash is hash: ErrNotFound
// when there is none or another ticket replaced it, ErrExpired when its time
// is up.
func (rs Resets) Get(ctx context.Context, handle, hash string, now time.Time) (*Reset, error) {
	var r Reset
	err := rs.coll.FindOne(ctx, bson.D{{Key: "_id", Value: handle}}).Decode(&r)
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return nil, ErrNotFound
	case err != nil:
		return nil, err
	case r.Hash != hash:
		return nil, ErrNotFound
	case !r.ExpiresAt.After(now):
		return nil, ErrExpired
	}
	return &r, nil
}

// Use consumes the ticket of a handle whose hash is hash, in one conditional
// delete: of concurrent uses exactly one succeeds, the others (and any later
// one) get ErrNotFound; ErrExpired when its time is up.
func (rs Resets) Use(ctx context.Context, handle, hash string, now time.Time) (*Reset, error) {
	defer locks.lock(resetsColl, handle)()
	r, err := rs.Get(ctx, handle, hash, now)
	if err != nil {
		return nil, err
	}
	res, err := rs.coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: handle}, {Key: "hash", Value: hash}})
	if err != nil {
		return nil, err
	}
	if res.DeletedCount != 1 {
		return nil, ErrNotFound
	}
	return r, nil
}

// Sweep deletes the tickets that expired before now and returns how many.
func (rs Resets) Sweep(ctx context.Context, now time.Time) (int64, error) {
	return deleteExpired(ctx, rs.coll, now)
}
