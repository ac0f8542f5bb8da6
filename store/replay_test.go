package store_test

import (
	"context"
	"testing"
	"time"
)

// TestReplays: a key is claimed once per project; a completed answer is
// given back; an expired one gives way and is swept.
func TestReplays(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t)
	a, b := db.Tenant("project-a"), db.Tenant("project-b")
	if prev, err := a.ReserveReplay(ctx, "k", "fp", time.Minute); prev != nil || err != nil {
		t.Fatalf("first reserve: %v, %v", prev, err)
	}
	if prev, err := b.ReserveReplay(ctx, "k", "fp", time.Minute); prev != nil || err != nil {
		t.Fatalf("the same key in another project: %v, %v", prev, err)
	}
	prev, err := a.ReserveReplay(ctx, "k", "fp", time.Minute)
	if err != nil || prev == nil || prev.Done {
		t.Fatalf("second reserve: %+v, %v", prev, err)
	}
	if err := a.CompleteReplay(ctx, "k", 200, []byte("answer")); err != nil {
		t.Fatal(err)
	}
	if prev, err = a.ReserveReplay(ctx, "k", "fp", time.Minute); err != nil || !prev.Done || prev.Status != 200 || string(prev.Body) != "answer" {
		t.Fatalf("after completion: %+v, %v", prev, err)
	}
	if err := a.ReleaseReplay(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if prev, err := a.ReserveReplay(ctx, "k", "fp", time.Minute); prev != nil || err != nil {
		t.Fatalf("after release: %v, %v", prev, err)
	}

	// Expired: a new reservation takes its place; the sweep removes it.
	if _, err := a.ReserveReplay(ctx, "old", "fp", -time.Second); err != nil {
		t.Fatal(err)
	}
	if prev, err := a.ReserveReplay(ctx, "old", "fp2", -time.Second); prev != nil || err != nil {
		t.Fatalf("over an expired one: %v, %v", prev, err)
	}
	if n, err := db.SweepReplays(ctx); err != nil || n != 1 {
		t.Fatalf("sweep: %d, %v", n, err)
	}
}
