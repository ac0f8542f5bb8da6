package store

// The signing keys of token issuers (package auth's key ring): a handful
// per issuer, kept forever-small by rotation. A project's keys live with
// its other documents (a collection per project on the embedded engine,
// see layout.go); the platform issuer's keys have a shared collection of
// their own.
//
// A key's _id is "<projectId>/<generation>", so that the one write that
// may race (two requests, or two Atrium instances, making an issuer's
// next key at once) is an insert of the same _id: exactly one wins, on
// MongoDB and on the embedded engine, and the other reads the winner's key.

import (
	"context"
	"errors"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"atrium/iam"
)

const (
	keysColl         = "signingKeys"
	platformKeysColl = "platformKeys"
)

type keyDoc struct {
	ID         string    `bson:"_id"`
	ProjectID  string    `bson:"projectId"`
	Generation int64     `bson:"generation"`
	KeyID      string    `bson:"kid"`
	Sealed     []byte    `bson:"sealed"`
	Public     []byte    `bson:"public"`
	PublishAt  time.Time `bson:"publishAt"`
	ActiveAt   time.Time `bson:"activeAt"`
	CreatedAt  time.Time `bson:"createdAt"`
}

// maxKeysRead bounds one read of an issuer's keys; rotation keeps a few.
const maxKeysRead = 100

// SigningKeys is the store of issuers' signing keys.
type SigningKeys struct{ db *DB }

// SigningKeys returns the store of signing keys.
func (d *DB) SigningKeys() SigningKeys { return SigningKeys{db: d} }

// keys is the collection holding an issuer's keys ("" is the platform).
func (k SigningKeys) keys(projectID string) scoped {
	if projectID == "" {
		return scoped{c: k.db.db.Collection(platformKeysColl), kind: platformKeysColl, db: k.db}
	}
	return k.db.Tenant(projectID).collection(keysColl)
}

// List returns the issuer's newest keys, newest first.
func (k SigningKeys) List(ctx context.Context, projectID string) ([]iam.SigningKey, error) {
	var docs []keyDoc
	opts := options.Find().SetSort(bson.D{{Key: "generation", Value: -1}}).SetLimit(maxKeysRead)
	if err := k.keys(projectID).find(ctx, bson.D{}, opts, &docs); err != nil {
		return nil, err
	}
	out := make([]iam.SigningKey, len(docs))
	for i, d := range docs {
		out[i] = iam.SigningKey{ProjectID: d.ProjectID, Generation: d.Generation, KeyID: d.KeyID, Sealed: d.Sealed,
			Public: d.Public, PublishAt: d.PublishAt, ActiveAt: d.ActiveAt, CreatedAt: d.CreatedAt}
	}
	return out, nil
}

// Insert stores key unless the issuer already has a key of its generation:
// inserted is false then (another request made it first).
func (k SigningKeys) Insert(ctx context.Context, key iam.SigningKey) (inserted bool, err error) {
	s := k.keys(key.ProjectID)
	doc, err := s.document(keyDoc{ID: key.ProjectID + "/" + strconv.FormatInt(key.Generation, 10), Generation: key.Generation,
		KeyID: key.KeyID, Sealed: key.Sealed, Public: key.Public, PublishAt: key.PublishAt.UTC(), ActiveAt: key.ActiveAt.UTC(), CreatedAt: now()})
	if err != nil {
		return false, err
	}
	_, err = s.write(ctx, doc, docID(doc), func() (bool, error) {
		_, err := s.c.InsertOne(ctx, doc)
		return err == nil, err
	})
	if errors.Is(mapWriteError(err), ErrDuplicate) {
		return false, nil
	}
	return err == nil, err
}
