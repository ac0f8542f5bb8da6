package embedded

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // the SQLite driver FerretDB uses; registers "sqlite"
)

// Backup writes a consistent copy of the embedded deployment in dataDir into
// dest, a directory that must not exist yet, so that an engine started on
// dest finds the same data. It only reads dataDir and works while Atrium
// runs there: FerretDB keeps each database in one SQLite file
// (<database>.sqlite, in WAL mode), and VACUUM INTO copies a file as of one
// read transaction. files names further files of dataDir to copy as they
// are (the generated secrets); a missing one is skipped.
func Backup(ctx context.Context, dataDir, dest string, files ...string) (err error) {
	src, err := filepath.Abs(dataDir)
	if err != nil {
		return err
	}
	dbs, err := filepath.Glob(filepath.Join(src, "*.sqlite"))
	if err != nil {
		return err
	}
	if len(dbs) == 0 {
		return fmt.Errorf("backup: %s holds no embedded database (no *.sqlite file)", src)
	}
	if err := os.Mkdir(dest, 0o700); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("backup: %s already exists; name a new directory", dest)
		}
		return fmt.Errorf("backup: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(dest) // no half-made backup left behind
		}
	}()
	for _, db := range dbs {
		if err := vacuumInto(ctx, db, filepath.Join(dest, filepath.Base(db))); err != nil {
			return fmt.Errorf("backup: %s: %w", db, err)
		}
	}
	for _, name := range files {
		b, err := os.ReadFile(filepath.Join(src, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dest, name), b, 0o600); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
	}
	return nil
}

// vacuumInto copies the SQLite database file src to dst with VACUUM INTO,
// opening src read-only and waiting for the engine's writers as FerretDB
// itself does (busy_timeout).
func vacuumInto(ctx context.Context, src, dst string) error {
	db, err := sql.Open("sqlite", "file:"+src+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", dst); err != nil {
		return err
	}
	return nil
}
