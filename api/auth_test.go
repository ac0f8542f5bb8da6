package api_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"atrium/atriumtest"
)

const projectIDQ = `{ project { id } }`

func TestNoCredential(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	for _, q := range []string{
		projectIDQ,
		`{ projects { id } }`,
		`{ roles { id } }`,
		`mutation { createProject(input: {name: "X", fhirVersion: R4}) { project { id } } }`,
		`mutation { createRole(input: {name: "X"}) { role { id } } }`,
	} {
		r := s.Client("", s.Sandbox).Do(t, q, nil)
		expectError(t, r, "UNAUTHENTICATED", "Authorization")
		if string(r.Data) != "null" {
			t.Errorf("%s: data %s leaked to an anonymous caller", q, r.Data)
		}
	}
	var out struct{ Projects []struct{ ID string } }
	s.Operator("").MustDo(t, `{ projects { id } }`, nil, &out)
	if len(out.Projects) != 1 {
		t.Fatalf("anonymous createProject created a project: %+v", out.Projects)
	}
}

func TestBadCredential(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	for _, auth := range []string{
		"Bearer wrong",
		"Bearer " + atriumtest.AdminSecret + "x",
		"Bearer " + atriumtest.AdminSecret[:len(atriumtest.AdminSecret)-1],
		"Bearer",
		"Bearer ",
		"Basic x",
		"Basic " + atriumtest.AdminSecret,
		atriumtest.AdminSecret,
		"Token " + atriumtest.AdminSecret,
	} {
		for _, q := range []string{projectIDQ, `{ projects { id } }`} {
			_, r := rawPost(t, s, map[string]string{"Authorization": auth, "X-Oystehr-Project-Id": s.Sandbox}, q, nil)
			if r.Code() != "UNAUTHENTICATED" {
				t.Errorf("Authorization %q on %s: %+v %s", auth, q, r.Errors, r.Data)
			}
		}
	}
	// The scheme is case-insensitive (RFC 9110), and surrounding spaces do not matter.
	for _, auth := range []string{"bearer " + atriumtest.AdminSecret, "BEARER  " + atriumtest.AdminSecret + " "} {
		_, r := rawPost(t, s, map[string]string{"Authorization": auth, "X-Oystehr-Project-Id": s.Sandbox}, projectIDQ, nil)
		if len(r.Errors) != 0 {
			t.Errorf("Authorization %q refused: %+v", auth, r.Errors)
		}
	}
}

func TestProjectHeader(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	other := s.CreateProject(t, "Other")
	bearer := "Bearer " + atriumtest.AdminSecret
	id := func(r *atriumtest.Response) string {
		t.Helper()
		var out struct{ Project struct{ ID string } }
		if len(r.Errors) != 0 {
			t.Fatalf("unexpected errors: %+v", r.Errors)
		}
		if err := jsonUnmarshal(string(r.Data), &out); err != nil {
			t.Fatal(err)
		}
		return out.Project.ID
	}

	// Missing.
	r := s.Operator("").Fails(t, "BAD_USER_INPUT", "x-oystehr-project-id", projectIDQ, nil)
	expectError(t, r, "BAD_USER_INPUT", "x-oystehr-project-id")
	_, r = rawPost(t, s, map[string]string{"Authorization": bearer, "X-Oystehr-Project-Id": "   "}, projectIDQ, nil)
	expectError(t, r, "BAD_USER_INPUT", "x-oystehr-project-id")
	// Unknown.
	r = s.Operator("no-such-project").Fails(t, "NOT_FOUND", "", projectIDQ, nil)
	expectError(t, r, "NOT_FOUND", "no-such-project")
	// The platform's header, in any case.
	_, r = rawPost(t, s, map[string]string{"Authorization": bearer, "x-oystehr-project-id": other}, projectIDQ, nil)
	if got := id(r); got != other {
		t.Errorf("x-oystehr-project-id: project %q, want %q", got, other)
	}
	// The legacy header alone.
	_, r = rawPost(t, s, map[string]string{"Authorization": bearer, "x-zapehr-project-id": other}, projectIDQ, nil)
	if got := id(r); got != other {
		t.Errorf("x-zapehr-project-id: project %q, want %q", got, other)
	}
	// Both, agreeing.
	_, r = rawPost(t, s, map[string]string{"Authorization": bearer, "X-Oystehr-Project-Id": other, "X-Zapehr-Project-Id": other}, projectIDQ, nil)
	if got := id(r); got != other {
		t.Errorf("both headers: project %q, want %q", got, other)
	}
	// Both, disagreeing: refused, whichever would have been used.
	_, r = rawPost(t, s, map[string]string{"Authorization": bearer, "X-Oystehr-Project-Id": s.Sandbox, "X-Zapehr-Project-Id": other}, projectIDQ, nil)
	expectError(t, r, "BAD_USER_INPUT", "x-zapehr-project-id")
	if string(r.Data) != "null" {
		t.Errorf("disagreeing headers returned data %s", r.Data)
	}
	_, r = rawPost(t, s, map[string]string{"Authorization": bearer, "X-Oystehr-Project-Id": s.Sandbox, "X-Zapehr-Project-Id": other},
		`mutation { updateProject(input: {name: "Hijacked"}) { project { id } } }`, nil)
	if len(r.Errors) == 0 {
		t.Errorf("updateProject with disagreeing headers succeeded: %s", r.Data)
	}
	var names struct{ Projects []struct{ Name string } }
	s.Operator("").MustDo(t, `{ projects { name } }`, nil, &names)
	for _, p := range names.Projects {
		if p.Name == "Hijacked" {
			t.Errorf("a project was renamed through disagreeing headers")
		}
	}
}

func TestProjectsAsOperator(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	a := s.CreateProject(t, "Alpha")
	b := s.CreateProject(t, "Beta")
	var out struct{ Projects []struct{ ID, Name string } }
	// No project header needed; with one, still every project.
	for _, c := range []*atriumtest.Client{s.Operator(""), s.Operator(a)} {
		c.MustDo(t, `{ projects { id name } }`, nil, &out)
		var ids []string
		for _, p := range out.Projects {
			ids = append(ids, p.ID)
		}
		if !slices.Equal(ids, []string{s.Sandbox, a, b}) {
			t.Fatalf("projects = %+v; want the sandbox, Alpha, Beta (oldest first)", out.Projects)
		}
	}
}

func TestCreateProjectValidation(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	c := s.Operator("")
	const create = `mutation($in: CreateProjectInput!) { createProject(input: $in) { project { id } } }`
	for _, tc := range []struct {
		name, code, field string
		in                map[string]any
	}{
		{"empty name", "BAD_USER_INPUT", "input.name", map[string]any{"name": "", "fhirVersion": "R4"}},
		{"blank name", "BAD_USER_INPUT", "input.name", map[string]any{"name": "   ", "fhirVersion": "R4"}},
		{"long name", "BAD_USER_INPUT", "input.name", map[string]any{"name": strings.Repeat("n", 101), "fhirVersion": "R4"}},
		{"control character", "BAD_USER_INPUT", "input.name", map[string]any{"name": "a\tb", "fhirVersion": "R4"}},
		{"long description", "BAD_USER_INPUT", "input.description", map[string]any{"name": "Fine", "description": strings.Repeat("d", 1001), "fhirVersion": "R4"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.Fails(t, tc.code, tc.field, create, map[string]any{"in": tc.in})
		})
	}
	for _, v := range []any{"R6", nil, 4} {
		if r := c.Do(t, create, map[string]any{"in": map[string]any{"name": "Bad version", "fhirVersion": v}}); len(r.Errors) == 0 {
			t.Errorf("fhirVersion %v accepted: %s", v, r.Data)
		}
	}
	var out struct{ Projects []struct{ ID string } }
	c.MustDo(t, `{ projects { id } }`, nil, &out)
	if len(out.Projects) != 1 {
		t.Fatalf("rejected input created projects: %+v", out.Projects)
	}
}

func TestCreateProject(t *testing.T) {
	t.Parallel()
	s, raw := rawServer(t)
	var out struct{ CreateProject struct{ Project project } }
	s.Operator("").MustDo(t, `mutation { createProject(input: {name: " Clinic ", description: "Main site", fhirVersion: R5, signupEnabled: true}) {
		project { `+projectFields+` } } }`, nil, &out)
	p := out.CreateProject.Project
	if p.ID == "" || p.Name != "Clinic" || p.Description != "Main site" || p.FhirVersion != "R5" || !p.SignupEnabled || p.Sandbox ||
		p.Version != 1 || p.DefaultPatientRole != nil || p.DefaultSSOUserRole != nil {
		t.Fatalf("created: %+v", p)
	}
	// Read back in its own scope.
	var got struct{ Project project }
	s.Operator(p.ID).MustDo(t, `{ project { `+projectFields+` } }`, nil, &got)
	if got.Project != p {
		t.Fatalf("read back %+v, want %+v", got.Project, p)
	}
	// Stored as the platform writes it: r5 (and the sandbox r4).
	for id, want := range map[string]string{p.ID: "r5", s.Sandbox: "r4"} {
		var doc bson.M
		if err := raw.Collection("projects").FindOne(context.Background(), bson.D{{Key: "_id", Value: id}}).Decode(&doc); err != nil {
			t.Fatal(err)
		}
		if doc["fhirVersion"] != want {
			t.Errorf("stored fhirVersion of %s = %v, want %q", id, doc["fhirVersion"], want)
		}
		if doc["projectId"] != id {
			t.Errorf("stored projectId of %s = %v", id, doc["projectId"])
		}
	}
}
