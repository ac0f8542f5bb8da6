package api_test

import (
	"slices"
	"testing"

	"atrium/atriumtest"
)

// Two projects on one server: nothing of one is visible or changeable from
// the other, and what does not belong to the project in scope is NOT_FOUND
// (never FORBIDDEN: existence is not revealed across projects).
func TestProjectIsolation(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	a := s.Operator(s.Sandbox)
	bID := s.CreateProject(t, "Project B")
	b := s.Operator(bID)

	aRole := mustCreateRole(t, a, map[string]any{"name": "Admin", "description": "A's admin", "accessPolicy": map[string]any{"rule": []any{allowAll}}})
	aOther := createRole(t, a, "Only in A")

	// Each sees its own project.
	var p struct{ Project struct{ ID, Name string } }
	b.MustDo(t, `{ project { id name } }`, nil, &p)
	if p.Project.ID != bID || p.Project.Name != "Project B" {
		t.Fatalf("B's project: %+v", p.Project)
	}

	// Reads.
	r := b.Fails(t, "NOT_FOUND", "id", getRoleQ, map[string]any{"id": aRole.ID})
	if string(r.Data) != "null" {
		t.Errorf("role(id) of A's role from B returned data %s", r.Data)
	}
	if rs := listRoles(t, b); len(rs) != 0 {
		t.Fatalf("B lists A's roles: %q", roleNames(rs))
	}

	// Writes.
	b.Fails(t, "NOT_FOUND", "input.id", updateRoleQ, map[string]any{"in": map[string]any{
		"id": aRole.ID, "name": "Hijacked", "description": "changed from B", "accessPolicy": map[string]any{"rule": []any{}}}})
	b.Fails(t, "NOT_FOUND", "input.id", updateRoleQ, map[string]any{"in": map[string]any{"id": aRole.ID, "description": "again", "expectedVersion": 1}})
	b.Fails(t, "NOT_FOUND", "input.id", deleteRoleQ, map[string]any{"id": aRole.ID})
	b.Fails(t, "NOT_FOUND", "input.defaultPatientRoleId", `mutation($id: ID) { updateProject(input: {defaultPatientRoleId: $id}) { project { id } } }`, map[string]any{"id": aRole.ID})
	b.Fails(t, "NOT_FOUND", "input.defaultSSOUserRoleId", `mutation($id: ID) { updateProject(input: {defaultSSOUserRoleId: $id}) { project { id } } }`, map[string]any{"id": aRole.ID})

	// A's role is untouched, and B's project did not change.
	got := getRole(t, a, aRole.ID)
	if got.Name != "Admin" || got.Description != "A's admin" || got.Version != 1 || len(got.AccessPolicy.Rule) != 1 {
		t.Fatalf("A's role after B's attempts: %+v", got)
	}
	var bp struct{ Project project }
	b.MustDo(t, `{ project { `+projectFields+` } }`, nil, &bp)
	if bp.Project.Version != 1 || bp.Project.DefaultPatientRole != nil || bp.Project.DefaultSSOUserRole != nil {
		t.Fatalf("B's project after refused updates: %+v", bp.Project)
	}

	// The same name in both projects is fine, and each keeps its own.
	bRole := mustCreateRole(t, b, map[string]any{"name": "Admin", "description": "B's admin"})
	if bRole.ID == aRole.ID {
		t.Fatal("both projects' roles have the same id")
	}
	if names := roleNames(listRoles(t, a)); !slices.Equal(names, []string{"Admin", "Only in A"}) {
		t.Fatalf("A's roles = %q", names)
	}
	if names := roleNames(listRoles(t, b)); !slices.Equal(names, []string{"Admin"}) {
		t.Fatalf("B's roles = %q", names)
	}
	// A cannot reach B's role either.
	a.Fails(t, "NOT_FOUND", "id", getRoleQ, map[string]any{"id": bRole.ID})
	a.Fails(t, "NOT_FOUND", "input.id", deleteRoleQ, map[string]any{"id": bRole.ID})

	// B uses its own role as a default; A cannot delete it, and deleting A's
	// role of the same name leaves B's alone.
	b.MustDo(t, `mutation($id: ID) { updateProject(input: {defaultPatientRoleId: $id}) { project { id } } }`, map[string]any{"id": bRole.ID}, nil)
	a.MustDo(t, deleteRoleQ, map[string]any{"id": aRole.ID}, nil)
	a.MustDo(t, deleteRoleQ, map[string]any{"id": aOther}, nil)
	if got := getRole(t, b, bRole.ID); got.Description != "B's admin" {
		t.Fatalf("B's role after A's deletes: %+v", got)
	}
	b.MustDo(t, `{ project { `+projectFields+` } }`, nil, &bp)
	if bp.Project.DefaultPatientRole == nil || bp.Project.DefaultPatientRole.ID != bRole.ID {
		t.Fatalf("B's default patient role: %+v", bp.Project.DefaultPatientRole)
	}
	b.Fails(t, "CONFLICT", "", deleteRoleQ, map[string]any{"id": bRole.ID})
}
