package auth

import (
	"sync"
	"time"

	"atrium/iam"
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

// The answers of a password sign-in that failed.
var (
	ErrWrongPassword = iam.Errorf(iam.Unauthenticated, "wrong email or password")
	ErrTooManyTries  = iam.Errorf(iam.RateLimited, "too many failed sign-ins for this email; try again later")
)

// SignIn is the one credential check of every kind of password sign-in
// (users, developers, a login page). find looks the account up by key and
// returns its password hash (found false when there is no such account);
// an unknown account and a wrong password fail the same way after the same
// work, and repeated failures for one key are refused for a while.
func (t *Throttle) SignIn(key, password string, find func() (hash string, found bool, err error)) error {
	if !t.Allowed(key) {
		return ErrTooManyTries
	}
	hash, found, err := find()
	if err != nil {
		return err
	}
	// CheckPassword does the full work even without a hash.
	if !CheckPassword(password, hash) || !found {
		t.Fail(key)
		return ErrWrongPassword
	}
	t.Reset(key)
	return nil
}
