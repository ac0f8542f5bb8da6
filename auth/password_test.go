package auth

import (
	"context"
	"errors"
	"testing"
	"time"

	"atrium/iam"
)

// With every hashing slot taken, a check waits hashWait and is answered
// UNAVAILABLE with a Retry-After, instead of queueing without end; once a
// slot frees, checks run again.
func TestHashingIsBounded(t *testing.T) {
	hash, err := HashPassword(t.Context(), "right-password")
	if err != nil {
		t.Fatal(err)
	}
	defer func(d time.Duration) { hashWait = d }(hashWait)
	hashWait = 50 * time.Millisecond
	for range cap(hashSlots) {
		hashSlots <- struct{}{}
	}
	_, err = CheckPassword(t.Context(), "right-password", hash)
	var e *iam.Error
	if !errors.As(err, &e) || e.Code != iam.Unavailable || e.RetryAfter != time.Second {
		t.Fatalf("all slots taken: %v, want UNAVAILABLE with a Retry-After of 1 s", err)
	}
	if _, err := HashPassword(t.Context(), "x"); !errors.Is(err, ErrHashingBusy) {
		t.Fatalf("hashing with all slots taken: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := CheckPassword(ctx, "right-password", hash); !errors.Is(err, context.Canceled) {
		t.Fatalf("a caller that gave up: %v", err)
	}
	<-hashSlots
	if ok, err := CheckPassword(t.Context(), "right-password", hash); !ok || err != nil {
		t.Fatalf("with a slot free: %v, %v", ok, err)
	}
	for range cap(hashSlots) - 1 {
		<-hashSlots
	}
}
