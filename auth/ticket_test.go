package auth

import (
	"errors"
	"testing"
	"time"
)

func TestTickets(t *testing.T) {
	ticket, hash := NewTicket()
	other, _ := NewTicket()
	if len(ticket) < 43 || ticket == other || hash == ticket || hash != HashSecret(ticket) {
		t.Fatalf("ticket %q, hash %q, another ticket %q", ticket, hash, other)
	}
	if !SecretMatches(ticket, hash) || SecretMatches(other, hash) || SecretMatches(ticket, "") || SecretMatches("", "") {
		t.Error("SecretMatches accepts the wrong secret or an empty hash, or refuses the right one")
	}
}

// One check serves every kind of sign-in: a wrong password and an unknown
// account fail alike, a lookup failure passes through, repeated failures are
// refused for a while, and a success forgets them.
func TestThrottleSignIn(t *testing.T) {
	th := NewThrottle(3, time.Hour)
	hash := HashPassword("right-password")
	account := func(found bool) func() (string, bool, error) {
		return func() (string, bool, error) { return hash, found, nil }
	}
	if err := th.SignIn("k", "right-password", account(true)); err != nil {
		t.Fatalf("right password: %v", err)
	}
	if err := th.SignIn("k", "wrong", account(true)); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("wrong password: %v", err)
	}
	if err := th.SignIn("k", "right-password", account(false)); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("no such account: %v", err)
	}
	broken := errors.New("store down")
	if err := th.SignIn("k", "right-password", func() (string, bool, error) { return "", false, broken }); !errors.Is(err, broken) {
		t.Fatalf("lookup failure: %v", err)
	}
	if err := th.SignIn("k", "wrong", account(true)); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("third failure: %v", err)
	}
	if err := th.SignIn("k", "right-password", account(true)); !errors.Is(err, ErrTooManyTries) {
		t.Fatalf("after three failures: %v", err)
	}
	if err := th.SignIn("other", "right-password", account(true)); err != nil {
		t.Fatalf("another key: %v", err)
	}
}
