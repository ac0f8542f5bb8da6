package api_test

import (
	"testing"

	"atrium/atriumtest"
	"atrium/client"
)

// guardedOp is one guarded operation per kind of guard, run with a user's
// token; vars are filled in by the test.
type guardedOp struct {
	name, query string
	vars        map[string]any
}

func guardedOps(userID, roleID, appID string) []guardedOp {
	return []guardedOp{
		{"project", `{ project { id } }`, nil},
		{"updateProject", `mutation { updateProject(input: {description: "changed by a user"}) { project { id } } }`, nil},
		{"roles", `{ roles { id } }`, nil},
		{"role", `query($id: ID!) { role(id: $id) { id } }`, map[string]any{"id": roleID}},
		{"createRole", `mutation { createRole(input: {name: "Created by a user"}) { role { id } } }`, nil},
		{"applications", `{ applications { id } }`, nil},
		{"application", `query($id: ID!) { application(id: $id) { id } }`, map[string]any{"id": appID}},
		{"createApplication", `mutation { createApplication(input: {name: "By a user", allowedCallbackUrls: []}) { application { id } } }`, nil},
		{"users", `{ users { totalCount } }`, nil},
		{"user", `query($id: ID!) { user(id: $id) { id } }`, map[string]any{"id": userID}},
		{"inviteUser", `mutation($a: ID!, $r: ID!) { inviteUser(input: {email: "friend@example.com", applicationId: $a, roles: [$r], resource: {resourceType: "Patient"}}) { user { id } } }`,
			map[string]any{"a": appID, "r": roleID}},
		{"updateUser", `mutation($id: ID!) { updateUser(input: {id: $id, name: "Renamed by myself"}) { user { id } } }`, map[string]any{"id": userID}},
	}
}

// A user's token acts in the user's project only, with exactly the rights
// its roles give, re-read on every request.
func TestUserTokenConfinedToItsProject(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	op := s.Operator(s.Sandbox)
	app := createApplication(t, op, "Portal")
	reader := atriumtest.CreateRole(t, op, "Reader", atriumtest.Allow("Project:Settings", "Project:GetProjectInfo"))
	admin := createRole(t, op, "Admin") // * / * Allow
	inactive := atriumtest.CreateRoleWith(t, op, client.CreateRoleInput{Name: "Inactive", AccessPolicy: atriumtest.DenyAll()})
	other := s.CreateProject(t, "Other")
	u := s.SignedInUser(t, op, client.InviteUserInput{Email: ptr("reader@example.com"), ApplicationId: app, Roles: []string{reader}}, testPassword)

	var p struct{ Project struct{ ID, Name string } }
	s.Client(u.Token, "").MustDo(t, `{ project { id name } }`, nil, &p)
	if p.Project.ID != s.Sandbox || p.Project.Name != "Sandbox" {
		t.Fatalf("project without header: %+v", p)
	}
	s.Client(u.Token, s.Sandbox).MustDo(t, `{ project { id } }`, nil, &p)
	if p.Project.ID != s.Sandbox {
		t.Fatalf("project with its own header: %+v", p)
	}
	// Naming another project, existing or not, finds nothing.
	s.Client(u.Token, other).Fails(t, "NOT_FOUND", "", `{ project { id } }`, nil)
	s.Client(u.Token, "no-such-project").Fails(t, "NOT_FOUND", "", `{ project { id } }`, nil)
	var ps struct{ Projects []struct{ ID string } }
	s.Client(u.Token, "").MustDo(t, `{ projects { id } }`, nil, &ps)
	if len(ps.Projects) != 1 || ps.Projects[0].ID != s.Sandbox {
		t.Fatalf("projects of a user: %+v", ps)
	}

	// GetProjectInfo only: reading works, changing does not.
	c := s.Client(u.Token, "")
	c.Fails(t, "FORBIDDEN", "", `mutation { updateProject(input: {name: "Mine"}) { project { id } } }`, nil)
	c.Fails(t, "FORBIDDEN", "", `{ users { totalCount } }`, nil)

	// */* Allow, same token: it may now change the project.
	mustUpdateUser(t, op, map[string]any{"id": u.ID, "roles": []string{admin}})
	var up struct {
		UpdateProject struct{ Project struct{ Name string } }
	}
	c.MustDo(t, `mutation { updateProject(input: {name: "Renamed by a user"}) { project { name } } }`, nil, &up)
	if up.UpdateProject.Project.Name != "Renamed by a user" {
		t.Fatalf("updateProject: %+v", up)
	}
	// Even with every right, another project stays out of reach.
	s.Client(u.Token, other).Fails(t, "NOT_FOUND", "", `mutation { updateProject(input: {name: "Hijacked"}) { project { id } } }`, nil)
	var otherProject struct{ Project struct{ Name string } }
	s.Operator(other).MustDo(t, `{ project { name } }`, nil, &otherProject)
	if otherProject.Project.Name != "Other" {
		t.Fatalf("the other project changed: %+v", otherProject)
	}

	// Adding a deny-all role switches every guarded operation off at once;
	// me still works.
	var before struct {
		Roles        []struct{ ID string }
		Applications []struct{ ID string }
		Users        struct{ TotalCount int }
	}
	op.MustDo(t, `{ roles { id } applications { id } users { totalCount } }`, nil, &before)
	mustUpdateUser(t, op, map[string]any{"id": u.ID, "roles": []string{admin, inactive}})
	for _, g := range guardedOps(u.ID, reader, app) {
		t.Run("inactive/"+g.name, func(t *testing.T) {
			c.Fails(t, "FORBIDDEN", "", g.query, g.vars)
		})
	}
	var me struct {
		Me struct {
			ID    string
			Roles []struct{ Name string }
		}
	}
	c.MustDo(t, `{ me { id roles { name } } }`, nil, &me)
	if me.Me.ID != u.ID || len(me.Me.Roles) != 2 {
		t.Fatalf("me of an inactive user: %+v", me)
	}
	var after struct {
		Roles        []struct{ ID string }
		Applications []struct{ ID string }
		Users        struct{ TotalCount int }
		User         struct{ Name string }
		Project      struct{ Description string }
	}
	op.MustDo(t, `query($id: ID!) { roles { id } applications { id } users { totalCount } user(id: $id) { name } project { description } }`,
		map[string]any{"id": u.ID}, &after)
	if len(after.Roles) != len(before.Roles) || len(after.Applications) != len(before.Applications) ||
		after.Users.TotalCount != before.Users.TotalCount || after.User.Name != u.Email || after.Project.Description == "changed by a user" {
		t.Fatalf("a refused operation changed something: before %+v, after %+v", before, after)
	}

	// Taking the role away switches the user back on, same token.
	mustUpdateUser(t, op, map[string]any{"id": u.ID, "roles": []string{admin}})
	c.MustDo(t, `{ roles { id } }`, nil, nil)
}

// Disabling a user stops its token at once; enabling restores it; deleting
// the user ends it for good.
func TestUserTokenFollowsUserStatus(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	op := s.Operator(s.Sandbox)
	app := createApplication(t, op, "Portal")
	u := s.SignedInUser(t, op, client.InviteUserInput{Email: ptr("status@example.com"), ApplicationId: app, Roles: []string{createRole(t, op, "Admin")}}, testPassword)
	c := s.Client(u.Token, "")
	c.MustDo(t, `{ project { id } me { id } }`, nil, nil)

	op.MustDo(t, `mutation($id: ID!) { disableUser(input: {id: $id}) { user { id } } }`, map[string]any{"id": u.ID}, nil)
	c.Fails(t, "UNAUTHENTICATED", "", `{ project { id } }`, nil)
	c.Fails(t, "UNAUTHENTICATED", "", `{ users { totalCount } }`, nil)
	c.Fails(t, "UNAUTHENTICATED", "", `mutation { updateProject(input: {name: "Disabled but trying"}) { project { id } } }`, nil)
	c.Fails(t, "UNAUTHENTICATED", "", `{ me { id } }`, nil)
	t.Run("projects of a disabled user", func(t *testing.T) {
		r := c.Do(t, `{ projects { id name } }`, nil)
		if r.Code() != "UNAUTHENTICATED" {
			t.Fatalf("BUG: a disabled user's token still lists its project through `projects` (got %s %+v): "+
				"service/project.go Projects only checks the token (principal), not that the user is still active; "+
				"call s.activeUser for auth.User principals", r.Data, r.Errors)
		}
	})

	op.MustDo(t, `mutation($id: ID!) { enableUser(input: {id: $id}) { user { id } } }`, map[string]any{"id": u.ID}, nil)
	c.MustDo(t, `{ project { id } me { id } }`, nil, nil)

	op.MustDo(t, `mutation($id: ID!) { deleteUser(input: {id: $id}) { deletedUserId } }`, map[string]any{"id": u.ID}, nil)
	c.Fails(t, "UNAUTHENTICATED", "", `{ me { id } }`, nil)
	c.Fails(t, "UNAUTHENTICATED", "", `{ project { id } }`, nil)
	c.Fails(t, "UNAUTHENTICATED", "", `mutation { createRole(input: {name: "Ghost"}) { role { id } } }`, nil)
	t.Run("projects of a deleted user", func(t *testing.T) {
		r := c.Do(t, `{ projects { id name } }`, nil)
		if r.Code() != "UNAUTHENTICATED" {
			t.Fatalf("BUG: a deleted user's token still lists its project through `projects` (got %s %+v): "+
				"service/project.go Projects only checks the token, not that the user still exists", r.Data, r.Errors)
		}
	})
}

func TestMeIsForUsersOnly(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	s.Operator(s.Sandbox).Fails(t, "FORBIDDEN", "", `{ me { id } }`, nil)
	s.Operator("").Fails(t, "FORBIDDEN", "", `{ me { id } }`, nil)
	s.Client("", "").Fails(t, "UNAUTHENTICATED", "", `{ me { id } }`, nil)
	s.Client("not-a-token", "").Fails(t, "UNAUTHENTICATED", "", `{ me { id } }`, nil)
}

// A policy naming one user grants that user only.
func TestUserMayReadOnlyTheUserItsPolicyNames(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	op := s.Operator(s.Sandbox)
	app := createApplication(t, op, "Portal")
	staff := createRole(t, op, "Staff")
	otherID := atriumtest.Invite(t, op, client.InviteUserInput{Email: ptr("other@example.com"), ApplicationId: app, Roles: []string{staff}}).UserID
	// The policy names the user's own id, known only after the invitation.
	inv := atriumtest.Invite(t, op, client.InviteUserInput{Email: ptr("self@example.com"), ApplicationId: app, AccessPolicy: atriumtest.Policy(atriumtest.Allow("Project:Settings", "Project:GetProjectInfo"))})
	id, ticket := inv.UserID, inv.Ticket
	mustUpdateUser(t, op, map[string]any{"id": id, "accessPolicy": atriumtest.Policy(atriumtest.Allow("App:User:"+id, "App:GetUser"))})
	s.Accept(t, ticket, testPassword)
	c := s.Client(s.SignIn(t, app, "self@example.com", testPassword), "")

	var own struct{ User struct{ ID, Email string } }
	c.MustDo(t, `query($id: ID!) { user(id: $id) { id email } }`, map[string]any{"id": id}, &own)
	if own.User.ID != id || own.User.Email != "self@example.com" {
		t.Fatalf("own user: %+v", own)
	}
	c.Fails(t, "FORBIDDEN", "", `query($id: ID!) { user(id: $id) { id } }`, map[string]any{"id": otherID})
	// An unknown id is refused the same way: no existence oracle.
	c.Fails(t, "FORBIDDEN", "", `query($id: ID!) { user(id: $id) { id } }`, map[string]any{"id": "no-such-user"})
	c.Fails(t, "FORBIDDEN", "", `{ users { totalCount } }`, nil)
	c.Fails(t, "FORBIDDEN", "", `{ project { id } }`, nil)
	c.Fails(t, "FORBIDDEN", "", `mutation($id: ID!) { updateUser(input: {id: $id, name: "Me"}) { user { id } } }`, map[string]any{"id": id})
}

// The effective policy is the union of the roles' policies and the inline
// policy, and a Deny in either beats an Allow in the other.
func TestUserInlinePolicyMergesWithRoles(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	op := s.Operator(s.Sandbox)
	app := createApplication(t, op, "Portal")
	reader := atriumtest.CreateRole(t, op, "Reader", atriumtest.Allow("Project:Settings", "Project:GetProjectInfo"))
	u := s.SignedInUser(t, op, client.InviteUserInput{Email: ptr("merged@example.com"), ApplicationId: app, Roles: []string{reader}, AccessPolicy: atriumtest.Policy(atriumtest.Allow("IAM:Role", "IAM:ListAllRoles"))}, testPassword)
	c := s.Client(u.Token, "")

	var both struct {
		Project struct{ ID string }
		Roles   []struct{ Name string }
	}
	c.MustDo(t, `{ project { id } roles { name } }`, nil, &both)
	if both.Project.ID != s.Sandbox || len(both.Roles) != 1 || both.Roles[0].Name != "Reader" {
		t.Fatalf("project and roles: %+v", both)
	}
	c.Fails(t, "FORBIDDEN", "", `{ applications { id } }`, nil)
	c.Fails(t, "FORBIDDEN", "", `mutation { updateProject(input: {name: "x"}) { project { id } } }`, nil)

	// users accepts App:ListAllUsers on App:User instead of
	// Project:ListAllUsers on Project:Settings.
	c.Fails(t, "FORBIDDEN", "", `{ users { totalCount } }`, nil)
	mustUpdateUser(t, op, map[string]any{"id": u.ID, "accessPolicy": atriumtest.Policy(
		atriumtest.Allow("IAM:Role", "IAM:ListAllRoles"), atriumtest.Allow("App:User", "App:ListAllUsers"))})
	var list struct{ Users struct{ TotalCount int } }
	c.MustDo(t, `{ users { totalCount } }`, nil, &list)
	if list.Users.TotalCount != 1 {
		t.Fatalf("users: %+v", list)
	}

	// An inline Deny beats the role's Allow, and only for what it names.
	mustUpdateUser(t, op, map[string]any{"id": u.ID, "accessPolicy": atriumtest.Policy(
		atriumtest.Allow("IAM:Role", "IAM:ListAllRoles"), atriumtest.Rule(client.EffectDeny, []string{"Project:Settings"}, "Project:GetProjectInfo"))})
	c.Fails(t, "FORBIDDEN", "", `{ project { id } }`, nil)
	c.MustDo(t, `{ roles { name } }`, nil, nil)

	// Removing the inline policy leaves the role's rights.
	mustUpdateUser(t, op, map[string]any{"id": u.ID, "accessPolicy": nil})
	c.MustDo(t, `{ project { id } }`, nil, nil)
	c.Fails(t, "FORBIDDEN", "", `{ roles { name } }`, nil)
}
