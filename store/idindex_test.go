package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"atrium/iam"
	"atrium/store"
)

// Every read by _id on the embedded engine is a search of an index, not a
// scan: in every table, the ones written before this start (whose index was
// dropped, as data written by an earlier release has none) and the ones
// made while it runs (a new project's users and profiles, a directory
// bucket).
func TestReadsByIDUseAnIndex(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	write := func(project string) {
		db, err := store.Open(ctx, store.Options{Database: "atrium", DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close(ctx)
		tn := db.Tenant(project)
		if err := tn.Projects().Insert(ctx, &iam.Project{ID: project, Name: project}); err != nil {
			t.Fatal(err)
		}
		if err := tn.Profiles().Insert(ctx, &iam.Profile{ID: project + "-pr", ResourceType: "Patient", Resource: map[string]any{"resourceType": "Patient"}}); err != nil {
			t.Fatal(err)
		}
		u := iam.User{ID: project + "-u", Name: "n", Email: "u@example.com", RoleIDs: []string{},
			Invitation: &iam.Ticket{Hash: project + "-h", ExpiresAt: time.Now().Add(time.Hour)}}
		if err := tn.Users().Insert(ctx, &u); err != nil {
			t.Fatal(err)
		}
		if got, err := tn.UserByEmail(ctx, "u@example.com"); err != nil || got.ID != u.ID {
			t.Fatalf("by email: %+v, %v", got, err)
		}
	}
	write("p1")
	sq, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "atrium.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer sq.Close()
	tables := func() []string {
		rows, err := sq.Query(`SELECT table_name FROM _ferretdb_collections`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				t.Fatal(err)
			}
			out = append(out, name)
		}
		return out
	}
	for _, table := range tables() {
		if _, err := sq.Exec(fmt.Sprintf(`DROP INDEX IF EXISTS %q`, table+"_atrium_id")); err != nil {
			t.Fatal(err)
		}
	}
	write("p2") // opens again: indexes p1's tables, and p2's as they are made
	var kinds []string
	for _, table := range tables() {
		var id, parent, notUsed int
		var plan string
		// The query FerretDB v1.24.2 sends for {_id: x}.
		q := fmt.Sprintf(`EXPLAIN QUERY PLAN SELECT _ferretdb_sjson FROM %q WHERE _ferretdb_sjson->'$._id' = ?`, table)
		if err := sq.QueryRow(q, `"x"`).Scan(&id, &parent, &notUsed, &plan); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(plan, "USING INDEX "+table+"_atrium_id") {
			t.Errorf("table %s: a read by _id is %q", table, plan)
		}
		kinds = append(kinds, table)
	}
	for _, want := range []string{"users.p1", "users.p2", "profiles.p2", "projects", "directory"} {
		if !strings.Contains(strings.Join(kinds, " "), want) {
			t.Errorf("no table of %s among %v", want, kinds)
		}
	}
}
