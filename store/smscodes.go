package store

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// smsCodesColl holds the open SMS sign-in codes, one document per phone
// number of a project (its _id names both), whether or not a user has the
// number: only the code's MAC, when it ends and how many tries it had. It
// is global and small (codes live minutes; Sweep removes the ended ones),
// and read by _id only.
const smsCodesColl = "smsCodes"

type smsCodeDoc struct {
	ID        string    `bson:"_id"`
	ProjectID string    `bson:"projectId"`
	MAC       string    `bson:"mac"`
	ExpiresAt time.Time `bson:"expiresAt"`
	Tries     int       `bson:"tries"`
}

// SMSCodes are the open SMS sign-in codes.
type SMSCodes struct{ coll *mongo.Collection }

// SMSCodes returns the open SMS sign-in codes.
func (d *DB) SMSCodes() SMSCodes { return SMSCodes{d.db.Collection(smsCodesColl)} }

// CodeOutcome is what a try of a code came to.
type CodeOutcome int

// The outcomes of SMSCodes.Try.
const (
	// CodeMatched: the code was right, and is now used up.
	CodeMatched CodeOutcome = iota
	// CodeWrong: the code was wrong; the try is counted.
	CodeWrong
	// CodeGone: there is no open code (none sent, ended, used, or out of
	// tries).
	CodeGone
)

// Put opens a code for key, replacing the one before (which stops
// working): mac is its MAC, expiresAt its end.
func (c SMSCodes) Put(ctx context.Context, key, projectID, mac string, expiresAt time.Time) error {
	defer locks.lock(smsCodesColl, key)()
	d := smsCodeDoc{ID: key, ProjectID: projectID, MAC: mac, ExpiresAt: expiresAt.UTC().Truncate(time.Millisecond)}
	_, err := c.coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: key}}, d, options.Replace().SetUpsert(true))
	return err
}

// Try counts one try of the open code of key, unless it already had
// maxTries, and checks it with matches (given the stored MAC). A matching
// code is removed, so it works once: of two concurrent tries of the right
// code one matches, the other finds it gone. Each write is conditional on
// the state it was computed from (see Attempts for the embedded engine).
func (c SMSCodes) Try(ctx context.Context, key string, maxTries int, now time.Time, matches func(mac string) bool) (CodeOutcome, error) {
	defer locks.lock(smsCodesColl, key)()
	now = now.UTC().Truncate(time.Millisecond)
	var d smsCodeDoc
	err := c.coll.FindOne(ctx, live(key, now)).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return CodeGone, nil
	}
	if err != nil {
		return 0, err
	}
	if d.Tries >= maxTries {
		return CodeGone, nil
	}
	this := bson.D{{Key: "_id", Value: key}, {Key: "mac", Value: d.MAC}, {Key: "tries", Value: d.Tries}}
	if matches(d.MAC) {
		res, err := c.coll.DeleteOne(ctx, this)
		if err != nil {
			return 0, err
		}
		if res.DeletedCount == 1 {
			return CodeMatched, nil
		}
		return CodeGone, nil
	}
	res, err := c.coll.UpdateOne(ctx, this, bson.D{{Key: "$inc", Value: bson.D{{Key: "tries", Value: 1}}}})
	if err != nil {
		return 0, err
	}
	if res.ModifiedCount == 0 {
		return CodeGone, nil // replaced or used meanwhile
	}
	return CodeWrong, nil
}

// Sweep deletes the codes that ended before now and returns how many.
func (c SMSCodes) Sweep(ctx context.Context, now time.Time) (int64, error) {
	return deleteExpired(ctx, c.coll, now)
}
