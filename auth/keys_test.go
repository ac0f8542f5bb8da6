package auth_test

// The key ring over the real store: lazy creation, one key under
// concurrent first use, the rotation schedule, sealing at rest and
// isolation between issuers.

import (
	"bytes"
	"context"
	"crypto/x509"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"atrium/atriumtest"
	"atrium/auth"
	"atrium/iam"
)

func TestMain(m *testing.M) { atriumtest.Main(m) }

const day = 24 * time.Hour

// ring returns a key ring over the test server's store with its own clock.
func ring(s *atriumtest.Server, clock *atriumtest.Clock, rotation time.Duration) *auth.Keys {
	return auth.NewKeys(s.DB.SigningKeys(), auth.NewSealer([]byte(atriumtest.SealingSecret)),
		auth.KeyOptions{Rotation: rotation, MaxTokenLifetime: time.Hour, Clock: clock.Now})
}

func kids(t *testing.T, k *auth.Keys, projectID string) []string {
	t.Helper()
	pub, err := k.Published(context.Background(), projectID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, j := range pub {
		if j.Algorithm != "ES256" || j.Use != "sig" || !j.IsPublic() {
			t.Fatalf("published key %+v is not a public ES256 signing key", j)
		}
		out = append(out, j.KeyID)
	}
	return out
}

func TestKeysAreMadeOnFirstUseAndShared(t *testing.T) {
	s := atriumtest.NewServer(t)
	clock := atriumtest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	k := ring(s, clock, 30*day)
	ctx := context.Background()
	// Many first uses at once, from two rings (two instances on one
	// database): one key.
	other := ring(s, clock, 30*day)
	var wg sync.WaitGroup
	ids := make([]string, 16)
	for i := range ids {
		wg.Go(func() {
			r := k
			if i%2 == 1 {
				r = other
			}
			key, err := r.Signing(ctx, s.Sandbox)
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = key.ID
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] || id == "" {
			t.Fatalf("concurrent first uses made different keys: %v", ids)
		}
	}
	if got := kids(t, other, s.Sandbox); len(got) != 1 || got[0] != ids[0] {
		t.Fatalf("published %v, want [%s]", got, ids[0])
	}
	// An issuer that has signed nothing yet publishes the key it will sign
	// with, so a verifier that caches the set first can check the first
	// token.
	quiet := s.CreateProject(t, "Quiet")
	published := kids(t, k, quiet)
	if key, err := other.Signing(ctx, quiet); err != nil || len(published) != 1 || published[0] != key.ID {
		t.Fatalf("before the first token %s published %v; then it signed with %v (%v)", quiet, published, key.ID, err)
	}
	// The platform issuer has a ring of its own, also made once.
	plat := make([]string, 8)
	for i := range plat {
		wg.Go(func() {
			key, err := other.Signing(ctx, "")
			if err != nil {
				t.Error(err)
				return
			}
			plat[i] = key.ID
		})
	}
	wg.Wait()
	for _, id := range plat {
		if id != plat[0] || id == ids[0] {
			t.Fatalf("platform keys %v (project key %s)", plat, ids[0])
		}
	}
	if got := kids(t, k, ""); len(got) != 1 || got[0] != plat[0] {
		t.Fatalf("platform publishes %v, want [%s]", got, plat[0])
	}
	// A third ring, as after a restart, signs with the same key.
	again, err := ring(s, clock, 30*day).Signing(ctx, s.Sandbox)
	if err != nil || again.ID != ids[0] {
		t.Fatalf("after restart: %v, %v; want %s", again.ID, err, ids[0])
	}
}

func TestKeysRotateOnSchedule(t *testing.T) {
	s := atriumtest.NewServer(t)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := atriumtest.NewClock(start)
	k := ring(s, clock, 30*day) // lead: a tenth of 30 days, capped at a day
	ctx := context.Background()
	sign := func() string {
		t.Helper()
		key, err := k.Signing(ctx, s.Sandbox)
		if err != nil {
			t.Fatal(err)
		}
		return key.ID
	}
	k1 := sign()
	clock.Advance(28 * day)
	if got := sign(); got != k1 {
		t.Fatalf("day 28: signs with %s, want k1 %s", got, k1)
	}
	if got := kids(t, k, s.Sandbox); len(got) != 1 {
		t.Fatalf("day 28: published %v, want k1 only", got)
	}
	clock.Advance(day) // a lead (one day) before the rotation
	if got := sign(); got != k1 {
		t.Fatalf("day 29: signs with %s, want k1 %s until the rotation", got, k1)
	}
	pub := kids(t, k, s.Sandbox)
	if len(pub) != 2 || pub[1] != k1 {
		t.Fatalf("day 29: published %v, want [k2 k1]", pub)
	}
	k2 := pub[0]
	clock.Advance(day - time.Second)
	if got := sign(); got != k1 {
		t.Fatalf("a second before the rotation: signs with %s, want k1", got)
	}
	clock.Advance(time.Second) // day 30: rotation
	if got := sign(); got != k2 {
		t.Fatalf("day 30: signs with %s, want k2 %s", got, k2)
	}
	clock.Advance(59 * time.Minute) // k1's last token is still valid
	if got := kids(t, k, s.Sandbox); len(got) != 2 {
		t.Fatalf("59 minutes after the rotation: published %v, want [k2 k1]", got)
	}
	clock.Advance(time.Minute) // MaxTokenLifetime after the rotation
	if got := kids(t, k, s.Sandbox); len(got) != 1 || got[0] != k2 {
		t.Fatalf("an hour after the rotation: published %v, want [k2]", got)
	}

	// No use for long past the next rotation: the successor made then is
	// published a lead (a day) before it signs; k2 signs until then.
	clock.Advance(100 * day)
	if got := sign(); got != k2 {
		t.Fatalf("late: signs with %s, want k2 until its successor is due", got)
	}
	pub = kids(t, k, s.Sandbox)
	if len(pub) != 2 || pub[1] != k2 {
		t.Fatalf("late: published %v, want [k3 k2]", pub)
	}
	clock.Advance(day - time.Second)
	if got := sign(); got != k2 {
		t.Fatalf("late + lead - 1s: signs with %s, want k2", got)
	}
	clock.Advance(time.Second)
	if got := sign(); got != pub[0] {
		t.Fatalf("late + lead: signs with %s, want k3 %s", got, pub[0])
	}
}

// The private halves rest sealed: the stored document holds neither the
// key in the clear nor anything another issuer's context opens.
func TestKeysRestSealed(t *testing.T) {
	s := atriumtest.NewServer(t)
	clock := atriumtest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	k := ring(s, clock, 30*day)
	ctx := context.Background()
	key, err := k.Signing(ctx, s.Sandbox)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key.Private)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := s.DB.SigningKeys().List(ctx, s.Sandbox)
	if err != nil || len(stored) != 1 {
		t.Fatalf("stored %v, %v", stored, err)
	}
	raw, _ := bson.Marshal(stored[0])
	if bytes.Contains(raw, der) || bytes.Contains(raw, key.Private.D.Bytes()) {
		t.Fatal("the stored key holds its private half in the clear")
	}
	// The same sealed key moved to another issuer does not open there.
	moved := stored[0]
	moved.ProjectID = "other-project"
	if ok, err := s.DB.SigningKeys().Insert(ctx, moved); !ok || err != nil {
		t.Fatalf("insert moved key: %v, %v", ok, err)
	}
	if _, err := k.Signing(ctx, "other-project"); err == nil {
		t.Fatal("a sealed key moved to another issuer was opened")
	}
	// A ring with another sealing secret cannot sign with the stored key.
	wrong := auth.NewKeys(s.DB.SigningKeys(), auth.NewSealer([]byte("another-sealing-secret-0123456789")), auth.KeyOptions{Clock: clock.Now})
	if _, err := wrong.Signing(ctx, s.Sandbox); err == nil {
		t.Fatal("a ring with another sealing secret opened the key")
	}
}

// Two stores' inserts of one generation: the second is refused, and the
// first key stays.
func TestKeyGenerationIsUnique(t *testing.T) {
	s := atriumtest.NewServer(t)
	ctx := context.Background()
	keys := s.DB.SigningKeys()
	for _, pid := range []string{s.Sandbox, ""} {
		a := iam.SigningKey{ProjectID: pid, Generation: 1, KeyID: "a", Public: []byte{1}, PublishAt: time.Now(), ActiveAt: time.Now()}
		b := a
		b.KeyID = "b"
		if ok, err := keys.Insert(ctx, a); !ok || err != nil {
			t.Fatalf("%q: first insert %v, %v", pid, ok, err)
		}
		if ok, err := keys.Insert(ctx, b); ok || err != nil {
			t.Fatalf("%q: second insert of generation 1: %v, %v; want refused", pid, ok, err)
		}
		got, err := keys.List(ctx, pid)
		if err != nil || len(got) != 1 || got[0].KeyID != "a" {
			t.Fatalf("%q: stored %+v, %v", pid, got, err)
		}
	}
}
