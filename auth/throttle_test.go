package auth

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// clock is a hand-moved time source for the throttle.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newClockedThrottle(limit int, window time.Duration) (*Throttle, *clock) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	th := NewThrottle(limit, window)
	th.now = c.now
	return th, c
}

// The limit holds inside the window and the window ends: a throttle whose
// window never ended, or that counted one failure too many or too few,
// fails here.
func TestThrottleWindow(t *testing.T) {
	th, c := newClockedThrottle(5, 15*time.Minute)
	const key = "p1/alice@example.org"
	for i := range 5 {
		if !th.Allowed(key) {
			t.Fatalf("refused before failure %d; the limit is 5", i+1)
		}
		th.Fail(key)
	}
	if th.Allowed(key) {
		t.Fatal("allowed after 5 failures")
	}
	c.add(15*time.Minute - time.Second)
	if th.Allowed(key) {
		t.Fatal("allowed one second before the window ends")
	}
	if !th.Allowed("p1/bob@example.org") || !th.Allowed("p2/alice@example.org") {
		t.Fatal("another key is refused: keys must be counted apart")
	}
	c.add(time.Second)
	if !th.Allowed(key) {
		t.Fatal("still refused when the window has ended")
	}
	// A new window starts with the next failure and counts from one.
	th.Fail(key)
	if !th.Allowed(key) {
		t.Fatal("refused after one failure in a new window")
	}
}

func TestThrottleResetForgets(t *testing.T) {
	th, _ := newClockedThrottle(2, time.Hour)
	th.Fail("k")
	th.Fail("k")
	if th.Allowed("k") {
		t.Fatal("allowed at the limit")
	}
	th.Reset("k")
	if !th.Allowed("k") {
		t.Fatal("refused after Reset")
	}
}

// The map of windows stays bounded: finished windows are swept once it is
// full.
func TestThrottleSweepsFinishedWindows(t *testing.T) {
	th, c := newClockedThrottle(1, time.Minute)
	for i := range 100_000 {
		th.Fail(fmt.Sprint("old", i))
	}
	c.add(time.Minute)
	th.Fail("new")
	if n := len(th.entries); n != 1 {
		t.Fatalf("%d windows kept after the sweep, want 1", n)
	}
}
