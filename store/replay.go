package store

// Replays: the remembered answers of completed requests, so that a retried
// request with the same request id is answered again instead of acting
// twice. Each expires; SweepReplays removes the expired ones (the embedded
// engine has no TTL indexes).

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

const replaysColl = "replays"

// Replay is one request's reservation and, once done, its answer.
type Replay struct {
	// Fingerprint identifies the request (verb, path, body) the id was
	// first used for.
	Fingerprint string
	Done        bool
	Status      int
	Body        []byte
	ExpiresAt   time.Time
}

// replayDoc is a Replay as stored.
type replayDoc struct {
	ID          string    `bson:"_id"`
	ProjectID   string    `bson:"projectId"`
	Fingerprint string    `bson:"fingerprint"`
	Done        bool      `bson:"done"`
	Status      int       `bson:"status"`
	Body        []byte    `bson:"body"`
	CreatedAt   time.Time `bson:"createdAt"`
	ExpiresAt   time.Time `bson:"expiresAt"`
}

// ReserveReplay claims key for a request. When the key is already claimed
// (and not expired) it returns the earlier reservation instead.
func (t *Tenant) ReserveReplay(ctx context.Context, key, fingerprint string, ttl time.Duration) (*Replay, error) {
	s := t.collection(replaysColl)
	id := t.projectID + "/" + key
	for range 2 {
		at := now()
		doc, err := s.document(replayDoc{ID: id, Fingerprint: fingerprint, CreatedAt: at, ExpiresAt: at.Add(ttl)})
		if err != nil {
			return nil, err
		}
		_, err = s.c.InsertOne(ctx, doc)
		if err == nil {
			return nil, nil
		}
		if !errors.Is(mapWriteError(err), ErrDuplicate) {
			return nil, err
		}
		var prev replayDoc
		raw, err := s.getRaw(ctx, id)
		if err == nil {
			err = bson.Unmarshal(raw, &prev)
		}
		switch {
		case errors.Is(err, ErrNotFound):
			continue // released meanwhile
		case err != nil:
			return nil, err
		case prev.ExpiresAt.After(now()):
			return &Replay{Fingerprint: prev.Fingerprint, Done: prev.Done, Status: prev.Status, Body: prev.Body, ExpiresAt: prev.ExpiresAt}, nil
		}
		// Expired but not swept yet: take its place.
		if _, err := s.c.DeleteOne(ctx, s.where(bson.D{{Key: "_id", Value: id}, {Key: "expiresAt", Value: prev.ExpiresAt}})); err != nil {
			return nil, err
		}
	}
	return nil, ErrDuplicate
}

// CompleteReplay records the answer of a reserved request.
func (t *Tenant) CompleteReplay(ctx context.Context, key string, status int, body []byte) error {
	s := t.collection(replaysColl)
	_, err := s.c.UpdateOne(ctx, s.where(bson.D{{Key: "_id", Value: t.projectID + "/" + key}}),
		bson.D{{Key: "$set", Value: bson.D{{Key: "done", Value: true}, {Key: "status", Value: status}, {Key: "body", Value: body}}}})
	return err
}

// ReleaseReplay gives a reservation up, so that a retry runs afresh.
func (t *Tenant) ReleaseReplay(ctx context.Context, key string) error {
	s := t.collection(replaysColl)
	_, err := s.c.DeleteOne(ctx, s.where(bson.D{{Key: "_id", Value: t.projectID + "/" + key}}))
	return err
}

// SweepReplays removes every expired replay, of every project.
func (d *DB) SweepReplays(ctx context.Context) (int64, error) {
	return deleteExpired(ctx, d.db.Collection(replaysColl), now())
}
