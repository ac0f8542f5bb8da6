package api_test

import (
	"fmt"
	"strings"
	"testing"

	"atrium/atriumtest"
)

// A value of the wrong shape for a custom scalar (a Time that is not a date,
// a FHIR resource that is not an object) is the client's mistake: it is
// BAD_USER_INPUT naming the input field, whether written inline or sent as
// a variable, and it never logs at ERROR.
func TestBadScalarInputIsBadUserInput(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	c := s.Operator(s.Sandbox)
	const uuid = "00000000-0000-4000-8000-000000000000"
	positions := []struct {
		name, field string
		inline      func(v string) string // the document with v written at the position
		vars        func(v any) (string, map[string]any)
	}{
		{"auditEvents.since", "filter.since",
			func(v string) string { return `{ auditEvents(filter: {since: ` + v + `}) { edges { cursor } } }` },
			func(v any) (string, map[string]any) {
				return `query($f: AuditEventFilter) { auditEvents(filter: $f) { edges { cursor } } }`, map[string]any{"f": map[string]any{"since": v}}
			}},
		{"auditEvents.until", "filter.until",
			func(v string) string { return `{ auditEvents(filter: {until: ` + v + `}) { edges { cursor } } }` },
			func(v any) (string, map[string]any) {
				return `query($f: AuditEventFilter) { auditEvents(filter: $f) { edges { cursor } } }`, map[string]any{"f": map[string]any{"until": v}}
			}},
		{"inviteUser.resource", "input.resource",
			func(v string) string {
				return `mutation { inviteUser(input: {email: "a@example.org", applicationId: "` + uuid + `", roles: ["` + uuid + `"], resource: ` + v + `}) { invitationUrl } }`
			},
			func(v any) (string, map[string]any) {
				return `mutation($r: JSON) { inviteUser(input: {email: "a@example.org", applicationId: "` + uuid + `", roles: ["` + uuid + `"], resource: $r}) { invitationUrl } }`, map[string]any{"r": v}
			}},
		{"signUp.resource", "input.resource",
			func(v string) string {
				return `mutation { signUp(input: {applicationId: "` + uuid + `", email: "a@example.org", password: "correct horse 1", resource: ` + v + `}) { accessToken } }`
			},
			func(v any) (string, map[string]any) {
				return `mutation($r: JSON) { signUp(input: {applicationId: "` + uuid + `", email: "a@example.org", password: "correct horse 1", resource: $r}) { accessToken } }`, map[string]any{"r": v}
			}},
		{"inviteDeveloper.practitioner", "input.practitioner",
			func(v string) string {
				return `mutation { inviteDeveloper(input: {email: "d@example.org", roles: ["` + uuid + `"], practitioner: ` + v + `}) { invitationUrl } }`
			},
			func(v any) (string, map[string]any) {
				return `mutation($p: JSON) { inviteDeveloper(input: {email: "d@example.org", roles: ["` + uuid + `"], practitioner: $p}) { invitationUrl } }`, map[string]any{"p": v}
			}},
	}
	bad := map[string]struct {
		inline string
		value  any
	}{
		"a word":  {`"yesterday"`, "yesterday"},
		"number":  {`1`, 1},
		"list":    {`[]`, []any{}},
		"boolean": {`true`, true},
	}
	n := 0
	for _, p := range positions {
		for name, b := range bad {
			isTime := strings.HasPrefix(p.field, "filter.")
			if !isTime && name == "a word" {
				b.inline, b.value = `"Practitioner"`, "Practitioner" // the issue's own example
			}
			t.Run(fmt.Sprintf("%s/%s/inline", p.name, name), func(t *testing.T) {
				r := c.Do(t, p.inline(b.inline), nil)
				wantBadInput(t, r, p.field)
			})
			t.Run(fmt.Sprintf("%s/%s/variable", p.name, name), func(t *testing.T) {
				q, v := p.vars(b.value)
				r := c.Do(t, q, v)
				wantBadInput(t, r, p.field)
			})
			n += 2
		}
	}
	if strings.Contains(s.Log.String(), `"level":"ERROR"`) {
		t.Errorf("a client's bad input logged an ERROR:\n%s", s.Log.String())
	}
	t.Logf("%d cases", n)
}

// wantBadInput checks the first error is BAD_USER_INPUT naming field, or a
// validation failure (the validator itself refuses some shapes, such as a
// list for a scalar written inline).
func wantBadInput(t *testing.T, r *atriumtest.Response, field string) {
	t.Helper()
	if len(r.Errors) == 0 {
		t.Fatalf("accepted: %s", r.Data)
	}
	e := r.Errors[0]
	switch e.Extensions.Code {
	case "BAD_USER_INPUT":
		if e.Extensions.Field != field {
			t.Errorf("BAD_USER_INPUT names field %q, want %q (%s)", e.Extensions.Field, field, e.Message)
		}
	case "GRAPHQL_VALIDATION_FAILED":
	default:
		t.Errorf("code %q (%s), want BAD_USER_INPUT for %s", e.Extensions.Code, e.Message, field)
	}
	if strings.Contains(e.Message, "internal") {
		t.Errorf("message %q", e.Message)
	}
}
