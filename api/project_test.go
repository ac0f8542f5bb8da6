package api_test

import (
	"testing"

	"atrium/atriumtest"
)

const projectFields = `id name description signupEnabled sandbox fhirVersion version
	defaultPatientRole { id name } defaultSSOUserRole { id name }`

type project struct {
	ID                 string
	Name               string
	Description        string
	SignupEnabled      bool
	Sandbox            bool
	FhirVersion        string
	Version            int64
	DefaultPatientRole *struct{ ID, Name string }
	DefaultSSOUserRole *struct{ ID, Name string }
}

func TestProjectGet(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	var out struct{ Project project }
	s.Operator(s.Sandbox).MustDo(t, `{ project { `+projectFields+` } }`, nil, &out)
	if p := out.Project; p.ID != s.Sandbox || p.Name != "Sandbox" || p.FhirVersion != "R4" || !p.Sandbox || p.Version != 1 {
		t.Fatalf("unexpected sandbox: %+v", p)
	}
}

func TestProjectUpdate(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	c := s.Operator(s.Sandbox)
	patient := createRole(t, c, "Patient")
	staff := createRole(t, c, "Staff")
	const update = `mutation($in: UpdateProjectInput!) { updateProject(input: $in) { project { ` + projectFields + ` } } }`
	var out struct{ UpdateProject struct{ Project project } }

	// Full update.
	c.MustDo(t, update, map[string]any{"in": map[string]any{
		"name": "Clinic", "description": "Main clinic", "signupEnabled": true,
		"defaultPatientRoleId": patient, "defaultSSOUserRoleId": staff, "expectedVersion": 1,
	}}, &out)
	p := out.UpdateProject.Project
	if p.Name != "Clinic" || p.Description != "Main clinic" || !p.SignupEnabled || p.Version != 2 ||
		p.DefaultPatientRole == nil || p.DefaultPatientRole.Name != "Patient" || p.DefaultSSOUserRole == nil || p.DefaultSSOUserRole.ID != staff {
		t.Fatalf("full update: %+v", p)
	}

	// Partial update: absent fields stay, explicit null clears one role.
	c.MustDo(t, update, map[string]any{"in": map[string]any{"description": "Renamed only the description", "defaultSSOUserRoleId": nil}}, &out)
	p = out.UpdateProject.Project
	if p.Name != "Clinic" || !p.SignupEnabled || p.Description != "Renamed only the description" ||
		p.DefaultPatientRole == nil || p.DefaultSSOUserRole != nil || p.Version != 3 {
		t.Fatalf("partial update: %+v", p)
	}

	// Stale expectedVersion: CONFLICT and nothing changes.
	c.Fails(t, "CONFLICT", "", update, map[string]any{"in": map[string]any{"name": "Stale", "expectedVersion": 2}})
	var got struct{ Project project }
	c.MustDo(t, `{ project { `+projectFields+` } }`, nil, &got)
	if got.Project.Name != "Clinic" || got.Project.Version != 3 {
		t.Fatalf("stale update changed the project: %+v", got.Project)
	}
}

func TestProjectUpdateRejectsBadInput(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	c := s.Operator(s.Sandbox)
	other := s.Operator(s.Sandbox) // same server, second project below
	var created struct {
		CreateProject struct{ Project struct{ ID string } }
	}
	other.MustDo(t, `mutation { createProject(input: {name: "Other", fhirVersion: R5}) { project { id } } }`, nil, &created)
	foreignRole := createRole(t, s.Operator(created.CreateProject.Project.ID), "Foreign")

	const update = `mutation($in: UpdateProjectInput!) { updateProject(input: $in) { project { id } } }`
	long := make([]byte, 101)
	for i := range long {
		long[i] = 'a'
	}
	for _, tc := range []struct {
		name, code, field string
		in                map[string]any
	}{
		{"empty name", "BAD_USER_INPUT", "input.name", map[string]any{"name": "  "}},
		{"null name", "BAD_USER_INPUT", "input.name", map[string]any{"name": nil}},
		{"long name", "BAD_USER_INPUT", "input.name", map[string]any{"name": string(long)}},
		{"null signupEnabled", "BAD_USER_INPUT", "input.signupEnabled", map[string]any{"signupEnabled": nil}},
		{"unknown role", "NOT_FOUND", "input.defaultPatientRoleId", map[string]any{"defaultPatientRoleId": "no-such-role"}},
		{"role of another project", "NOT_FOUND", "input.defaultSSOUserRoleId", map[string]any{"defaultSSOUserRoleId": foreignRole}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.Fails(t, tc.code, tc.field, update, map[string]any{"in": tc.in})
		})
	}
	// fhirVersion is fixed at creation: the update input has no such field.
	c.Fails(t, "GRAPHQL_VALIDATION_FAILED", "", `mutation { updateProject(input: {fhirVersion: R5}) { project { id } } }`, nil)
	var out struct{ Project project }
	c.MustDo(t, `{ project { `+projectFields+` } }`, nil, &out)
	if out.Project.Version != 1 {
		t.Fatalf("rejected updates changed the project: %+v", out.Project)
	}
}
