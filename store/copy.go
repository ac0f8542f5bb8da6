package store

// The copy of a deployment into another database (atrium copy-to-mongodb):
// from the embedded engine's per-project layout to MongoDB's shared one.

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// CopyTo copies every document of d into dst, which must keep shared
// collections (MongoDB): each per-project collection goes into the shared
// collection of its kind, every other collection into the one of its name,
// and the directory, which dst answers from its indexes, is left out.
// Documents are upserted by _id, so a copy cut short can be run again. It
// returns the number of documents copied. Nothing may write to d meanwhile.
func (d *DB) CopyTo(ctx context.Context, dst *DB) (int, error) {
	if dst.split {
		return 0, errors.New("store: copy: the target keeps a collection per project (an embedded engine); copy into MongoDB")
	}
	names, err := d.db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return 0, fmt.Errorf("store: copy: listing collections: %w", err)
	}
	sort.Strings(names)
	n := 0
	for _, name := range names {
		if name == directoryColl {
			continue
		}
		target := name
		if kind, ok := kindOf(name); ok {
			target = kind
		}
		cur, err := d.db.Collection(name).Find(ctx, bson.D{})
		if err != nil {
			return n, fmt.Errorf("store: copy: reading %s: %w", name, err)
		}
		for cur.Next(ctx) {
			id := cur.Current.Lookup("_id")
			if _, err := dst.db.Collection(target).ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, cur.Current, options.Replace().SetUpsert(true)); err != nil {
				_ = cur.Close(ctx)
				return n, fmt.Errorf("store: copy: writing %s %s into %s: %w", name, id, target, mapWriteError(err))
			}
			n++
		}
		err = cur.Err()
		_ = cur.Close(ctx)
		if err != nil {
			return n, fmt.Errorf("store: copy: reading %s: %w", name, err)
		}
	}
	return n, nil
}
