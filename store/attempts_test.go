package store_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"atrium/atriumtest"
	"atrium/store"
)

// A window holds limit attempts and then refuses, until it ends; a new
// window counts from one. GiveBack returns an attempt, Reset forgets the
// window, Sweep deletes the finished ones and no other.
func TestAttemptsWindow(t *testing.T) {
	t.Parallel()
	a := newDB(t).Attempts()
	ctx := t.Context()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	take := func(key string, at time.Time) (int, time.Time, bool) {
		t.Helper()
		n, exp, ok, err := a.Take(ctx, key, 3, time.Hour, at)
		if err != nil {
			t.Fatal(err)
		}
		return n, exp, ok
	}
	for i := range 3 {
		if n, exp, ok := take("k", t0.Add(time.Duration(i)*time.Minute)); !ok || n != i+1 || !exp.Equal(t0.Add(time.Hour)) {
			t.Fatalf("attempt %d: count %d, ends %v, taken %v", i+1, n, exp, ok)
		}
	}
	if n, _, ok := take("k", t0.Add(59*time.Minute)); ok || n != 3 {
		t.Fatalf("fourth attempt inside the window: count %d, taken %v", n, ok)
	}
	if _, _, ok := take("other", t0); !ok {
		t.Fatal("another key is refused")
	}
	if err := a.GiveBack(ctx, "k", t0); err != nil {
		t.Fatal(err)
	}
	if n, _, ok := take("k", t0); !ok || n != 3 {
		t.Fatalf("after GiveBack: count %d, taken %v", n, ok)
	}
	if n, exp, ok := take("k", t0.Add(time.Hour)); !ok || n != 1 || !exp.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("when the window has ended: count %d, ends %v, taken %v", n, exp, ok)
	}
	if err := a.Reset(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := take("k", t0.Add(time.Hour)); n != 1 {
		t.Fatalf("after Reset: count %d", n)
	}
	// "other" ended at t0+1h, "k" (taken anew at t0+1h) ends at t0+2h.
	if n, err := a.Sweep(ctx, t0.Add(90*time.Minute)); err != nil || n != 1 {
		t.Fatalf("Sweep deleted %d windows (%v), want 1", n, err)
	}
	if n, _, _ := take("k", t0.Add(time.Hour)); n != 2 {
		t.Fatalf("Sweep deleted an open window: count %d", n)
	}
}

// Parallel attempts on one key, even through two connections (two Atrium
// instances), take exactly limit attempts.
func TestAttemptsTakeIsAtomic(t *testing.T) {
	t.Parallel()
	first := atriumtest.NewServer(t)
	dbs := []*store.DB{first.DB, atriumtest.NewServer(t, atriumtest.SharingDatabaseWith(first)).DB}
	now := time.Now()
	var taken atomic.Int64
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			_, _, ok, err := dbs[i%2].Attempts().Take(t.Context(), "race", 5, time.Minute, now)
			if err != nil {
				t.Error(err)
			}
			if ok {
				taken.Add(1)
			}
		})
	}
	wg.Wait()
	if n := taken.Load(); n != 5 {
		t.Fatalf("%d of 40 parallel attempts taken, want 5", n)
	}
}
