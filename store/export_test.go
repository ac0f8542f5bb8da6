package store

import (
	"context"
	"fmt"
)

// CollectionName is the collection that holds a project's documents of a
// kind in db's layout (tests read and write documents there as they are).
func CollectionName(db *DB, kind, projectID string) string {
	return db.coll(kind, projectID).Name()
}

// OpenShared opens the store in the shared layout that releases before the
// per-project layout wrote on the embedded engine too.
func OpenShared(ctx context.Context, opts Options) (*DB, error) {
	opts.sharedLayout = true
	return Open(ctx, opts)
}

// StopMigrationAt makes the start-up moves (migrate.go) fail at their
// n-th write (counted from 1 over every kind), as a crash there would; 0
// lets it run.
func StopMigrationAt(n int) {
	if n == 0 {
		migrationStep = nil
		return
	}
	i := 0
	migrationStep = func(kind, what string) error {
		if i++; i == n {
			return fmt.Errorf("stopped before %s of %s", what, kind)
		}
		return nil
	}
}
