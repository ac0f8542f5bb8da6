package auth

import (
	"sync"
	"time"
)

// Throttle counts failed sign-ins per key (project and email) in a fixed
// window and refuses further attempts once the limit is reached, until the
// window ends. It lives in the process's memory: each Atrium instance counts
// on its own.
type Throttle struct {
	limit  int
	window time.Duration
	now    func() time.Time

	mu      sync.Mutex
	entries map[string]*throttleEntry
}

type throttleEntry struct {
	failures int
	start    time.Time
}

// NewThrottle allows limit failures per window.
func NewThrottle(limit int, window time.Duration) *Throttle {
	return &Throttle{limit: limit, window: window, now: time.Now, entries: map[string]*throttleEntry{}}
}

// Allowed reports whether another attempt for key may be made now.
func (t *Throttle) Allowed(key string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.entries[key]
	return !ok || t.expired(e) || e.failures < t.limit
}

// Fail records a failed attempt for key.
func (t *Throttle) Fail(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.entries[key]
	if !ok || t.expired(e) {
		if len(t.entries) >= 100_000 {
			t.sweep()
		}
		e = &throttleEntry{start: t.now()}
		t.entries[key] = e
	}
	e.failures++
}

// Reset forgets the failures of key (after a successful sign-in).
func (t *Throttle) Reset(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.entries, key)
}

func (t *Throttle) expired(e *throttleEntry) bool { return t.now().Sub(e.start) >= t.window }

// sweep drops finished windows so the map stays bounded by recent failures.
func (t *Throttle) sweep() {
	for k, e := range t.entries {
		if t.expired(e) {
			delete(t.entries, k)
		}
	}
}
