package access

import (
	"strings"
	"testing"
)

func TestCatalogue(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Actions() {
		if seen[s.Name] {
			t.Errorf("%s catalogued twice", s.Name)
		}
		seen[s.Name] = true
		if got, ok := Lookup(s.Name); !ok || got != s {
			t.Errorf("Lookup(%q) = %+v, %v", s.Name, got, ok)
		}
		// Every catalogued action must be a valid grant on its own type.
		p := Policy{Rule: []Rule{{Resource: []string{s.ResourceType}, Action: []string{s.Name}, Effect: Allow}}}
		if err := Validate(p); err != nil {
			t.Errorf("%s on %s: %v", s.Name, s.ResourceType, err)
		}
		if !Can(p, s.Name, s.ResourceType).Allowed {
			t.Errorf("%s on %s is not allowed by its own grant", s.Name, s.ResourceType)
		}
		// The M2M actions come in pairs of spellings.
		if s.ResourceType == "IAM:M2MClient" {
			alias := m2mAlias[s.Name]
			if a, ok := Lookup(alias); !ok || a.TypeWide != s.TypeWide || m2mAlias[alias] != s.Name {
				t.Errorf("%s: bad alias %q", s.Name, alias)
			}
		}
	}
	for _, name := range []string{"IAM:CreateRole", "App:CreateUser", "IAM:InviteDeveloper", "App:ListAllApplications",
		"IAM:ListAllM2MClients", "App:CreateM2MClient", "Project:ListAllUsers", "IAM:SimulateAccess"} {
		if s, _ := Lookup(name); !s.TypeWide {
			t.Errorf("%s should be type-wide", name)
		}
	}
	if s, ok := Lookup("Project:ListAuditEvents"); !ok || s.ResourceType != "Project:Settings" {
		t.Errorf("Project:ListAuditEvents = %+v, %v", s, ok)
	}
	for _, name := range []string{"FHIR:Read", "IAM:*", "*", "iam:GetRole", ""} {
		if _, ok := Lookup(name); ok {
			t.Errorf("Lookup(%q) found an action", name)
		}
	}
	// Actions returns a copy.
	Actions()[0].Name = "x"
	if !strings.HasPrefix(Actions()[0].Name, "Project:") {
		t.Error("Actions exposes the catalogue")
	}
}
