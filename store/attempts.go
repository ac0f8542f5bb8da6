package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// attemptsColl holds the windows of the sign-in throttle, one document per
// key (an account, a client address): how many attempts the window counts
// and when it ends. It is global, so that every Atrium instance on the
// database shares the counts. The store keeps the counts; the limits and the
// windows are the caller's.
const attemptsColl = "attempts"

type attemptDoc struct {
	ID        string    `bson:"_id"`
	Count     int       `bson:"count"`
	ExpiresAt time.Time `bson:"expiresAt"`
}

// Attempts counts attempts per key in fixed windows.
//
// Every change is a conditional write whose filter holds the state it was
// computed from (the count and the window's end), so that on MongoDB two
// instances racing for the last attempt cannot both get it; the document's
// in-process lock does the same for the embedded engine, which runs a
// conditional write as a read and a write (see lock.go). Every read is by
// _id with the window's end in the filter: a finished window is as good as
// none, until Sweep deletes it (the embedded engine has no TTL indexes).
type Attempts struct{ coll *mongo.Collection }

// Attempts returns the throttle's counts.
func (d *DB) Attempts() Attempts { return Attempts{d.db.Collection(attemptsColl)} }

// errContended is returned when a key's window kept changing under Take.
var errContended = errors.New("store: the attempt window kept changing; giving up")

// Take counts one attempt for key, unless its window (which ends window
// after its first attempt) already holds limit attempts: taken reports
// which. count is the window's attempts after the call, expiresAt its end.
func (a Attempts) Take(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (count int, expiresAt time.Time, taken bool, err error) {
	defer locks.lock(attemptsColl, key)()
	now = now.UTC().Truncate(time.Millisecond)
	for range 8 {
		var d attemptDoc
		err := a.coll.FindOne(ctx, live(key, now)).Decode(&d)
		if errors.Is(err, mongo.ErrNoDocuments) {
			// Open a window: replace a finished one or insert the first.
			// Another instance that opened one meanwhile makes the upsert
			// a duplicate key; look again.
			d = attemptDoc{ID: key, Count: 1, ExpiresAt: now.Add(window)}
			_, err = a.coll.ReplaceOne(ctx,
				bson.D{{Key: "_id", Value: key}, {Key: "expiresAt", Value: bson.D{{Key: "$lte", Value: now}}}},
				d, options.Replace().SetUpsert(true))
			if errors.Is(mapWriteError(err), ErrDuplicate) {
				continue
			}
			if err != nil {
				return 0, time.Time{}, false, err
			}
			return 1, d.ExpiresAt, true, nil
		}
		if err != nil {
			return 0, time.Time{}, false, err
		}
		if d.Count >= limit {
			return d.Count, d.ExpiresAt, false, nil
		}
		res, err := a.coll.UpdateOne(ctx,
			bson.D{{Key: "_id", Value: key}, {Key: "count", Value: d.Count}, {Key: "expiresAt", Value: d.ExpiresAt}},
			bson.D{{Key: "$inc", Value: bson.D{{Key: "count", Value: 1}}}})
		if err != nil {
			return 0, time.Time{}, false, err
		}
		if res.ModifiedCount == 1 {
			return d.Count + 1, d.ExpiresAt, true, nil
		}
	}
	return 0, time.Time{}, false, fmt.Errorf("%w (key %q)", errContended, key)
}

// GiveBack returns an attempt Take counted, to a window that is still open
// (a sign-in that succeeded, or one that never reached the check).
func (a Attempts) GiveBack(ctx context.Context, key string, now time.Time) error {
	defer locks.lock(attemptsColl, key)()
	f := append(live(key, now.UTC().Truncate(time.Millisecond)), bson.E{Key: "count", Value: bson.D{{Key: "$gt", Value: 0}}})
	_, err := a.coll.UpdateOne(ctx, f, bson.D{{Key: "$inc", Value: bson.D{{Key: "count", Value: -1}}}})
	return err
}

// Reset ends key's window (after a successful sign-in).
func (a Attempts) Reset(ctx context.Context, key string) error {
	defer locks.lock(attemptsColl, key)()
	_, err := a.coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: key}})
	return err
}

// Sweep deletes the windows that ended before now and returns how many.
func (a Attempts) Sweep(ctx context.Context, now time.Time) (int64, error) {
	return deleteExpired(ctx, a.coll, now)
}

// live is the filter of key's window while it is open at now.
func live(key string, now time.Time) bson.D {
	return bson.D{{Key: "_id", Value: key}, {Key: "expiresAt", Value: bson.D{{Key: "$gt", Value: now}}}}
}
