package api_test

import (
	"net/http"
	"testing"
	"time"

	"atrium/atriumtest"
)

// The database process dies under a running Atrium and comes back: while it
// is gone, requests fail fast with UNAVAILABLE (the store's own timeouts, no
// test-made settings) and /readyz says 503; once it is back, Atrium recovers
// by itself, reads and writes alike, with nothing lost.
func TestStoreOutageFailsFastAndRecovers(t *testing.T) {
	t.Parallel()
	eng := atriumtest.StartEngineProcess(t)
	s := atriumtest.NewServer(t, atriumtest.WithStoreURI(func(string) string { return eng.URI }))
	op := s.Operator(s.Sandbox)
	var created struct {
		CreateRole struct{ Role struct{ ID string } }
	}
	op.MustDo(t, `mutation { createRole(input: {name: "Before", accessPolicy: {rule: [{resource: "*", action: "*", effect: Allow}]}}) { role { id } } }`, nil, &created)

	eng.Kill(t)
	for i, q := range []string{`{ project { id } }`, `{ roles { id } }`, `mutation { createRole(input: {name: "During", accessPolicy: {rule: [{resource: "*", action: "*", effect: Allow}]}}) { role { id } } }`} {
		start := time.Now()
		r := op.Do(t, q, nil)
		took := time.Since(start)
		t.Logf("request %d with the database down: %s in %v", i+1, r.Code(), took.Round(time.Millisecond))
		if r.Code() != "UNAVAILABLE" {
			t.Errorf("%s with the database down: %+v, want UNAVAILABLE", q, r.Errors)
		}
		// Not a speed target: the driver's default wait was 30 s, so this
		// only tells "fails fast" from "hangs".
		if took > 10*time.Second {
			t.Errorf("%s took %v to fail", q, took)
		}
	}
	if code := readyz(t, s); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with the database down: %d, want 503", code)
	}

	eng.Start(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := op.Do(t, `{ project { id } }`, nil)
		if len(r.Errors) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not recovered 30 s after the database came back: %+v", r.Errors)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if code := readyz(t, s); code != http.StatusOK {
		t.Errorf("/readyz after recovery: %d, want 200", code)
	}
	var roles struct{ Roles []struct{ ID, Name string } }
	op.MustDo(t, `mutation { createRole(input: {name: "After", accessPolicy: {rule: [{resource: "*", action: "*", effect: Allow}]}}) { role { id } } }`, nil, nil)
	op.MustDo(t, `{ roles { id name } }`, nil, &roles)
	names := map[string]bool{}
	for _, r := range roles.Roles {
		names[r.Name] = true
	}
	if !names["Before"] || !names["After"] || names["During"] {
		t.Errorf("roles after the outage: %+v; want Before and After, and no During", roles.Roles)
	}
}

func readyz(t *testing.T, s *atriumtest.Server) int {
	t.Helper()
	res, err := s.Server.Client().Get(s.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}
