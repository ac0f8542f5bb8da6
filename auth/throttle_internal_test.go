package auth

// The wait a refusal publishes.

import (
	"errors"
	"testing"
	"time"

	"atrium/iam"
)

// The wait is what is left of the window, at least a second and at most the
// window: a parallel attempt that read the clock a little later may have
// opened the window, so that it ends a little over a window from now.
func TestTooManyWaitsAtMostTheWindow(t *testing.T) {
	l := Limit{Max: 5, Window: 15 * time.Minute}
	now := time.Now()
	for _, tc := range []struct {
		left time.Duration
		want int64
	}{
		{10 * time.Minute, 600}, {10*time.Minute + 300*time.Millisecond, 601}, {0, 1}, {-time.Second, 1},
		{l.Window, 900}, {l.Window + 300*time.Millisecond, 900},
	} {
		var e *iam.Error
		if !errors.As(tooMany("failed sign-ins", l, now.Add(tc.left), now), &e) || e.Code != iam.RateLimited {
			t.Fatalf("%v left: not RATE_LIMITED", tc.left)
		}
		if got := iam.Seconds(e.RetryAfter); got != tc.want || iam.Seconds(e.Limit.Reset) != tc.want {
			t.Errorf("%v left of the window: Retry-After %d s, reset %d s, want %d", tc.left, got, iam.Seconds(e.Limit.Reset), tc.want)
		}
	}
}
