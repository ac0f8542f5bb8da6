package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"atrium/atriumtest"
	"atrium/iam"
	"atrium/store"
)

// A deployment on the embedded engine (a collection per project) copied into
// a database with MongoDB's shared collections answers the same reads there,
// and a second copy changes nothing.
func TestCopyToSharedLayout(t *testing.T) {
	ctx := context.Background()
	src := atriumtest.NewServer(t).DB
	expires := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	for _, p := range []string{"p1", "p2"} {
		tn := src.Tenant(p)
		for i := range 3 {
			u := iam.User{ID: fmt.Sprint(p, "-u", i), Name: "n", Email: fmt.Sprint("u", i, "@example.com"), PhoneNumber: fmt.Sprint("+1555000000", i),
				RoleIDs: []string{}, Status: iam.Invited, Invitation: &iam.Ticket{Hash: fmt.Sprint(p, "-h", i), ExpiresAt: expires}}
			if err := tn.Users().Insert(ctx, &u); err != nil {
				t.Fatal(err)
			}
		}
		if err := tn.Roles().Insert(ctx, &iam.Role{ID: p + "-r", Name: "Staff"}); err != nil {
			t.Fatal(err)
		}
	}
	dst, err := store.OpenShared(ctx, store.Options{URI: atriumtest.EngineURI(), Database: "copy-" + uuid.NewString()[:8]})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close(ctx)
	if _, err := dst.CopyTo(ctx, src); err == nil {
		t.Fatal("a copy into the per-project layout was accepted")
	}
	for range 2 {
		n, err := src.CopyTo(ctx, dst)
		if err != nil {
			t.Fatal(err)
		}
		if n < 8 {
			t.Fatalf("copied %d documents, want at least the 6 users and 2 roles", n)
		}
	}
	for _, p := range []string{"p1", "p2"} {
		tn := dst.Tenant(p)
		users, _, err := tn.ListUsers(ctx, iam.UserFilter{}, iam.UsersByID, store.Page{Limit: 10})
		if err != nil || len(users) != 3 {
			t.Fatalf("%s: %d users, %v", p, len(users), err)
		}
		if u, err := tn.UserByEmail(ctx, "u1@example.com"); err != nil || u.ID != p+"-u1" {
			t.Fatalf("%s: by email: %+v, %v", p, u, err)
		}
		if u, err := tn.UserByPhone(ctx, "+15550000002"); err != nil || u.ID != p+"-u2" {
			t.Fatalf("%s: by phone: %+v, %v", p, u, err)
		}
		if u, err := dst.UserByInvitation(ctx, p+"-h0", time.Now()); err != nil || u.ID != p+"-u0" {
			t.Fatalf("%s: by ticket: %+v, %v", p, u, err)
		}
		if roles, err := tn.ListRoles(ctx); err != nil || len(roles) != 1 {
			t.Fatalf("%s: roles %+v, %v", p, roles, err)
		}
	}
	// The shared collections' unique indexes hold on the copy.
	dup := iam.User{ID: "p1-dup", Name: "n", Email: "u0@example.com", RoleIDs: []string{}}
	if err := dst.Tenant("p1").Users().Insert(ctx, &dup); err == nil {
		t.Fatal("a second u0@example.com in p1 was accepted on the copy")
	}
}
