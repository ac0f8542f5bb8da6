package store_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"atrium/atriumtest"
	"atrium/iam"
	"atrium/store"
)

// BenchmarkNeighbourStore is the store's side of api's BenchmarkNeighbour:
// project A's page of 25 users (ListUsers) and its lookups by email and by
// ticket, with a neighbour B of 0 or 5,000 users (written before A's, as in
// BenchmarkNeighbour), without HTTP, the guard or GraphQL. The two sizes
// are databases of one engine and their measurements alternate.
func BenchmarkNeighbourStore(b *testing.B) {
	ctx := context.Background()
	sizes := []int{0, 5000}
	dbs := map[int]*store.DB{}
	expires := time.Now().Add(time.Hour)
	insert := func(tn *store.Tenant, prefix string, n int) {
		for i := range n {
			u := iam.User{ID: fmt.Sprint(prefix, i), Name: "n", Email: fmt.Sprint(prefix, i, "@example.com"), RoleIDs: []string{},
				Invitation: &iam.Ticket{Hash: fmt.Sprint("hash-", prefix, i), ExpiresAt: expires}}
			if err := tn.Users().Insert(ctx, &u); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, n := range sizes {
		db := atriumtest.NewServer(b).DB
		insert(db.Tenant("pb"), "b", n)
		insert(db.Tenant("pa"), "a", 100)
		dbs[n] = db
	}
	ops := []struct {
		name string
		run  func(db *store.DB) error
	}{
		{"page", func(db *store.DB) error {
			_, _, err := db.Tenant("pa").ListUsers(ctx, iam.UserFilter{}, iam.UsersByCreatedAt, store.Page{Limit: 25})
			return err
		}},
		{"by_email", func(db *store.DB) error { _, err := db.Tenant("pa").UserByEmail(ctx, "a50@example.com"); return err }},
		{"by_ticket", func(db *store.DB) error { _, err := db.UserByInvitation(ctx, "hash-a50", time.Now()); return err }},
	}
	for range 5 {
		for _, op := range ops {
			for _, n := range sizes {
				b.Run(op.name+"/B="+strconv.Itoa(n), func(b *testing.B) {
					for b.Loop() {
						if err := op.run(dbs[n]); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}
