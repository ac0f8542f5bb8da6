package auth_test

// What a token costs: issuing and verifying an ES256 token with the key
// ring cached (no store read), beside an HS256 verification as the first
// release did it, as a ratio within one run (bench/README.md).

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"go.mongodb.org/mongo-driver/v2/event"

	"atrium/atriumtest"
	"atrium/auth"
)

// Verify reads the store once per issuer per cache period, not per token.
func TestVerifyReadsNoStoreWhileCached(t *testing.T) {
	var commands atomic.Int64
	monitor := &event.CommandMonitor{Started: func(context.Context, *event.CommandStartedEvent) { commands.Add(1) }}
	s := atriumtest.NewServer(t, atriumtest.WithMonitor(monitor))
	ctx := context.Background()
	p := auth.Principal{Kind: auth.User, ID: "u1", ProjectID: s.Sandbox}
	token, _, err := s.Tokens.Issue(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Tokens.Verify(ctx, token); err != nil {
		t.Fatal(err)
	}
	before := commands.Load()
	for range 50 {
		got, err := s.Tokens.Verify(ctx, token)
		if err != nil || got.TokenID == "" || *got != (auth.Principal{Kind: p.Kind, ID: p.ID, ProjectID: p.ProjectID, TokenID: got.TokenID}) {
			t.Fatalf("Verify = %+v, %v", got, err)
		}
		if _, _, err := s.Tokens.Issue(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if n := commands.Load() - before; n != 0 {
		t.Errorf("50 verifications and issues sent %d store commands, want 0", n)
	}
}

func BenchmarkToken(b *testing.B) {
	s := atriumtest.NewServer(b)
	ctx := context.Background()
	p := auth.Principal{Kind: auth.User, ID: "u1", ProjectID: s.Sandbox}
	token, _, err := s.Tokens.Issue(ctx, p)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("ES256/Issue", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := s.Tokens.Issue(ctx, p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ES256/Verify", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Tokens.Verify(ctx, token); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The first release's HS256 verification, for the ratio.
	key := []byte("test-signing-key-0123456789abcdef")
	hs, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "u1", "exp": time.Now().Add(time.Hour).Unix()}).SignedString(key)
	b.Run("HS256/Verify", func(b *testing.B) {
		for b.Loop() {
			if _, err := jwt.Parse(hs, func(*jwt.Token) (any, error) { return key, nil }, jwt.WithValidMethods([]string{"HS256"})); err != nil {
				b.Fatal(err)
			}
		}
	})
}
