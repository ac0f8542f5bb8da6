package persisted_test

import (
	"strings"
	"testing"

	"atrium/persisted"
)

// A manifest round-trips, and one whose id is not its body's hash, of
// another format, or empty is refused with a reason.
func TestParse(t *testing.T) {
	m := persisted.New([]persisted.Operation{{Name: "Project", Body: "query Project { project { id } }"}})
	if op := m.Operations[0]; op.Type != "query" || op.ID != persisted.Hash(op.Body) || len(op.ID) != 64 {
		t.Fatalf("New: %+v", op)
	}
	back, err := persisted.Parse(m.JSON())
	if err != nil {
		t.Fatal(err)
	}
	if body, ok := back.Body(m.Operations[0].ID); !ok || body != m.Operations[0].Body {
		t.Fatalf("Body after a round trip: %q, %v", body, ok)
	}
	for _, c := range []struct{ doc, why string }{
		{`{"format":"apollo-persisted-query-manifest","version":1,"operations":[{"id":"abc","name":"P","type":"query","body":"{ project { id } }"}]}`, "not the SHA-256"},
		{`{"format":"something-else","version":1,"operations":[]}`, "format"},
		{`{"format":"apollo-persisted-query-manifest","version":2,"operations":[]}`, "version"},
		{`{"format":"apollo-persisted-query-manifest","version":1,"operations":[]}`, "no operations"},
		{`["not", "a", "manifest"]`, "not an"},
	} {
		if _, err := persisted.Parse([]byte(c.doc)); err == nil || !strings.Contains(err.Error(), c.why) {
			t.Errorf("Parse(%s) = %v, want an error saying %q", c.doc, err, c.why)
		}
	}
}
