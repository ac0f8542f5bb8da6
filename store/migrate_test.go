package store_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"atrium/iam"
	"atrium/store"
)

// oldData is what a release before the per-project layout wrote.
type oldData struct {
	users    map[string][]iam.User // by project
	tickets  map[string]string     // ticket hash -> user id
	others   map[string][]string   // kind -> ids of roles, profiles, audit events (project p1)
	clientID string
}

// writeOldLayout writes two projects' documents through the store in the
// shared layout, as the previous release did, on the data dir.
func writeOldLayout(t *testing.T, dir string) oldData {
	t.Helper()
	ctx := context.Background()
	db, err := store.OpenShared(ctx, store.Options{Database: "atrium", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	data := oldData{users: map[string][]iam.User{}, tickets: map[string]string{}, others: map[string][]string{}, clientID: "client-1"}
	expires := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	for pi, p := range []string{"p1", "p2"} {
		tn := db.Tenant(p)
		if err := tn.Projects().Insert(ctx, &iam.Project{ID: p, Name: p, FHIRVersion: iam.R4}); err != nil {
			t.Fatal(err)
		}
		for i := range 3 - pi {
			u := iam.User{ID: fmt.Sprintf("%s-u%d", p, i), Name: "n", Email: fmt.Sprintf("u%d@example.com", i), PhoneNumber: fmt.Sprintf("+1555000000%d", i),
				RoleIDs: []string{}, Status: iam.Invited, Invitation: &iam.Ticket{Hash: fmt.Sprintf("hash-%s-%d", p, i), ExpiresAt: expires}}
			if err := tn.Users().Insert(ctx, &u); err != nil {
				t.Fatal(err)
			}
			data.users[p] = append(data.users[p], u)
			data.tickets[u.Invitation.Hash] = u.ID
		}
	}
	tn := db.Tenant("p1")
	role := &iam.Role{ID: "r1", Name: "Staff"}
	profile := &iam.Profile{ID: "pr1", ResourceType: "Practitioner", Resource: map[string]any{"resourceType": "Practitioner"}}
	event := &iam.AuditEvent{ID: "e1", Time: time.Now().UTC().Truncate(time.Millisecond), Action: "IAM:CreateRole"}
	client := &iam.M2MClient{ID: "m1", ClientID: data.clientID, Name: "machine", RoleIDs: []string{"r1"}}
	for _, err := range []error{tn.Roles().Insert(ctx, role), tn.Profiles().Insert(ctx, profile), tn.AuditEvents().Insert(ctx, event), tn.M2MClients().Insert(ctx, client)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	data.others = map[string][]string{"roles": {"r1"}, "profiles": {"pr1"}, "auditEvents": {"e1"}, "m2mClients": {"m1"}}
	return data
}

// A data dir written in the shared layout is moved to the per-project one
// at start-up. A move stopped at any one of its writes (as by a crash) goes
// on at the next start, which then finds everything once: by id, by ticket,
// by clientId, with the uniqueness rules still holding; a later start finds
// nothing left to move.
func TestMigrationFromSharedLayoutSurvivesStops(t *testing.T) {
	orig := t.TempDir()
	data := writeOldLayout(t, orig)
	openAfterEachStop(t, orig, 20, func(dir string, n int) {
		checkMovedTwice(t, dir, data)
		withEngine(t, dir, func(raw *mongo.Database) {
			names, err := raw.ListCollectionNames(context.Background(), bson.D{})
			if err != nil {
				t.Fatal(err)
			}
			for _, kind := range []string{"users", "roles", "profiles", "auditEvents", "m2mClients"} {
				if slices.Contains(names, kind) {
					t.Errorf("after a stop at write %d the shared collection %s is still there: %q", n, kind, names)
				}
			}
		})
	})
}

// The directory of release 225f078 was spread over 256 collections,
// "directory.<first byte of sha256(key)>". A start moves their entries into
// the one directory collection and drops them; stopped at any one of its
// writes, the next start goes on, and the keys find their documents (and
// keep them unique) throughout.
func TestDirectoryBucketsAreMergedAtStart(t *testing.T) {
	ctx := context.Background()
	orig := t.TempDir()
	data := writeOldLayout(t, orig)
	db, err := openDir(t, orig) // the per-project layout, with its directory
	if err != nil {
		t.Fatal(err)
	}
	db.Close(ctx)
	buckets := 0
	withEngine(t, orig, func(raw *mongo.Database) {
		cur, err := raw.Collection("directory").Find(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		var entries []bson.Raw
		if err := cur.All(ctx, &entries); err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, e := range entries {
			sum := sha256.Sum256([]byte(e.Lookup("_id").StringValue()))
			bucket := fmt.Sprintf("directory.%02x", sum[0])
			if _, err := raw.Collection(bucket).InsertOne(ctx, e); err != nil {
				t.Fatal(err)
			}
			seen[bucket] = true
		}
		buckets = len(seen)
		if err := raw.Collection("directory").Drop(ctx); err != nil {
			t.Fatal(err)
		}
	})
	if buckets < 5 {
		t.Fatalf("test data: the old directory spreads over only %d buckets", buckets)
	}
	openAfterEachStop(t, orig, buckets, func(dir string, n int) {
		checkMovedTwice(t, dir, data)
		withEngine(t, dir, func(raw *mongo.Database) {
			names, err := raw.ListCollectionNames(ctx, bson.D{})
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range names {
				if strings.HasPrefix(name, "directory.") {
					t.Errorf("after a stop at write %d the bucket %s is still there", n, name)
				}
			}
		})
	})
}

// openAfterEachStop starts the store on a copy of the data dir orig with
// its start-up moves stopped at write n, for n = 1, 2, ... until a start
// needs no more than n-1 writes (at least minWrites), and then runs after on
// that copy.
func openAfterEachStop(t *testing.T, orig string, minWrites int, after func(dir string, n int)) {
	t.Helper()
	t.Cleanup(func() { store.StopMigrationAt(0) })
	for n := 1; ; n++ {
		dir := t.TempDir()
		if err := os.CopyFS(dir, os.DirFS(orig)); err != nil {
			t.Fatal(err)
		}
		store.StopMigrationAt(n)
		db, err := openDir(t, dir)
		store.StopMigrationAt(0)
		if err == nil { // n is past the last write
			db.Close(context.Background())
			if n <= minWrites {
				t.Fatalf("the move had only %d writes, want at least %d", n-1, minWrites)
			}
			return
		}
		if !strings.Contains(err.Error(), "stopped before") {
			t.Fatalf("start stopped at write %d: %v", n, err)
		}
		after(dir, n)
		if t.Failed() || n > 200 {
			t.FailNow()
		}
	}
}

// checkMovedTwice starts the store on dir twice and checks every document
// and key of data each time.
func checkMovedTwice(t *testing.T, dir string, data oldData) {
	t.Helper()
	for start := range 2 {
		db, err := openDir(t, dir)
		if err != nil {
			t.Fatalf("start %d: %v", start, err)
		}
		checkMoved(t, db, data)
		db.Close(context.Background())
	}
}

func checkMoved(t *testing.T, db *store.DB, data oldData) {
	t.Helper()
	ctx := context.Background()
	for p, users := range data.users {
		tn := db.Tenant(p)
		if n, err := tn.CountUsers(ctx, iam.UserFilter{}); err != nil || n != int64(len(users)) {
			t.Errorf("%s holds %d users (%v), want %d", p, n, err, len(users))
		}
		for _, u := range users {
			got, err := tn.Users().Get(ctx, u.ID)
			if err != nil || got.Email != u.Email || got.Version != 1 {
				t.Errorf("user %s: %+v %v", u.ID, got, err)
			}
			if got, err := tn.UserByEmail(ctx, u.Email); err != nil || got.ID != u.ID {
				t.Errorf("user by email %s: %+v %v", u.Email, got, err)
			}
		}
		// The uniqueness rules hold in the moved collections.
		dup := iam.User{ID: p + "-dup", Name: "d", Email: users[0].Email, RoleIDs: []string{}}
		if err := tn.Users().Insert(ctx, &dup); !errors.Is(err, store.ErrDuplicate) {
			t.Errorf("a second user with %s in %s: %v", users[0].Email, p, err)
		}
	}
	for hash, id := range data.tickets {
		if u, err := db.UserByInvitation(ctx, hash, time.Now()); err != nil || u.ID != id {
			t.Errorf("ticket %s: %+v %v", hash, u, err)
		}
	}
	if c, err := db.M2MClientByClientID(ctx, data.clientID); err != nil || c.ID != "m1" || c.ProjectID != "p1" {
		t.Errorf("client id: %+v %v", c, err)
	}
	dup := iam.M2MClient{ID: "m2", ClientID: data.clientID, Name: "copy", RoleIDs: []string{}}
	if err := db.Tenant("p2").M2MClients().Insert(ctx, &dup); !errors.Is(err, store.ErrDuplicate) {
		t.Errorf("the same clientId in another project: %v", err)
	}
	tn := db.Tenant("p1")
	if _, err := tn.Roles().Get(ctx, "r1"); err != nil {
		t.Error("role:", err)
	}
	if _, err := tn.Profiles().Get(ctx, "pr1"); err != nil {
		t.Error("profile:", err)
	}
	if events, _, err := tn.ListAuditEvents(ctx, iam.AuditFilter{}, store.Page{Limit: 10}); err != nil || len(events) != 1 {
		t.Errorf("audit events: %+v %v", events, err)
	}
}

// A clientId is unique across projects, also when many projects claim it
// at once; a ticket moves with its holder when the holder gets a new one.
func TestClientIDUniqueAcrossProjectsUnderRace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t)
	const n = 8
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		won  []string
		errs []error
	)
	for i := range n {
		wg.Go(func() {
			p := fmt.Sprintf("race-%d", i)
			c := iam.M2MClient{ID: fmt.Sprintf("m%d", i), ClientID: "shared-client", Name: "m", RoleIDs: []string{}}
			err := db.Tenant(p).M2MClients().Insert(ctx, &c)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				won = append(won, p)
			} else if !errors.Is(err, store.ErrDuplicate) {
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	if len(won) != 1 || len(errs) != 0 {
		t.Fatalf("winners %q, other errors %v", won, errs)
	}
	c, err := db.M2MClientByClientID(ctx, "shared-client")
	if err != nil || c.ProjectID != won[0] {
		t.Fatalf("found %+v %v, want the client of %s", c, err, won[0])
	}
	// Deleting it frees the clientId.
	if err := db.Tenant(won[0]).M2MClients().Delete(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.M2MClientByClientID(ctx, "shared-client"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	again := iam.M2MClient{ID: "m-again", ClientID: "shared-client", Name: "m", RoleIDs: []string{}}
	if err := db.Tenant("race-other").M2MClients().Insert(ctx, &again); err != nil {
		t.Fatalf("reusing a freed clientId: %v", err)
	}

	// A user's new ticket replaces the old one in the lookup.
	tn := db.Tenant("race-0")
	u := iam.User{ID: "u1", Name: "u", Email: "u@example.com", RoleIDs: []string{}, Invitation: &iam.Ticket{Hash: "old", ExpiresAt: time.Now().Add(time.Hour)}}
	if err := tn.Users().Insert(ctx, &u); err != nil {
		t.Fatal(err)
	}
	if _, err := tn.Users().Update(ctx, "u1", 0, func(u *iam.User) error {
		u.Invitation = &iam.Ticket{Hash: "new", ExpiresAt: time.Now().Add(time.Hour)}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UserByInvitation(ctx, "old", time.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the old ticket: %v", err)
	}
	if got, err := db.UserByInvitation(ctx, "new", time.Now()); err != nil || got.ID != "u1" {
		t.Fatalf("the new ticket: %+v %v", got, err)
	}
	if _, err := db.UserByInvitation(ctx, "new", time.Now().Add(2*time.Hour)); !errors.Is(err, store.ErrExpired) {
		t.Fatalf("an expired ticket: %v, want ErrExpired", err)
	}
}

// In the shared layout (MongoDB's) a ticket is found by its index: one past
// its time is ErrExpired too, and an unknown one ErrNotFound.
func TestExpiredTicketInTheSharedLayout(t *testing.T) {
	ctx := context.Background()
	db, err := store.OpenShared(ctx, store.Options{Database: "atrium", DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	u := iam.User{ID: "u1", Name: "u", Email: "u@example.com", RoleIDs: []string{}, Status: iam.Invited,
		Invitation: &iam.Ticket{Hash: "h1", ExpiresAt: time.Now().Add(time.Hour)}}
	if err := db.Tenant("p1").Users().Insert(ctx, &u); err != nil {
		t.Fatal(err)
	}
	if got, err := db.UserByInvitation(ctx, "h1", time.Now()); err != nil || got.ID != "u1" {
		t.Fatalf("an open ticket: %+v %v", got, err)
	}
	if _, err := db.UserByInvitation(ctx, "h1", time.Now().Add(2*time.Hour)); !errors.Is(err, store.ErrExpired) {
		t.Fatalf("an expired ticket: %v, want ErrExpired", err)
	}
	if _, err := db.UserByInvitation(ctx, "nope", time.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an unknown ticket: %v, want ErrNotFound", err)
	}
}
