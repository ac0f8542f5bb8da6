package api_test

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"atrium/atriumtest"
	"atrium/client"
)

const userFields = `id name email profile status version
	accessPolicy { rule { resource action effect } } roles { id name }`

type managedUser struct {
	ID, Name, Email, Profile, Status string
	Version                          int
	AccessPolicy                     *struct {
		Rule []struct {
			Resource, Action []string
			Effect           string
		}
	}
	Roles []struct{ ID, Name string }
}

func getManagedUser(t *testing.T, c *atriumtest.Client, id string) managedUser {
	t.Helper()
	var out struct{ User managedUser }
	c.MustDo(t, `query($id: ID!) { user(id: $id) { `+userFields+` } }`, map[string]any{"id": id}, &out)
	return out.User
}

func roleNamesOf(u managedUser) []string {
	names := make([]string, len(u.Roles))
	for i, r := range u.Roles {
		names[i] = r.Name
	}
	sort.Strings(names)
	return names
}

const updateUserMutation = `mutation($in: UpdateUserInput!) { updateUser(input: $in) { user { ` + userFields + ` } } }`

func TestUpdateUser(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	op := s.Operator(s.Sandbox)
	app := createApplication(t, op, "Portal")
	staff := createRole(t, op, "Staff")
	nurse := createRole(t, op, "Nurse")
	doctor := createRole(t, op, "Doctor")
	id := atriumtest.Invite(t, op, client.InviteUserInput{Email: ptr("edit@example.com"), ApplicationId: app, Roles: []string{staff}}).UserID
	other := s.CreateProject(t, "Other")
	foreignRole := createRole(t, s.Operator(other), "Foreign")
	foreignApp := createApplication(t, s.Operator(other), "Foreign portal")
	atriumtest.Invite(t, s.Operator(other), client.InviteUserInput{Email: ptr("foreign@example.com"), ApplicationId: foreignApp, Roles: []string{foreignRole}})
	var foreignUsers struct {
		Users struct {
			Edges []struct{ Node struct{ Profile string } }
		}
	}
	s.Operator(other).MustDo(t, `{ users { edges { node { profile } } } }`, nil, &foreignUsers)
	foreignProfile := foreignUsers.Users.Edges[0].Node.Profile

	var out struct{ UpdateUser struct{ User managedUser } }
	// Name only: the rest stays.
	op.MustDo(t, updateUserMutation, map[string]any{"in": map[string]any{"id": id, "name": "  Edith Editor "}}, &out)
	u := out.UpdateUser.User
	if u.Name != "Edith Editor" || u.Email != "edit@example.com" || u.Version != 2 || !reflect.DeepEqual(roleNamesOf(u), []string{"Staff"}) || u.AccessPolicy != nil {
		t.Fatalf("after renaming: %+v", u)
	}
	// Roles replace the whole set (duplicates collapse).
	op.MustDo(t, updateUserMutation, map[string]any{"in": map[string]any{"id": id, "roles": []string{nurse, doctor, nurse}}}, &out)
	if u = out.UpdateUser.User; !reflect.DeepEqual(roleNamesOf(u), []string{"Doctor", "Nurse"}) || u.Version != 3 || u.Name != "Edith Editor" {
		t.Fatalf("after replacing roles: %+v", u)
	}
	if got := getManagedUser(t, op, id); !reflect.DeepEqual(roleNamesOf(got), []string{"Doctor", "Nurse"}) {
		t.Fatalf("stored roles: %+v", got.Roles)
	}

	unchanged := func(t *testing.T, want managedUser) {
		t.Helper()
		if got := getManagedUser(t, op, id); !reflect.DeepEqual(got, want) {
			t.Fatalf("a refused update changed the user:\n got %+v\nwant %+v", got, want)
		}
	}
	for _, tc := range []struct {
		name, code, field string
		in                map[string]any
	}{
		{"no roles and no policy", "BAD_USER_INPUT", "input.roles", map[string]any{"roles": []string{}}},
		{"null roles and no policy", "BAD_USER_INPUT", "input.roles", map[string]any{"roles": nil}},
		{"role of another project", "NOT_FOUND", "input.roles[1]", map[string]any{"roles": []string{staff, foreignRole}}},
		{"unknown role", "NOT_FOUND", "input.roles[0]", map[string]any{"roles": []string{"no-such-role"}}},
		{"stale version", "CONFLICT", "", map[string]any{"name": "Stale", "expectedVersion": 2}},
		{"null profile", "BAD_USER_INPUT", "input.profile", map[string]any{"profile": nil}},
		{"malformed profile", "BAD_USER_INPUT", "input.profile", map[string]any{"profile": "Observation/123"}},
		{"profile of another project", "NOT_FOUND", "input.profile", map[string]any{"profile": foreignProfile}},
		{"null name", "BAD_USER_INPUT", "input.name", map[string]any{"name": nil}},
		{"empty name", "BAD_USER_INPUT", "input.name", map[string]any{"name": "   "}},
		{"invalid policy", "BAD_USER_INPUT", "", map[string]any{"accessPolicy": atriumtest.Policy(atriumtest.Allow("Nope", "Nope"))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := getManagedUser(t, op, id)
			in := map[string]any{"id": id}
			for k, v := range tc.in {
				in[k] = v
			}
			op.Fails(t, tc.code, tc.field, updateUserMutation, map[string]any{"in": in})
			unchanged(t, before)
		})
	}

	// With an inline policy the roles may go; then the policy may not.
	op.MustDo(t, updateUserMutation, map[string]any{"in": map[string]any{
		"id": id, "roles": []string{}, "accessPolicy": atriumtest.Policy(atriumtest.Allow("Project:Settings", "Project:GetProjectInfo")), "expectedVersion": 3,
	}}, &out)
	if u = out.UpdateUser.User; len(u.Roles) != 0 || u.AccessPolicy == nil || len(u.AccessPolicy.Rule) != 1 || u.Version != 4 {
		t.Fatalf("policy instead of roles: %+v", u)
	}
	t.Run("null policy without roles", func(t *testing.T) {
		before := getManagedUser(t, op, id)
		op.Fails(t, "BAD_USER_INPUT", "", updateUserMutation, map[string]any{"in": map[string]any{"id": id, "accessPolicy": nil}})
		unchanged(t, before)
	})
	// Roles and policy together, then the policy removed: fine.
	op.MustDo(t, updateUserMutation, map[string]any{"in": map[string]any{"id": id, "roles": []string{staff}}}, &out)
	op.MustDo(t, updateUserMutation, map[string]any{"in": map[string]any{"id": id, "accessPolicy": nil}}, &out)
	if u = out.UpdateUser.User; u.AccessPolicy != nil || !reflect.DeepEqual(roleNamesOf(u), []string{"Staff"}) {
		t.Fatalf("policy removed: %+v", u)
	}

	// Profile: another existing profile of this project.
	otherID := atriumtest.Invite(t, op, client.InviteUserInput{Email: ptr("holder@example.com"), ApplicationId: app, Roles: []string{staff}}).UserID
	holder := getManagedUser(t, op, otherID)
	op.MustDo(t, updateUserMutation, map[string]any{"in": map[string]any{"id": id, "profile": holder.Profile}}, &out)
	if out.UpdateUser.User.Profile != holder.Profile {
		t.Fatalf("profile: %+v", out.UpdateUser.User)
	}
	op.Fails(t, "NOT_FOUND", "input.id", updateUserMutation, map[string]any{"in": map[string]any{"id": "no-such-user", "name": "x"}})
}

func TestDeleteUser(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	op := s.Operator(s.Sandbox)
	app := createApplication(t, op, "Portal")
	staff := createRole(t, op, "Staff")
	id := atriumtest.Invite(t, op, client.InviteUserInput{Email: ptr("gone@example.com"), ApplicationId: app, Roles: []string{staff}}).UserID
	keep := atriumtest.Invite(t, op, client.InviteUserInput{Email: ptr("kept@example.com"), ApplicationId: app, Roles: []string{staff}}).UserID
	u := getManagedUser(t, op, id)

	var del struct {
		DeleteUser struct{ DeletedUserID string }
	}
	op.MustDo(t, `mutation($id: ID!) { deleteUser(input: {id: $id}) { deletedUserId } }`, map[string]any{"id": id}, &del)
	if del.DeleteUser.DeletedUserID != id {
		t.Fatalf("deleteUser: %+v", del)
	}
	op.Fails(t, "NOT_FOUND", "id", `query($id: ID!) { user(id: $id) { id } }`, map[string]any{"id": id})
	op.Fails(t, "NOT_FOUND", "input.id", `mutation($id: ID!) { deleteUser(input: {id: $id}) { deletedUserId } }`, map[string]any{"id": id})
	op.Fails(t, "NOT_FOUND", "input.id", updateUserMutation, map[string]any{"in": map[string]any{"id": id, "name": "Back"}})
	var list struct {
		Users struct {
			TotalCount int
			Edges      []struct{ Node struct{ ID string } }
		}
	}
	op.MustDo(t, `{ users { totalCount edges { node { id } } } }`, nil, &list)
	if list.Users.TotalCount != 1 || list.Users.Edges[0].Node.ID != keep {
		t.Fatalf("users after delete: %+v", list)
	}
	var role struct{ Role struct{ MemberCount int } }
	op.MustDo(t, `query($id: ID!) { role(id: $id) { memberCount } }`, map[string]any{"id": staff}, &role)
	if role.Role.MemberCount != 1 {
		t.Fatalf("memberCount after delete: %d", role.Role.MemberCount)
	}
	// The email is free again.
	atriumtest.Invite(t, op, client.InviteUserInput{Email: ptr("gone@example.com"), ApplicationId: app, Roles: []string{staff}, Profile: ptr(u.Profile)})

	// The FHIR profile stays: it is clinical data.
	profileID, ok := strings.CutPrefix(u.Profile, "Practitioner/")
	if !ok {
		t.Fatalf("profile %q", u.Profile)
	}
	if p, err := s.DB.Tenant(s.Sandbox).Profiles().Get(context.Background(), profileID); err != nil || p.ResourceType != "Practitioner" {
		t.Fatalf("profile of the deleted user: %+v, %v", p, err)
	}
}

// A profile left behind by a deleted user is clinical data: registering or
// inviting the same email again must not overwrite it.
func TestDeletedUsersProfileIsNotOverwritten(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	op := s.Operator(s.Sandbox)
	app := createApplication(t, op, "Portal")
	staff := createRole(t, op, "Staff")
	op.MustDo(t, `mutation($r: ID!) { updateProject(input: {signupEnabled: true, defaultPatientRoleId: $r}) { project { id } } }`,
		map[string]any{"r": staff}, nil)
	inv := invite(t, op, app, staff, "recycled@example.com") // Practitioner, family Snow
	old := getManagedUser(t, op, inv.UserID)
	profileID, ok := strings.CutPrefix(old.Profile, "Practitioner/")
	if !ok {
		t.Fatalf("profile %q", old.Profile)
	}
	op.MustDo(t, `mutation($id: ID!) { deleteUser(input: {id: $id}) { deletedUserId } }`, map[string]any{"id": inv.UserID}, nil)

	var up signUpResult
	s.Client("", "").MustDo(t, signUpMutation, map[string]any{"in": map[string]any{
		"applicationId": app, "email": "recycled@example.com", "password": testPassword,
		"resource": map[string]any{"resourceType": "Patient", "name": []any{map[string]any{"family": "Stranger"}}},
	}}, &up)
	p, err := s.DB.Tenant(s.Sandbox).Profiles().Get(context.Background(), profileID)
	if err != nil {
		t.Fatalf("the deleted user's profile is gone: %v", err)
	}
	if p.ResourceType != "Practitioner" || !strings.Contains(fmt.Sprint(p.Resource["name"]), "Snow") || up.SignUp.User.Profile == old.Profile {
		t.Fatalf("BUG: signing up with the email of a deleted user rewrote the deleted user's profile %s: it is now a %s "+
			"(name %v) under the same id, and the new user's profile is %s. service/profile.go newProfile derives the "+
			"profile id from project+email only and putProfile replaces the resource (even its resourceType) of any "+
			"existing profile with that id; its comment calls reuse after a deletion intended, but DeleteUser promises "+
			"the profile stays as clinical data, and Practitioner/<id> no longer resolves. Only reuse a leftover of a "+
			"failed attempt of the same resourceType and not referenced by anyone (or derive a fresh id)",
			old.Profile, p.ResourceType, p.Resource["name"], up.SignUp.User.Profile)
	}
}

func TestDisableEnableUser(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	op := s.Operator(s.Sandbox)
	app := createApplication(t, op, "Portal")
	staff := createRole(t, op, "Staff")
	active := invite(t, op, app, staff, "active@example.com")
	s.Accept(t, active.Ticket, testPassword)
	invited := invite(t, op, app, staff, "invited@example.com")

	const disable = `mutation($id: ID!) { disableUser(input: {id: $id}) { user { id status } } }`
	const enable = `mutation($id: ID!) { enableUser(input: {id: $id}) { user { id status } } }`
	var out struct {
		DisableUser, EnableUser struct{ User struct{ ID, Status string } }
	}
	op.MustDo(t, disable, map[string]any{"id": active.UserID}, &out)
	if out.DisableUser.User.Status != "DISABLED" || getManagedUser(t, op, active.UserID).Status != "DISABLED" {
		t.Fatalf("disable: %+v", out)
	}
	op.MustDo(t, enable, map[string]any{"id": active.UserID}, &out)
	if out.EnableUser.User.Status != "ACTIVE" || getManagedUser(t, op, active.UserID).Status != "ACTIVE" {
		t.Fatalf("enable: %+v", out)
	}

	before := getManagedUser(t, op, invited.UserID)
	op.Fails(t, "CONFLICT", "", disable, map[string]any{"id": invited.UserID})
	op.Fails(t, "CONFLICT", "", enable, map[string]any{"id": invited.UserID})
	if after := getManagedUser(t, op, invited.UserID); !reflect.DeepEqual(after, before) || after.Status != "INVITED" {
		t.Fatalf("refused disable/enable changed the invited user: %+v -> %+v", before, after)
	}
	// The invitation still works.
	s.Accept(t, invited.Ticket, testPassword)

	op.Fails(t, "NOT_FOUND", "input.id", disable, map[string]any{"id": "no-such-user"})
	op.Fails(t, "NOT_FOUND", "input.id", enable, map[string]any{"id": "no-such-user"})
}

// memberCount counts holders, and a held role cannot be deleted.
func TestRoleMemberCountAndDeleteWhileHeld(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	op := s.Operator(s.Sandbox)
	app := createApplication(t, op, "Portal")
	held := createRole(t, op, "Held")
	spare := createRole(t, op, "Spare")
	a := atriumtest.Invite(t, op, client.InviteUserInput{Email: ptr("a@example.com"), ApplicationId: app, Roles: []string{held}}).UserID
	b := atriumtest.Invite(t, op, client.InviteUserInput{Email: ptr("b@example.com"), ApplicationId: app, Roles: []string{held, spare}}).UserID

	count := func(id string) int {
		t.Helper()
		var out struct{ Role struct{ MemberCount int } }
		op.MustDo(t, `query($id: ID!) { role(id: $id) { memberCount } }`, map[string]any{"id": id}, &out)
		return out.Role.MemberCount
	}
	if n, m := count(held), count(spare); n != 2 || m != 1 {
		t.Fatalf("memberCount: held %d (want 2), spare %d (want 1)", n, m)
	}
	var roles struct {
		Roles []struct {
			Name        string
			MemberCount int
		}
	}
	op.MustDo(t, `{ roles { name memberCount } }`, nil, &roles)
	if fmt.Sprint(roles.Roles) != "[{Held 2} {Spare 1}]" {
		t.Fatalf("roles: %+v", roles.Roles)
	}

	const del = `mutation($id: ID!) { deleteRole(input: {id: $id}) { deletedRoleId } }`
	op.Fails(t, "CONFLICT", "", del, map[string]any{"id": held})
	mustUpdateUser(t, op, map[string]any{"id": a, "roles": []string{spare}})
	op.Fails(t, "CONFLICT", "", del, map[string]any{"id": held})
	if n := count(held); n != 1 {
		t.Fatalf("memberCount after one removal: %d", n)
	}
	mustUpdateUser(t, op, map[string]any{"id": b, "roles": []string{spare}})
	if n, m := count(held), count(spare); n != 0 || m != 2 {
		t.Fatalf("memberCount after both removals: held %d, spare %d", n, m)
	}
	op.MustDo(t, del, map[string]any{"id": held}, nil)
	op.Fails(t, "NOT_FOUND", "", `query($id: ID!) { role(id: $id) { id } }`, map[string]any{"id": held})
	if got := roleNamesOf(getManagedUser(t, op, b)); !reflect.DeepEqual(got, []string{"Spare"}) {
		t.Fatalf("roles of b: %v", got)
	}
}

// Ids of another project's users find nothing, and nothing changes there.
func TestUserOperationsStayInTheirProject(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	op := s.Operator(s.Sandbox)
	createApplication(t, op, "Portal")
	staff := createRole(t, op, "Staff")
	other := s.CreateProject(t, "Other")
	otherOp := s.Operator(other)
	otherApp := createApplication(t, otherOp, "Other portal")
	otherRole := createRole(t, otherOp, "Other staff")
	active := invite(t, otherOp, otherApp, otherRole, "active@other.example")
	s.Accept(t, active.Ticket, testPassword)
	invited := invite(t, otherOp, otherApp, otherRole, "invited@other.example")
	before := map[string]managedUser{active.UserID: getManagedUser(t, otherOp, active.UserID), invited.UserID: getManagedUser(t, otherOp, invited.UserID)}

	for _, id := range []string{active.UserID, invited.UserID} {
		vars := map[string]any{"id": id}
		op.Fails(t, "NOT_FOUND", "id", `query($id: ID!) { user(id: $id) { id } }`, vars)
		op.Fails(t, "NOT_FOUND", "input.id", updateUserMutation, map[string]any{"in": map[string]any{"id": id, "name": "Hijacked"}})
		op.Fails(t, "NOT_FOUND", "input.id", updateUserMutation, map[string]any{"in": map[string]any{"id": id, "roles": []string{staff}}})
		op.Fails(t, "NOT_FOUND", "input.id", `mutation($id: ID!) { disableUser(input: {id: $id}) { user { id } } }`, vars)
		op.Fails(t, "NOT_FOUND", "input.id", `mutation($id: ID!) { enableUser(input: {id: $id}) { user { id } } }`, vars)
		op.Fails(t, "NOT_FOUND", "input.id", `mutation($id: ID!) { deleteUser(input: {id: $id}) { deletedUserId } }`, vars)
	}
	var list struct{ Users struct{ TotalCount int } }
	op.MustDo(t, `{ users { totalCount } }`, nil, &list)
	if list.Users.TotalCount != 0 {
		t.Fatalf("the sandbox lists another project's users: %+v", list)
	}
	op.MustDo(t, `query($r: ID!) { users(filter: {roleId: $r}) { totalCount } }`, map[string]any{"r": otherRole}, &list)
	if list.Users.TotalCount != 0 {
		t.Fatalf("the sandbox lists holders of another project's role: %+v", list)
	}
	for id, want := range before {
		if got := getManagedUser(t, otherOp, id); !reflect.DeepEqual(got, want) {
			t.Fatalf("user %s changed from outside its project:\n got %+v\nwant %+v", id, got, want)
		}
	}
	// The active user still signs in.
	s.SignIn(t, otherApp, "active@other.example", testPassword)
}
