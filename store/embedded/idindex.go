package embedded

// An index the engine's reads by _id can use.
//
// FerretDB v1.24.2 on SQLite keeps a collection as a table with one JSON
// column and pushes a filter of exactly {_id: x} down as
// WHERE _ferretdb_sjson->'$._id' = ?, but the indexes it makes are on
// _ferretdb_sjson->"_id", an expression SQLite does not take for that one:
// every read by _id scans the table, parsing every document's JSON (35 ms
// at 3,000 users, measured). An index on exactly the expression FerretDB
// queries turns that scan into a search (1.4 ms). FerretDB lists and drops
// only the indexes its metadata names, so this one is invisible to it; SQLite
// keeps it up to date on every write and drops it with the table.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
)

// metadataTable is where FerretDB v1.24.2 records each collection's table.
const metadataTable = "_ferretdb_collections"

// IDIndexer adds the _id index to the tables of the databases of one
// engine's data directory.
type IDIndexer struct {
	dir string
	mu  sync.Mutex
	dbs map[string]*sql.DB
}

// NewIDIndexer returns an IDIndexer for the engine whose data is in dir.
func NewIDIndexer(dir string) *IDIndexer {
	return &IDIndexer{dir: dir, dbs: map[string]*sql.DB{}}
}

// ErrNoTable is returned for a collection the engine holds no table for yet.
var ErrNoTable = errors.New("embedded: the collection has no table yet")

func (x *IDIndexer) open(database string) (*sql.DB, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if db, ok := x.dbs[database]; ok {
		return db, nil
	}
	// The engine's writers hold the file's lock at times: wait for them as
	// FerretDB itself does. mode=rw: never make a file the engine has not.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(x.dir, database+".sqlite")+"?mode=rw&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	x.dbs[database] = db
	return db, nil
}

// Index makes sure the tables of the named collections of database have
// the _id index; with no names, every table of database. A named
// collection without a table is ErrNoTable.
func (x *IDIndexer) Index(ctx context.Context, database string, collections ...string) error {
	db, err := x.open(database)
	if err != nil {
		return err
	}
	var tables []string
	if len(collections) == 0 {
		rows, err := db.QueryContext(ctx, fmt.Sprintf("SELECT table_name FROM %q", metadataTable))
		if err != nil {
			return fmt.Errorf("embedded: listing tables: %w", err)
		}
		for rows.Next() {
			var t string
			if err := rows.Scan(&t); err != nil {
				rows.Close()
				return err
			}
			tables = append(tables, t)
		}
		if err := rows.Close(); err != nil {
			return err
		}
	}
	for _, c := range collections {
		var t string
		err := db.QueryRowContext(ctx, fmt.Sprintf("SELECT table_name FROM %q WHERE name = ?", metadataTable), c).Scan(&t)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: %s", ErrNoTable, c)
		}
		if err != nil {
			return fmt.Errorf("embedded: table of %s: %w", c, err)
		}
		tables = append(tables, t)
	}
	for _, t := range tables {
		if _, err := db.ExecContext(ctx, fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q (_ferretdb_sjson->'$._id')`, t+"_atrium_id", t)); err != nil {
			return fmt.Errorf("embedded: indexing %s: %w", t, err)
		}
	}
	return nil
}

// Close closes the database files it opened.
func (x *IDIndexer) Close() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	var errs []error
	for name, db := range x.dbs {
		errs = append(errs, db.Close())
		delete(x.dbs, name)
	}
	return errors.Join(errs...)
}
