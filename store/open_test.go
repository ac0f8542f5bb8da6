package store_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"atrium/store"
	"atrium/store/embedded"
)

// openDir opens the store on the embedded engine with its data in dir.
func openDir(t *testing.T, dir string) (*store.DB, error) {
	t.Helper()
	return store.Open(context.Background(), store.Options{Database: "atrium", DataDir: dir})
}

// withEngine runs f against a driver connected to an engine on dir, as an
// operator with a mongo shell would.
func withEngine(t *testing.T, dir string, f func(db *mongo.Database)) {
	t.Helper()
	e, err := embedded.Start(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Stop()
	c, err := mongo.Connect(options.Client().ApplyURI(e.URI()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(context.Background())
	f(c.Database("atrium"))
}

// Opening an existing data dir again finds every index in place and keeps
// the data; it used to crash the engine on the second start.
func TestOpenExistingDataDirAgain(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for round := range 3 {
		db, err := openDir(t, dir)
		if err != nil {
			t.Fatalf("open #%d: %v", round+1, err)
		}
		tn := db.Tenant("p")
		insertRole(t, tn, "Role "+string(rune('A'+round)))
		page, err := tn.ListRoles(ctx)
		db.Close(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) != round+1 {
			t.Fatalf("open #%d: %d roles, want %d", round+1, len(page), round+1)
		}
	}
}

// While one store has a data dir open, a second open refuses at once and
// names the directory; after Close it opens.
func TestOpenRefusesADataDirInUse(t *testing.T) {
	dir := t.TempDir()
	db, err := openDir(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openDir(t, dir); err == nil || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second open = %v, want an error naming %s as in use", err, dir)
	}
	db.Close(context.Background())
	db, err = openDir(t, dir)
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	db.Close(context.Background())
}

// An existing index that differs from the wanted one stops Open with a
// message naming the collection, the index and the difference; on the
// embedded engine that includes the collections of each project
// ("users.p1").
func TestOpenNamesAConflictingIndex(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name  string
		setup func(db *mongo.Database) error
		want  []string
	}{
		{
			name: "same name, options differ",
			setup: func(db *mongo.Database) error {
				_, err := db.Collection("users.p1").Indexes().CreateOne(ctx, mongo.IndexModel{
					Keys: bson.D{{Key: "emailKey", Value: 1}}, Options: options.Index().SetName("email_key"),
				})
				return err
			},
			want: []string{"collection users.p1", "index email_key", "unique: false, wanted true", "drop"},
		},
		{
			name: "same name, keys differ",
			setup: func(db *mongo.Database) error {
				_, err := db.Collection("auditEvents.p1").Indexes().CreateOne(ctx, mongo.IndexModel{
					Keys: bson.D{{Key: "projectId", Value: 1}, {Key: "time", Value: 1}}, Options: options.Index().SetName("project_time"),
				})
				return err
			},
			want: []string{"collection auditEvents.p1", "index project_time", "keys {projectId: 1, time: 1}, wanted {projectId: 1, time: -1, _id: -1}"},
		},
		{
			name: "same keys, another name",
			setup: func(db *mongo.Database) error {
				_, err := db.Collection("applications").Indexes().CreateOne(ctx, mongo.IndexModel{
					Keys: bson.D{{Key: "clientId", Value: 1}}, Options: options.Index().SetName("by_client").SetUnique(true),
				})
				return err
			},
			want: []string{"collection applications", "index client_id", "{clientId: 1}", "index by_client already covers", "drop index by_client"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			withEngine(t, dir, func(db *mongo.Database) {
				if err := c.setup(db); err != nil {
					t.Fatal(err)
				}
			})
			db, err := openDir(t, dir)
			if err == nil {
				db.Close(ctx)
				t.Fatal("Open succeeded over a conflicting index")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}
