package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"atrium/iam"
	"atrium/store"
)

// TestSweepOpenID: the sweep deletes the provider's expired records (and
// SSO flows) in every project, and nothing that is still live.
func TestSweepOpenID(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	past, future := now.Add(-time.Hour), now.Add(time.Hour)
	for _, pid := range []string{"project-a", "project-b"} {
		tn := db.Tenant(pid)
		for id, exp := range map[string]time.Time{"old": past, "live": future} {
			must(t, tn.AuthRequests().Insert(ctx, &iam.AuthRequest{ID: id, ClientID: "c", ExpiresAt: exp}))
			must(t, tn.Grants().Insert(ctx, &iam.Grant{ID: id, ClientID: "c", UserID: "u", ExpiresAt: exp}))
			must(t, tn.BrowserSessions().Insert(ctx, &iam.BrowserSession{ID: id, UserID: "u", ExpiresAt: exp}))
			must(t, tn.SSOFlows().Insert(ctx, &iam.SSOFlow{ID: id, ConnectionID: "c", AuthRequestID: "r", ExpiresAt: exp}))
		}
	}
	// Requests are kept until requestsBefore (a grace after their expiry).
	if n, err := db.SweepOpenID(ctx, now, past.Add(-time.Minute)); err != nil || n != 6 {
		t.Fatalf("first sweep deleted %d (%v), want the 6 expired grants, sessions and SSO flows", n, err)
	}
	if n, err := db.SweepOpenID(ctx, now, now); err != nil || n != 2 {
		t.Fatalf("second sweep deleted %d (%v), want the 2 expired requests", n, err)
	}
	for _, pid := range []string{"project-a", "project-b"} {
		tn := db.Tenant(pid)
		if _, err := tn.Grants().Get(ctx, "live"); err != nil {
			t.Fatalf("%s: live grant: %v", pid, err)
		}
		if _, err := tn.AuthRequests().Get(ctx, "old"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("%s: expired request: %v", pid, err)
		}
		if _, err := tn.BrowserSessions().Get(ctx, "live"); err != nil {
			t.Fatalf("%s: live session: %v", pid, err)
		}
		if _, err := tn.SSOFlows().Get(ctx, "live"); err != nil {
			t.Fatalf("%s: live SSO flow: %v", pid, err)
		}
		if _, err := tn.SSOFlows().Get(ctx, "old"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("%s: expired SSO flow: %v", pid, err)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
