package atriumtest

import (
	"sync"
	"time"
)

// Clock is a time source a test moves by hand, so that expiry is tested
// without sleeping: give it to a server with WithClock, then Advance it.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock that reads start until it is moved.
func NewClock(start time.Time) *Clock { return &Clock{t: start} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// now is the clock as a service.Options.Clock: nil (the system clock) for
// a nil Clock.
func (c *Clock) now() func() time.Time {
	if c == nil {
		return nil
	}
	return c.Now
}

// WithClock makes the server's domain tell time by c: ticket expiry and the
// sign-in throttle's windows follow c, not the wall clock.
func WithClock(c *Clock) Option {
	return func(o *options) { o.clock = c }
}
