package api_test

import (
	"slices"
	"strings"
	"testing"

	"atrium/atriumtest"
)

const roleFields = `id name description memberCount version createdAt updatedAt
	accessPolicy { rule { resource action effect condition } }`

type role struct {
	ID           string
	Name         string
	Description  string
	MemberCount  int
	Version      int64
	CreatedAt    string
	UpdatedAt    string
	AccessPolicy struct {
		Rule []struct {
			Resource, Action []string
			Effect           string
			Condition        []string
		}
	}
}

const (
	createRoleQ = `mutation($in: CreateRoleInput!) { createRole(input: $in) { role { ` + roleFields + ` } } }`
	updateRoleQ = `mutation($in: UpdateRoleInput!) { updateRole(input: $in) { role { ` + roleFields + ` } } }`
	deleteRoleQ = `mutation($id: ID!) { deleteRole(input: {id: $id}) { deletedRoleId } }`
	getRoleQ    = `query($id: ID!) { role(id: $id) { ` + roleFields + ` } }`
	listRolesQ  = `{ roles { ` + roleFields + ` } }`
)

func mustCreateRole(t *testing.T, c *atriumtest.Client, in map[string]any) role {
	t.Helper()
	var out struct{ CreateRole struct{ Role role } }
	c.MustDo(t, createRoleQ, map[string]any{"in": in}, &out)
	return out.CreateRole.Role
}

func getRole(t *testing.T, c *atriumtest.Client, id string) role {
	t.Helper()
	var out struct{ Role role }
	c.MustDo(t, getRoleQ, map[string]any{"id": id}, &out)
	return out.Role
}

func listRoles(t *testing.T, c *atriumtest.Client) []role {
	t.Helper()
	var out struct{ Roles []role }
	c.MustDo(t, listRolesQ, nil, &out)
	return out.Roles
}

func roleNames(rs []role) []string {
	var names []string
	for _, r := range rs {
		names = append(names, r.Name)
	}
	return names
}

func TestRoleCRUD(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	c := s.Operator(s.Sandbox)

	if rs := listRoles(t, c); len(rs) != 0 {
		t.Fatalf("a new project has roles: %q", roleNames(rs))
	}

	// Create, with the name and description trimmed.
	created := mustCreateRole(t, c, map[string]any{
		"name": "  Front desk ", "description": " Checks patients in ",
		"accessPolicy": map[string]any{"rule": []any{
			map[string]any{"resource": []string{"App:User"}, "action": []string{"App:GetUser", "App:ListAllUsers"}, "effect": "Allow"},
			map[string]any{"resource": []string{"FHIR:Patient"}, "action": []string{"FHIR:Read"}, "effect": "Allow", "condition": []string{"name=Smith"}},
			map[string]any{"resource": []string{"FHIR:Patient:1"}, "action": []string{"FHIR:Delete"}, "effect": "Deny"},
		}},
	})
	if created.ID == "" || created.Name != "Front desk" || created.Description != "Checks patients in" ||
		created.Version != 1 || created.MemberCount != 0 || created.CreatedAt == "" || created.CreatedAt != created.UpdatedAt {
		t.Fatalf("created: %+v", created)
	}
	rules := created.AccessPolicy.Rule
	if len(rules) != 3 || !slices.Equal(rules[0].Action, []string{"App:GetUser", "App:ListAllUsers"}) ||
		!slices.Equal(rules[1].Condition, []string{"name=Smith"}) || rules[2].Effect != "Deny" || rules[0].Condition != nil {
		t.Fatalf("created policy: %+v", rules)
	}

	// Read back: one and in the list.
	if got := getRole(t, c, created.ID); got.Name != created.Name || got.Version != 1 || len(got.AccessPolicy.Rule) != 3 || got.MemberCount != 0 {
		t.Fatalf("role(id): %+v", got)
	}

	// A role without a policy has an empty one (allows nothing).
	empty := mustCreateRole(t, c, map[string]any{"name": "Nobody"})
	if empty.Description != "" || empty.AccessPolicy.Rule == nil || len(empty.AccessPolicy.Rule) != 0 {
		t.Fatalf("role without policy: %+v", empty)
	}
	mustCreateRole(t, c, map[string]any{"name": "Accountant"})

	// roles: ordered by name.
	if names := roleNames(listRoles(t, c)); !slices.Equal(names, []string{"Accountant", "Front desk", "Nobody"}) {
		t.Fatalf("roles = %q, want ordered by name", names)
	}

	// Update, then delete.
	var upd struct{ UpdateRole struct{ Role role } }
	c.MustDo(t, updateRoleQ, map[string]any{"in": map[string]any{"id": empty.ID, "name": "Somebody", "expectedVersion": 1}}, &upd)
	if r := upd.UpdateRole.Role; r.Name != "Somebody" || r.Version != 2 || r.CreatedAt != empty.CreatedAt {
		t.Fatalf("updated: %+v", r)
	}
	var del struct {
		DeleteRole struct{ DeletedRoleID string }
	}
	c.MustDo(t, deleteRoleQ, map[string]any{"id": empty.ID}, &del)
	if del.DeleteRole.DeletedRoleID != empty.ID {
		t.Fatalf("deletedRoleId = %q, want %q", del.DeleteRole.DeletedRoleID, empty.ID)
	}
	c.Fails(t, "NOT_FOUND", "id", getRoleQ, map[string]any{"id": empty.ID})
	if names := roleNames(listRoles(t, c)); !slices.Equal(names, []string{"Accountant", "Front desk"}) {
		t.Fatalf("roles after delete = %q", names)
	}
	// The name is free again.
	mustCreateRole(t, c, map[string]any{"name": "Somebody"})
}

func TestRoleNotFound(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	c := s.Operator(s.Sandbox)
	c.Fails(t, "NOT_FOUND", "id", getRoleQ, map[string]any{"id": "no-such-role"})
	c.Fails(t, "NOT_FOUND", "input.id", updateRoleQ, map[string]any{"in": map[string]any{"id": "no-such-role", "name": "X"}})
	r := c.Fails(t, "NOT_FOUND", "input.id", deleteRoleQ, map[string]any{"id": "no-such-role"})
	expectError(t, r, "NOT_FOUND", "no-such-role")

	// Deleting twice: the second is NOT_FOUND.
	id := createRole(t, c, "Once")
	c.MustDo(t, deleteRoleQ, map[string]any{"id": id}, nil)
	c.Fails(t, "NOT_FOUND", "input.id", deleteRoleQ, map[string]any{"id": id})
}

func TestRoleNamesUnique(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	c := s.Operator(s.Sandbox)
	mustCreateRole(t, c, map[string]any{"name": "Staff"})

	for _, name := range []string{"Staff", " Staff  "} {
		r := c.Fails(t, "CONFLICT", "input.name", createRoleQ, map[string]any{"in": map[string]any{"name": name}})
		expectError(t, r, "CONFLICT", "Staff", "already exists")
	}
	if names := roleNames(listRoles(t, c)); !slices.Equal(names, []string{"Staff"}) {
		t.Fatalf("roles = %q", names)
	}
	// Keeping one's own name is not a conflict.
	other := mustCreateRole(t, c, map[string]any{"name": "Other"})
	c.MustDo(t, updateRoleQ, map[string]any{"in": map[string]any{"id": other.ID, "name": "Other", "description": "same name"}}, nil)
}

func TestRoleRenameOntoExistingName(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	c := s.Operator(s.Sandbox)
	mustCreateRole(t, c, map[string]any{"name": "Staff"})
	other := mustCreateRole(t, c, map[string]any{"name": "Other"})
	r := c.Fails(t, "CONFLICT", "input.name", updateRoleQ, map[string]any{"in": map[string]any{"id": other.ID, "name": "Staff"}})
	expectError(t, r, "CONFLICT", "Staff", "already exists")
	if got := getRole(t, c, other.ID); got.Name != "Other" || got.Version != 1 {
		t.Fatalf("refused rename changed the role: %+v", got)
	}
}

func TestRoleNameAndDescriptionBounds(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	c := s.Operator(s.Sandbox)
	existing := mustCreateRole(t, c, map[string]any{"name": "Existing"})

	// At the limits: accepted. Characters, not bytes, are counted.
	mustCreateRole(t, c, map[string]any{"name": strings.Repeat("é", 100), "description": strings.Repeat("é", 1000)})

	for _, tc := range []struct {
		name, field string
		in          map[string]any
	}{
		{"empty name", "input.name", map[string]any{"name": ""}},
		{"blank name", "input.name", map[string]any{"name": " \t "}},
		{"long name", "input.name", map[string]any{"name": strings.Repeat("a", 101)}},
		{"control character", "input.name", map[string]any{"name": "a\x00b"}},
		{"newline", "input.name", map[string]any{"name": "two\nlines"}},
		{"long description", "input.description", map[string]any{"name": "Fine", "description": strings.Repeat("d", 1001)}},
	} {
		t.Run("create "+tc.name, func(t *testing.T) {
			c.Fails(t, "BAD_USER_INPUT", tc.field, createRoleQ, map[string]any{"in": tc.in})
		})
		t.Run("update "+tc.name, func(t *testing.T) {
			in := map[string]any{"id": existing.ID}
			for k, v := range tc.in {
				in[k] = v
			}
			c.Fails(t, "BAD_USER_INPUT", tc.field, updateRoleQ, map[string]any{"in": in})
		})
	}
	if names := roleNames(listRoles(t, c)); len(names) != 2 {
		t.Fatalf("rejected input created roles: %q", names)
	}
	if got := getRole(t, c, existing.ID); got.Name != "Existing" || got.Version != 1 {
		t.Fatalf("rejected updates changed the role: %+v", got)
	}
}

// allowAll is a valid first rule, so that the bad rule under test is rule 1.
var allowAll = map[string]any{"resource": []string{"*"}, "action": []string{"*"}, "effect": "Allow"}

func TestRolePolicyValidation(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	c := s.Operator(s.Sandbox)
	existing := mustCreateRole(t, c, map[string]any{"name": "Existing", "accessPolicy": map[string]any{"rule": []any{allowAll}}})

	rule := func(resource, action, effect string, condition ...string) map[string]any {
		r := map[string]any{"resource": []string{resource}, "action": []string{action}, "effect": effect}
		if condition != nil {
			r["condition"] = condition
		}
		return r
	}
	for _, tc := range []struct {
		name  string
		rule  map[string]any
		field string   // after input.accessPolicy.rule[1].
		words []string // the message names the problem
	}{
		{"concrete segment after wildcard", rule("FHIR:*:123", "FHIR:Read", "Allow"), "resource", []string{"FHIR:*:123", "follows a wildcard"}},
		{"unknown IAM action", rule("IAM:Role", "IAM:CreateRol", "Allow"), "action", []string{"IAM:CreateRol", "unknown action"}},
		{"unknown Project action", rule("Project:Settings", "Project:DeleteProject", "Allow"), "action", []string{"unknown action"}},
		{"unknown App resource type", rule("App:Widget", "App:*", "Allow"), "resource", []string{"App:Widget", "unknown resource type"}},
		{"action on the wrong resource", rule("App:User", "IAM:CreateRole", "Allow"), "action", []string{"IAM:CreateRole", "does not apply"}},
		{"condition with Deny", rule("FHIR:Patient", "FHIR:Read", "Deny", "name=x"), "condition", []string{"only Allow"}},
		{"condition on non-FHIR resource", rule("App:User", "App:GetUser", "Allow", "name=x"), "condition", []string{"App:User", "FHIR"}},
		{"condition with _include", rule("FHIR:Patient", "FHIR:Read", "Allow", "_include=Patient:organization"), "condition", []string{"_include"}},
		{"min scope: create user on one user", rule("App:User:123", "App:CreateUser", "Allow"), "resource", []string{"App:User:123", "App:CreateUser", "as a whole"}},
		{"min scope: list roles on one role", rule("IAM:Role:r1", "IAM:ListAllRoles", "Allow"), "resource", []string{"as a whole"}},
		{"miscased service", rule("fhir:Patient", "FHIR:Read", "Allow"), "resource", []string{`"fhir"`, "FHIR"}},
		{"empty resource list", map[string]any{"resource": []string{}, "action": []string{"*"}, "effect": "Allow"}, "resource", []string{"at least one"}},
	} {
		policy := map[string]any{"rule": []any{allowAll, tc.rule}}
		field := "input.accessPolicy.rule[1]." + tc.field
		words := append([]string{"rule 1"}, tc.words...)
		t.Run("create "+tc.name, func(t *testing.T) {
			r := c.Fails(t, "BAD_USER_INPUT", field, createRoleQ, map[string]any{"in": map[string]any{"name": "Bad " + tc.name, "accessPolicy": policy}})
			expectError(t, r, "BAD_USER_INPUT", words...)
		})
		t.Run("update "+tc.name, func(t *testing.T) {
			r := c.Fails(t, "BAD_USER_INPUT", field, updateRoleQ, map[string]any{"in": map[string]any{"id": existing.ID, "accessPolicy": policy}})
			expectError(t, r, "BAD_USER_INPUT", words...)
		})
	}
	// The first bad rule is the one reported.
	r := c.Fails(t, "BAD_USER_INPUT", "input.accessPolicy.rule[0].action", createRoleQ, map[string]any{"in": map[string]any{"name": "Two bad",
		"accessPolicy": map[string]any{"rule": []any{rule("*", "IAM:Nope", "Allow"), rule("FHIR:*:1", "*", "Allow")}}}})
	expectError(t, r, "BAD_USER_INPUT", "rule 0", "IAM:Nope")

	if names := roleNames(listRoles(t, c)); !slices.Equal(names, []string{"Existing"}) {
		t.Fatalf("rejected policies created roles: %q", names)
	}
	if got := getRole(t, c, existing.ID); got.Version != 1 || len(got.AccessPolicy.Rule) != 1 {
		t.Fatalf("rejected policies changed the role: %+v", got)
	}
}

// Effect is an enum: a value that is not Allow or Deny never reaches the
// service, whether passed as a variable or written in the query.
func TestRolePolicyBadEffect(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	c := s.Operator(s.Sandbox)
	for _, effect := range []string{"allow", "ALLOW", "Permit", ""} {
		r := c.Do(t, createRoleQ, map[string]any{"in": map[string]any{"name": "Bad effect",
			"accessPolicy": map[string]any{"rule": []any{map[string]any{"resource": "*", "action": "*", "effect": effect}}}}})
		if len(r.Errors) == 0 {
			t.Fatalf("effect %q accepted: %s", effect, r.Data)
		}
		if code := r.Code(); code != "GRAPHQL_VALIDATION_FAILED" && code != "BAD_USER_INPUT" {
			t.Errorf("effect %q: code %s (%s), want a validation error", effect, code, r.Errors[0].Message)
		}
		if !strings.Contains(r.Errors[0].Message, "effect") && !strings.Contains(r.Errors[0].Message, "Effect") {
			t.Errorf("effect %q: message %q does not mention the effect", effect, r.Errors[0].Message)
		}
	}
	r := c.Do(t, `mutation { createRole(input: {name: "Literal", accessPolicy: {rule: [{resource: "*", action: "*", effect: allow}]}}) { role { id } } }`, nil)
	if r.Code() != "GRAPHQL_VALIDATION_FAILED" {
		t.Errorf("literal effect allow: %+v", r.Errors)
	}
	if rs := listRoles(t, c); len(rs) != 0 {
		t.Fatalf("roles created with a bad effect: %q", roleNames(rs))
	}
}

// A policy copied from the platform, where single strings stand for lists,
// is accepted as is and read back in list form.
func TestRolePolicyPastedFromPlatform(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	c := s.Operator(s.Sandbox)
	r := mustCreateRole(t, c, map[string]any{"name": "Pasted", "accessPolicy": map[string]any{"rule": []any{
		map[string]any{"resource": "*", "action": "*", "effect": "Allow"},
		map[string]any{"resource": "FHIR:Patient", "action": "FHIR:Read", "effect": "Allow", "condition": "name=Smith"},
	}}})
	got := getRole(t, c, r.ID).AccessPolicy.Rule
	if len(got) != 2 || !slices.Equal(got[0].Resource, []string{"*"}) || !slices.Equal(got[0].Action, []string{"*"}) || got[0].Effect != "Allow" ||
		!slices.Equal(got[1].Resource, []string{"FHIR:Patient"}) || !slices.Equal(got[1].Condition, []string{"name=Smith"}) {
		t.Fatalf("pasted policy read back as %+v", got)
	}

	// The same shorthand written in the query itself.
	var out struct{ CreateRole struct{ Role role } }
	c.MustDo(t, `mutation { createRole(input: {name: "Literal", accessPolicy: {rule: [{resource: "IAM:Role", action: "IAM:GetRole", effect: Allow}]}}) { role { `+roleFields+` } } }`, nil, &out)
	if rule := out.CreateRole.Role.AccessPolicy.Rule; len(rule) != 1 || !slices.Equal(rule[0].Resource, []string{"IAM:Role"}) || !slices.Equal(rule[0].Action, []string{"IAM:GetRole"}) {
		t.Fatalf("literal shorthand read back as %+v", rule)
	}

	// The whole policy document as the platform's JSON, passed as the variable.
	const platformJSON = `{"rule":[{"resource":"*","action":"*","effect":"Allow"}]}`
	var policy map[string]any
	if err := jsonUnmarshal(platformJSON, &policy); err != nil {
		t.Fatal(err)
	}
	mustCreateRole(t, c, map[string]any{"name": "From JSON", "accessPolicy": policy})
}

func TestRoleUpdatePartial(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	c := s.Operator(s.Sandbox)
	orig := mustCreateRole(t, c, map[string]any{"name": "Nurse", "description": "Ward staff",
		"accessPolicy": map[string]any{"rule": []any{allowAll}}})
	update := func(in map[string]any) role {
		t.Helper()
		in["id"] = orig.ID
		var out struct{ UpdateRole struct{ Role role } }
		c.MustDo(t, updateRoleQ, map[string]any{"in": in}, &out)
		return out.UpdateRole.Role
	}

	// Only the description.
	r := update(map[string]any{"description": "Night shift"})
	if r.Name != "Nurse" || r.Description != "Night shift" || len(r.AccessPolicy.Rule) != 1 || r.Version != 2 {
		t.Fatalf("description only: %+v", r)
	}
	// Only the policy: replaced as a whole.
	r = update(map[string]any{"accessPolicy": map[string]any{"rule": []any{
		map[string]any{"resource": []string{"FHIR:Patient"}, "action": []string{"FHIR:Read", "FHIR:Search"}, "effect": "Allow"},
		map[string]any{"resource": []string{"FHIR:Patient:vip"}, "action": []string{"FHIR:*"}, "effect": "Deny"},
	}}})
	if r.Name != "Nurse" || r.Description != "Night shift" || len(r.AccessPolicy.Rule) != 2 || r.AccessPolicy.Rule[1].Effect != "Deny" || r.Version != 3 {
		t.Fatalf("policy only: %+v", r)
	}
	// Only the name.
	r = update(map[string]any{"name": "Senior nurse"})
	if r.Name != "Senior nurse" || r.Description != "Night shift" || len(r.AccessPolicy.Rule) != 2 || r.Version != 4 {
		t.Fatalf("name only: %+v", r)
	}
	// An empty description clears it; an empty policy allows nothing.
	r = update(map[string]any{"description": "", "accessPolicy": map[string]any{"rule": []any{}}})
	if r.Description != "" || len(r.AccessPolicy.Rule) != 0 || r.Name != "Senior nurse" || r.Version != 5 {
		t.Fatalf("clearing: %+v", r)
	}
	// Nothing at all: still a valid update.
	r = update(map[string]any{})
	if r.Name != "Senior nurse" || r.Version < 5 {
		t.Fatalf("empty update: %+v", r)
	}
	if got := getRole(t, c, orig.ID); got.Name != r.Name || got.Version != r.Version || got.CreatedAt != orig.CreatedAt {
		t.Fatalf("read back %+v, want %+v", got, r)
	}
}

func TestRoleUpdateExpectedVersion(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	c := s.Operator(s.Sandbox)
	orig := mustCreateRole(t, c, map[string]any{"name": "Billing", "description": "v1"})

	c.MustDo(t, updateRoleQ, map[string]any{"in": map[string]any{"id": orig.ID, "description": "v2", "expectedVersion": 1}}, nil)

	for _, stale := range []int{1, 3, 100} {
		r := c.Fails(t, "CONFLICT", "", updateRoleQ, map[string]any{"in": map[string]any{
			"id": orig.ID, "name": "Stale", "description": "stale", "accessPolicy": map[string]any{"rule": []any{allowAll}}, "expectedVersion": stale}})
		expectError(t, r, "CONFLICT", "version")
	}
	got := getRole(t, c, orig.ID)
	if got.Name != "Billing" || got.Description != "v2" || got.Version != 2 || len(got.AccessPolicy.Rule) != 0 {
		t.Fatalf("stale updates changed the role: %+v", got)
	}
	c.MustDo(t, updateRoleQ, map[string]any{"in": map[string]any{"id": orig.ID, "description": "v3", "expectedVersion": 2}}, nil)
	if got := getRole(t, c, orig.ID); got.Description != "v3" || got.Version != 3 {
		t.Fatalf("update with the current version: %+v", got)
	}
}

// Versions start at 1, so expectedVersion 0 or below is not a version: the
// update is refused as bad input (not silently applied as if absent).
func TestRoleUpdateExpectedVersionZero(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	c := s.Operator(s.Sandbox)
	orig := mustCreateRole(t, c, map[string]any{"name": "Zero"})
	for _, v := range []int{0, -1} {
		c.Fails(t, "BAD_USER_INPUT", "input.expectedVersion", updateRoleQ, map[string]any{"in": map[string]any{"id": orig.ID, "name": "Changed", "expectedVersion": v}})
	}
	if got := getRole(t, c, orig.ID); got.Name != "Zero" || got.Version != 1 {
		t.Fatalf("updates with expectedVersion 0 / -1 changed the role: %+v", got)
	}
}

func TestRoleDeleteRefusedWhileDefault(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	c := s.Operator(s.Sandbox)
	patient := createRole(t, c, "Patient")
	sso := createRole(t, c, "SSO staff")
	const update = `mutation($in: UpdateProjectInput!) { updateProject(input: $in) { project { id } } }`
	c.MustDo(t, update, map[string]any{"in": map[string]any{"defaultPatientRoleId": patient, "defaultSSOUserRoleId": sso}}, nil)

	r := c.Fails(t, "CONFLICT", "", deleteRoleQ, map[string]any{"id": patient})
	expectError(t, r, "CONFLICT", "Patient", "default patient role", "defaultPatientRoleId")
	r = c.Fails(t, "CONFLICT", "", deleteRoleQ, map[string]any{"id": sso})
	expectError(t, r, "CONFLICT", "SSO staff", "default SSO user role", "defaultSSOUserRoleId")
	if names := roleNames(listRoles(t, c)); len(names) != 2 {
		t.Fatalf("refused deletes removed roles: %q", names)
	}

	// Clear one default: that role can go, the other still cannot.
	c.MustDo(t, update, map[string]any{"in": map[string]any{"defaultPatientRoleId": nil}}, nil)
	c.MustDo(t, deleteRoleQ, map[string]any{"id": patient}, nil)
	c.Fails(t, "CONFLICT", "", deleteRoleQ, map[string]any{"id": sso})

	// Point the SSO default at another role: the old one is free.
	other := createRole(t, c, "Other")
	c.MustDo(t, update, map[string]any{"in": map[string]any{"defaultSSOUserRoleId": other}}, nil)
	c.MustDo(t, deleteRoleQ, map[string]any{"id": sso}, nil)
	c.Fails(t, "CONFLICT", "", deleteRoleQ, map[string]any{"id": other})

	var p struct{ Project project }
	c.MustDo(t, `{ project { `+projectFields+` } }`, nil, &p)
	if p.Project.DefaultPatientRole != nil || p.Project.DefaultSSOUserRole == nil || p.Project.DefaultSSOUserRole.ID != other {
		t.Fatalf("project defaults: %+v", p.Project)
	}
}
