package access

import (
	"encoding/json"
	"errors"
	"testing"
)

// fuzzChecks are fixed requests asked of every fuzzed policy: concrete and
// type-level, an M2M alias, a Z3 path, and malformed ones.
var fuzzChecks = []struct{ action, resource string }{
	{"IAM:GetRole", "IAM:Role:r1"},
	{"IAM:ListAllRoles", "IAM:Role"},
	{"App:GetM2MClient", "IAM:M2MClient:m1"},
	{"Project:GetProjectInfo", "Project:Settings"},
	{"FHIR:Read", "FHIR:Patient:p1"},
	{"Z3:GetObject", "Z3:bucket/a/b.pdf"},
	{"Zambda:InvokeFunction", "Zambda:Function:check-in"},
	{"", ""},
	{"FHIR:*", "FHIR:*:1"},
}

func FuzzValidate(f *testing.F) {
	for _, e := range examples {
		f.Add([]byte(examplePolicy(e.name)))
	}
	f.Add([]byte(`{"rule":[{"resource":"FHIR:*:1","action":"IAM:CreateRol","effect":"allow","condition":["_has:x=1"]}]}`))
	f.Add([]byte(`{"rule":[{"resource":["Z3:a*b","Project:Settings:x"],"action":["App:*"],"effect":"Deny","condition":"Observation?a=%zz"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var p Policy
		if json.Unmarshal(data, &p) != nil {
			return
		}
		if err := Validate(p); err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate returned %T: %v", err, err)
			}
			validField := map[string]bool{"resource": true, "action": true, "effect": true, "condition": true}
			if ve.Rule < -1 || ve.Rule >= len(p.Rule) || ve.Rule == -1 && ve.Field != "" || ve.Rule >= 0 && !validField[ve.Field] || ve.Message == "" {
				t.Fatalf("malformed ValidationError %+v for %d rules", ve, len(p.Rule))
			}
		}
		off := Merge(p, inactive)
		for _, c := range fuzzChecks {
			checkDecision(t, p, Can(p, c.action, c.resource))
			if d := Can(off, c.action, c.resource); d.Allowed {
				t.Fatalf("Can(%q, %q) allowed despite a deny-all rule: %+v", c.action, c.resource, d)
			}
		}
	})
}
