package store

// The moves of embedded data written by earlier releases: from the shared
// layout (before the per-project layout of layout.go) to a collection per
// project, and of the directory's 256 buckets into its one collection.

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// migrationStep, when set (by tests), runs before each write of the move
// and stops it with its error, as a crash there would.
var migrationStep func(kind, step string) error

// step runs migrationStep.
func step(kind, what string) error {
	if migrationStep == nil {
		return nil
	}
	return migrationStep(kind, what)
}

// migrate moves every document of a shared collection of a per-project
// kind into its project's collection, with its directory entry, and then
// drops the shared collection. It runs at start-up, before anything is
// served. Every step can be repeated: documents are upserted by _id and an
// entry already mapping to its document is left as is, and the shared
// collection goes only once all its documents are copied, so a start after
// a crash at any point copies again what was left and converges. A data
// directory with no shared collection of these kinds costs one listing.
func (d *DB) migrate(ctx context.Context) error {
	names, err := d.db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return fmt.Errorf("store: listing collections: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		if strings.HasPrefix(name, directoryColl+".") {
			if err := d.mergeDirectory(ctx, name); err != nil {
				return fmt.Errorf("store: moving %s into %s: %w", name, directoryColl, err)
			}
		}
	}
	for _, kind := range names {
		if !perProject[kind] {
			continue
		}
		if err := d.migrateKind(ctx, kind); err != nil {
			return fmt.Errorf("store: moving %s to one collection per project: %w", kind, err)
		}
	}
	return nil
}

// mergeDirectory moves the entries of one of the directory's old buckets
// ("directory.00" to "directory.ff", see directoryColl) into its one
// collection, then drops the bucket. Entries are upserted by _id (a key
// hashed to one bucket only), so a start after a crash copies again what
// was left and converges.
func (d *DB) mergeDirectory(ctx context.Context, bucket string) error {
	cur, err := d.db.Collection(bucket).Find(ctx, bson.D{})
	if err != nil {
		return err
	}
	var entries []bson.Raw
	if err := cur.All(ctx, &entries); err != nil {
		return err
	}
	dir := d.directory()
	if err := d.ready(ctx, dir, directoryColl); err != nil {
		return err
	}
	for _, raw := range entries {
		if err := step(directoryColl, "merge"); err != nil {
			return err
		}
		if _, err := dir.ReplaceOne(ctx, bson.D{{Key: "_id", Value: raw.Lookup("_id")}}, raw, options.Replace().SetUpsert(true)); err != nil {
			return mapWriteError(err)
		}
	}
	if err := step(directoryColl, "drop"); err != nil {
		return err
	}
	return d.db.Collection(bucket).Drop(ctx)
}

// migrateKind moves the shared collection of one kind.
func (d *DB) migrateKind(ctx context.Context, kind string) error {
	shared := d.db.Collection(kind)
	// Read the whole collection first: it was the data of one process, and
	// the writes below then never run under an open cursor of the engine.
	cur, err := shared.Find(ctx, bson.D{})
	if err != nil {
		return err
	}
	var docs []bson.Raw
	if err := cur.All(ctx, &docs); err != nil {
		return err
	}
	for _, raw := range docs {
		projectID, ok := raw.Lookup("projectId").StringValueOK()
		id, idOK := raw.Lookup("_id").StringValueOK()
		if !ok || !idOK {
			return fmt.Errorf("document %s has no string projectId or _id", raw.Lookup("_id"))
		}
		target := d.coll(kind, projectID)
		if err := d.ready(ctx, target, kind); err != nil {
			return err
		}
		if err := step(kind, "claim"); err != nil {
			return err
		}
		for i, value := range directedValues(kind, raw) {
			if value == "" {
				continue
			}
			f := directed[kind][i]
			unlock := dirLocks.lock(directoryColl, f.key(value))
			_, err := d.claim(ctx, f, value, projectID, id)
			unlock()
			if err != nil {
				return err
			}
		}
		if err := step(kind, "copy"); err != nil {
			return err
		}
		if _, err := target.ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, raw, options.Replace().SetUpsert(true)); err != nil {
			return mapWriteError(err)
		}
	}
	if err := step(kind, "drop"); err != nil {
		return err
	}
	return shared.Drop(ctx)
}
