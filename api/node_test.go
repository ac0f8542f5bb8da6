package api_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"atrium/atriumtest"
	"atrium/client"
)

// Every entity's globalId refetches it through node(id:) and nodes(ids:),
// as its own type; a string that is not a global id, a type without a
// node, and an entity of another project are NOT_FOUND alike.
func TestNodeRefetchesEveryType(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	op := s.Operator(s.Sandbox)
	app := createApplication(t, op, "Portal")
	role := createRole(t, op, "Staff")
	inv := atriumtest.Invite(t, op, client.InviteUserInput{Email: ptr("node@example.com"), ApplicationId: app, Roles: []string{role}})
	dev, err := client.InviteDeveloper(t.Context(), op, client.InviteDeveloperInput{Email: "node-dev@example.com", Roles: []string{role}})
	atriumtest.Must(t, err)
	m2m, err := client.CreateM2MClient(t.Context(), op, client.CreateM2MClientInput{Name: "Node backend", Roles: []string{role}})
	atriumtest.Must(t, err)

	var g struct {
		Project     struct{ ID, GlobalID string }
		Role        struct{ ID, GlobalID string }
		Application struct{ ID, GlobalID string }
		User        struct{ ID, GlobalID string }
		Developer   struct{ ID, GlobalID string }
		M2mClient   struct{ ID, GlobalID string }
	}
	op.MustDo(t, `query($r: ID!, $a: ID!, $u: ID!, $d: ID!, $m: ID!) {
		project { id globalId } role(id: $r) { id globalId } application(id: $a) { id globalId }
		user(id: $u) { id globalId } developer(id: $d) { id globalId } m2mClient(id: $m) { id globalId } }`,
		map[string]any{"r": role, "a": app, "u": inv.UserID, "d": dev.InviteDeveloper.Developer.Id, "m": m2m.CreateM2MClient.M2mClient.Id}, &g)
	want := []struct{ typ, id, gid string }{
		{"Project", g.Project.ID, g.Project.GlobalID}, {"Role", g.Role.ID, g.Role.GlobalID},
		{"Application", g.Application.ID, g.Application.GlobalID}, {"User", g.User.ID, g.User.GlobalID},
		{"Developer", g.Developer.ID, g.Developer.GlobalID}, {"M2MClient", g.M2mClient.ID, g.M2mClient.GlobalID},
	}
	var ids []string
	for _, w := range want {
		// Documented: unpadded base64url of "<type>:<id>".
		if raw, err := base64.RawURLEncoding.DecodeString(w.gid); err != nil || string(raw) != w.typ+":"+w.id {
			t.Errorf("%s %s: globalId %q decodes to %q (%v)", w.typ, w.id, w.gid, raw, err)
		}
		var out struct {
			Node struct {
				Typename string `json:"__typename"`
				GlobalID string
				ID       string `json:"id"`
			}
		}
		op.MustDo(t, `query($id: ID!) { node(id: $id) { __typename globalId ... on Role { id } ... on User { id } ... on Project { id }
			... on Application { id } ... on Developer { id } ... on M2MClient { id } } }`, map[string]any{"id": w.gid}, &out)
		if out.Node.Typename != w.typ || out.Node.ID != w.id || out.Node.GlobalID != w.gid {
			t.Errorf("node(%s) = %+v, want the %s %s", w.gid, out.Node, w.typ, w.id)
		}
		ids = append(ids, w.gid)
	}

	other := s.CreateProject(t, "Elsewhere")
	otherRole := createRole(t, s.Operator(other), "Elsewhere staff")
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	bad := []string{
		enc("Role:" + otherRole),                       // another project's role
		enc("Project:" + other),                        // another project
		"not a global id!",                             // not base64url
		enc("AuditEvent:" + role),                      // a type without a node
		enc("Role"),                                    // no id
		enc("Role:" + role + "-nope"),                  // no such role
		enc("User:" + g.Role.ID),                       // the right id, the wrong type
		strings.TrimRight(g.Role.GlobalID, "=") + "==", // padded
	}
	for _, id := range bad {
		r := op.Do(t, `query($id: ID!) { node(id: $id) { globalId } }`, map[string]any{"id": id})
		expectError(t, r, "NOT_FOUND", "node")
		if r.Errors[0].Extensions.Field != "id" || string(r.Data) != `{"node":null}` {
			t.Errorf("node(%q): field %q, data %s", id, r.Errors[0].Extensions.Field, r.Data)
		}
		if strings.Contains(string(r.Raw), otherRole) || strings.Contains(string(r.Raw), other) {
			t.Errorf("node(%q) names the other project's entity: %s", id, r.Raw)
		}
	}

	// nodes: in order, each refused one null with its error at its index.
	all := append(append([]string{}, ids[:3]...), bad[0], ids[3], bad[2])
	r := op.Do(t, `query($ids: [ID!]!) { nodes(ids: $ids) { __typename globalId } }`, map[string]any{"ids": all})
	var out struct {
		Nodes []*struct{ GlobalID string }
	}
	if err := json.Unmarshal(r.Data, &out); err != nil || len(out.Nodes) != len(all) {
		t.Fatalf("nodes: %s (%v)", r.Raw, err)
	}
	for i, n := range out.Nodes {
		refused := i == 3 || i == 5
		if refused != (n == nil) || (n != nil && n.GlobalID != all[i]) {
			t.Errorf("nodes[%d] = %+v for %q", i, n, all[i])
		}
	}
	if len(r.Errors) != 2 {
		t.Fatalf("nodes: want 2 errors, got %s", r.Raw)
	}
	for j, i := range []int{3, 5} {
		e := r.Errors[j]
		if e.Extensions.Code != "NOT_FOUND" || e.Extensions.Field != fmt.Sprintf("ids[%d]", i) || fmt.Sprint(e.Path) != fmt.Sprintf("[nodes %d]", i) {
			t.Errorf("nodes error %d: %+v", j, e)
		}
	}

	// At most 100 ids.
	many := make([]string, 101)
	for i := range many {
		many[i] = ids[1]
	}
	op.Fails(t, "BAD_USER_INPUT", "ids", `query($ids: [ID!]!) { nodes(ids: $ids) { globalId } }`, map[string]any{"ids": many})
	if r := op.Do(t, `query($ids: [ID!]!) { nodes(ids: $ids) { globalId } }`, map[string]any{"ids": many[:100]}); len(r.Errors) != 0 {
		t.Errorf("100 ids: %s", r.Raw)
	}
	s.Client("", s.Sandbox).Fails(t, "UNAUTHENTICATED", "", `query($id: ID!) { node(id: $id) { globalId } }`, map[string]any{"id": ids[1]})
}

// node(id:) is guarded exactly like the field of the entity's type: a user
// allowed to read users but not roles reads a user by node and is refused
// a role by node, with the same code the typed field gives.
func TestNodeIsGuardedLikeItsTypedField(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	op := s.Operator(s.Sandbox)
	app := createApplication(t, op, "Portal")
	role := createRole(t, op, "Staff")
	u := s.SignedInUser(t, op, client.InviteUserInput{Email: ptr("reader@example.com"), ApplicationId: app,
		AccessPolicy: atriumtest.Policy(atriumtest.Allow("App:User", "App:GetUser"))}, testPassword)
	uc := s.Client(u.Token, "")
	var g struct {
		Role struct{ GlobalID string }
		User struct{ GlobalID string }
	}
	op.MustDo(t, `query($r: ID!, $u: ID!) { role(id: $r) { globalId } user(id: $u) { globalId } }`, map[string]any{"r": role, "u": u.ID}, &g)

	var out struct{ Node struct{ GlobalID string } }
	uc.MustDo(t, `query($id: ID!) { node(id: $id) { globalId } }`, map[string]any{"id": g.User.GlobalID}, &out)
	if out.Node.GlobalID != g.User.GlobalID {
		t.Errorf("node(user) as the user: %+v", out)
	}
	typed := uc.Fails(t, "FORBIDDEN", "", `query($id: ID!) { role(id: $id) { id } }`, map[string]any{"id": role})
	byNode := uc.Fails(t, "FORBIDDEN", "", `query($id: ID!) { node(id: $id) { globalId } }`, map[string]any{"id": g.Role.GlobalID})
	if typed.Errors[0].Message != byNode.Errors[0].Message {
		t.Errorf("role(id) refuses with %q, node(id) with %q", typed.Errors[0].Message, byNode.Errors[0].Message)
	}
}
