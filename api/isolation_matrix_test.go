package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"atrium/atriumtest"
	"atrium/auth"
	"atrium/graph"
)

// TestIsolationMatrix is the proof of tenant isolation: it reads the schema
// by introspection and calls every query and mutation as each principal of
// project A (a user, a developer who is a member of A only, a machine client,
// and the operator with A's header), with arguments synthesised from the
// argument types so that every id names an entity of project B. Every call
// must answer NOT_FOUND (or another refusal) or data of A only, never any of
// B's ids or names, and B must be unchanged afterwards.
//
// The list of operations comes from the introspected schema, not from a hand
// list: an operation the synthesiser cannot build, or whose answer it cannot
// judge, fails the test until it is covered (isoExpect).
func TestIsolationMatrix(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	env := isoSetup(t, s)
	g := isoNewGen(t, env)
	t.Run("judge self-test", func(t *testing.T) { g.selfTest(t) })

	// B as it is before anyone of A touches it.
	before := env.snapshotB(t, g)

	// Queries first, for every principal, so that A's audit trail (which
	// auditEvents lists) holds no refused attempt yet; then mutations.
	principals := env.principals()
	for _, phase := range []string{"query", "mutation"} {
		for _, p := range principals {
			t.Run(phase+"/"+p.name, func(t *testing.T) {
				for _, op := range g.ops {
					if op.root != phase {
						continue
					}
					g.runOp(t, p, op)
				}
			})
		}
	}

	// A token of A with B's project header reaches nothing: every guarded
	// operation answers NOT_FOUND for the project.
	for _, p := range principals[:3] {
		t.Run("foreign-header/"+p.name, func(t *testing.T) {
			g.runForeignHeader(t, p)
		})
	}

	// Coverage: every operation of the schema, for every principal.
	for _, op := range g.ops {
		for _, p := range principals {
			if !g.covered[p.name][op.name] {
				t.Errorf("operation %s.%s is not covered for %s: %v", op.root, op.name, p.name, op.err)
			}
		}
		if op.access == "guard" {
			for _, p := range principals[:3] {
				if !g.coveredForeign[p.name][op.name] {
					t.Errorf("guarded operation %s is not covered with B's header for %s", op.name, p.name)
				}
			}
		}
	}
	for name := range isoExpect {
		if g.byName[name] == nil {
			t.Errorf("isoExpect names %q, which the schema does not have", name)
		}
	}
	for name := range isoFieldBugs {
		if !g.fieldBugSeen[name] {
			t.Errorf("isoFieldBugs lists %s, which now names the right field: remove it", name)
		}
	}
	for _, p := range principals {
		n, calls := 0, 0
		for _, op := range g.ops {
			if g.covered[p.name][op.name] {
				n++
			}
		}
		calls = g.calls[p.name]
		t.Logf("%s: %d of %d operations covered (%d calls)", p.name, n, len(g.ops), calls)
	}

	// B is unchanged (the audit trails first: checkB asks B's machine
	// client for a token, which B's trail records).
	t.Run("audit trails", func(t *testing.T) { env.checkAudit(t) })
	t.Run("B unchanged", func(t *testing.T) {
		after := env.snapshotB(t, g)
		if before != after {
			t.Errorf("B changed during the matrix:\nbefore %s\nafter  %s", before, after)
		}
		env.checkB(t)
	})
	// Developers are above projects: A may invite B's developer by email
	// (a membership of A, same account). That must reveal nothing else of B
	// and must not undo B's pending invitation.
	t.Run("inviting B's developer into A", func(t *testing.T) { env.inviteBDeveloper(t) })
}

// ---------------------------------------------------------------------------
// What the synthesiser needs help with. Everything else is derived from the
// introspected types: ID arguments and input fields name an entity by their
// name (role*, application*, user*, developer*, m2m*; "id" by the
// operation's name), String fields named profile hold B's user's profile
// reference, the email and name fields of a *Filter hold B's email or name,
// and required scalars get plausible values.

type isoCase struct {
	note string
	// slots names the entity of an ID field whose name does not tell it.
	slots map[string]string
	// fill gives values to fields by path (list elements are "[]").
	fill map[string]func(*isoEnv) any
	// exclusive is the path prefix of slots of which only one may be given
	// at a time: their per-slot variants leave the others out.
	exclusive string
	// want overrides the expected answer (ok false: use the generic rule).
	want func(p *isoPrincipal, v *isoVariant) (isoWant, bool)
	// check makes extra checks of a call's answer.
	check func(t *testing.T, where string, v *isoVariant, r *isoResult)
	// operatorSeesAll: the operator legitimately sees every project here.
	operatorSeesAll bool
	// newProject: the answer may name a project that did not exist before.
	newProject bool
}

var isoExpect = map[string]isoCase{
	"projects": {
		note:            "the operator sees every project (B too); every other principal only its own",
		operatorSeesAll: true,
	},
	"auditEvents": {
		note:  "filter.actorId / filter.targetId are ids of any kind: probe with B's user and role",
		slots: map[string]string{"filter.actorId": isoUser, "filter.targetId": isoRole},
	},
	"createProject": {
		note:       "creates a new project (allowed to developers and the operator); it must hold nothing of B",
		newProject: true,
	},
	"inviteUser": {
		note: "an email is needed to reach the reference checks",
		fill: map[string]func(*isoEnv) any{"input.email": (*isoEnv).freshEmail},
	},
	"inviteUsers": {
		note: "rows fail on their own: the call succeeds and each row must be NOT_FOUND",
		fill: map[string]func(*isoEnv) any{"input[].email": (*isoEnv).freshEmail},
		want: func(p *isoPrincipal, v *isoVariant) (isoWant, bool) { return isoWant{}, true },
		check: func(t *testing.T, where string, v *isoVariant, r *isoResult) {
			t.Helper()
			var out struct {
				InviteUsers struct {
					Results []struct {
						User          any
						InvitationURL *string
						Error         *struct{ Code, Field string }
					}
				}
			}
			if err := json.Unmarshal(r.Data, &out); err != nil || len(out.InviteUsers.Results) != 1 {
				t.Errorf("%s: want one result row, got %s (%v)", where, r.Data, err)
				return
			}
			row := out.InviteUsers.Results[0]
			if row.User != nil || row.InvitationURL != nil || row.Error == nil || row.Error.Code != "NOT_FOUND" {
				t.Errorf("%s: want a NOT_FOUND row and no user, got %s", where, r.Data)
				return
			}
			if len(v.bRefs) == 1 {
				if want := isoErrorField(v.bRefs[0]); row.Error.Field != want {
					t.Errorf("%s: row error names field %q, want %q", where, row.Error.Field, want)
				}
			}
		},
	},
	"checkAccess": {
		note:      "exactly one principal id: each of B's ids is tried alone",
		exclusive: "input.principal.",
		want: func(p *isoPrincipal, v *isoVariant) (isoWant, bool) {
			if v.name == "allB" {
				return isoWant{code: "BAD_USER_INPUT", field: "input.principal"}, true
			}
			return isoWant{}, false
		},
	},
	"signIn": {
		note: "public, finds the application in any project: B's user's email with a wrong password must fail as any wrong password",
		fill: map[string]func(*isoEnv) any{"input.email": func(e *isoEnv) any { return e.bVal[isoUser]["email"] }},
		want: isoWantCode("UNAUTHENTICATED"),
	},
	"signUp": {
		note: "public: B does not allow self-registration, so B's application refuses (and creates nothing in B)",
		want: isoWantCode("FORBIDDEN"),
	},
	"acceptInvitation": {
		note: "public: a made-up ticket finds nothing",
		want: isoWantCode("NOT_FOUND"),
	},
	"signInDeveloper": {
		note: "public: B's developer's email with a wrong password must fail as any wrong password",
		fill: map[string]func(*isoEnv) any{"input.email": func(e *isoEnv) any { return e.bVal[isoDev]["email"] }},
		want: isoWantCode("UNAUTHENTICATED"),
	},
}

func isoWantCode(code string) func(*isoPrincipal, *isoVariant) (isoWant, bool) {
	return func(*isoPrincipal, *isoVariant) (isoWant, bool) { return isoWant{code: code}, true }
}

// isoFieldBugs are operations whose NOT_FOUND names another input field than
// the one that holds the unknown id. They are not isolation failures; set
// ATRIUM_RUN_KNOWN_BUGS=1 to make them fail.
// (resendInvitation was one: it named input.id for input.userId; fixed.)
var isoFieldBugs = map[string]string{}

// ---------------------------------------------------------------------------
// The two projects.

const (
	isoRole    = "role"
	isoApp     = "application"
	isoUser    = "user"
	isoDev     = "developer"
	isoM2M     = "m2m"
	isoProfile = "profile"

	isoPassword      = "iso-Correct-Horse-Battery-9"
	isoWrongPassword = "Password-123456"
)

// isoAllowedCodes are the refusals a call with B's ids may answer.
var isoAllowedCodes = map[string]bool{"NOT_FOUND": true, "FORBIDDEN": true, "BAD_USER_INPUT": true, "UNAUTHENTICATED": true, "CONFLICT": true}

type isoPrincipal struct {
	name, kind     string
	token, project string
}

type isoEnv struct {
	s    *atriumtest.Server
	a, b string
	// bVal holds B's values by entity and attribute (id, email, name, profile).
	bVal map[string]map[string]string
	// aVal holds an entity of A (not a principal) per kind, for the
	// references a call needs besides the one under test.
	aVal map[string]string
	// needles are every id and name of B: none may appear in an answer.
	needles map[string]string

	user, dev, m2m isoPrincipal
	bClientID      string
	bSecret        string
	bDevTicket     string
	start          time.Time
	seq            int
}

func (e *isoEnv) freshEmail() any {
	e.seq++
	return fmt.Sprintf("iso-fresh-%d@a.example.com", e.seq)
}

func (e *isoEnv) principals() []*isoPrincipal {
	return []*isoPrincipal{&e.user, &e.dev, &e.m2m, {name: "operator", kind: "OPERATOR", token: atriumtest.AdminSecret, project: e.a}}
}

func isoFullAccess() map[string]any {
	return map[string]any{"rule": []any{map[string]any{"resource": []any{"*"}, "action": []any{"*"}, "effect": "Allow"}}}
}

func isoSetup(t *testing.T, s *atriumtest.Server) *isoEnv {
	t.Helper()
	env := &isoEnv{s: s, a: s.Sandbox, bVal: map[string]map[string]string{}, aVal: map[string]string{}, needles: map[string]string{}}
	op := func(project, q string, vars map[string]any, out any) {
		t.Helper()
		isoMust(t, s, atriumtest.AdminSecret, project, q, vars, out)
	}
	var cp struct {
		CreateProject struct{ Project struct{ ID string } }
	}
	op("", `mutation { createProject(input: {name: "bonly-project-Qx7", description: "bonly-project-description", fhirVersion: R4}) { project { id } } }`, nil, &cp)
	env.b = cp.CreateProject.Project.ID
	b := env.b

	// Every kind of entity in B.
	var role struct {
		CreateRole struct{ Role struct{ ID string } }
	}
	op(b, `mutation($p: AccessPolicyInput) { createRole(input: {name: "bonly-role-Kv3", description: "bonly-role-description", accessPolicy: $p}) { role { id } } }`,
		map[string]any{"p": map[string]any{"rule": []any{map[string]any{"resource": "IAM:Role", "action": "IAM:GetRole", "effect": "Allow"}}}}, &role)
	bRole := role.CreateRole.Role.ID
	var app struct {
		CreateApplication struct{ Application struct{ ID, ClientID string } }
	}
	op(b, `mutation { createApplication(input: {name: "bonly-app-Zt9", description: "bonly-app-description", allowedCallbackUrls: ["https://bonly-callback.example.com/cb"]}) { application { id clientId } } }`, nil, &app)
	bApp := app.CreateApplication.Application
	var inv struct {
		InviteUser struct {
			User          struct{ ID, Profile string }
			InvitationURL string
		}
	}
	op(b, `mutation($in: InviteUserInput!) { inviteUser(input: $in) { user { id profile } invitationUrl } }`, map[string]any{"in": map[string]any{
		"email": "bonly-user-w2@b.example.com", "username": "Bonly Username Pq4", "applicationId": bApp.ID, "roles": []string{bRole},
		"resource": map[string]any{"resourceType": "Practitioner", "name": []any{map[string]any{"family": "Bonlyfamily"}}},
	}}, &inv)
	bUser := inv.InviteUser.User
	isoMust(t, s, "", "", `mutation($t: String!, $p: String!) { acceptInvitation(input: {ticket: $t, password: $p}) { user { id } } }`,
		map[string]any{"t": isoTicketOf(t, inv.InviteUser.InvitationURL), "p": isoPassword}, nil)
	var dev struct {
		InviteDeveloper struct {
			Developer     struct{ ID, Profile string }
			InvitationURL *string
		}
	}
	op(b, `mutation($r: [ID!]) { inviteDeveloper(input: {email: "bonly-dev-m8@b.example.com", roles: $r}) { developer { id profile } invitationUrl } }`,
		map[string]any{"r": []string{bRole}}, &dev)
	bDev := dev.InviteDeveloper.Developer
	if dev.InviteDeveloper.InvitationURL == nil {
		t.Fatal("B's new developer got no invitation link")
	}
	env.bDevTicket = isoTicketOf(t, *dev.InviteDeveloper.InvitationURL)
	var m2m struct {
		CreateM2MClient struct {
			M2mClient struct{ ID, ClientID, Profile string }
		}
	}
	op(b, `mutation($r: [ID!]) { createM2MClient(input: {name: "bonly-m2m-Hd5", description: "bonly-m2m-description", roles: $r}) { m2mClient { id clientId profile } } }`,
		map[string]any{"r": []string{bRole}}, &m2m)
	bM2M := m2m.CreateM2MClient.M2mClient
	// Rotate B's client before the matrix: the secret must still work after.
	var rot struct{ RotateM2MClientSecret struct{ Secret string } }
	op(b, `mutation($id: ID!) { rotateM2MClientSecret(input: {id: $id}) { secret } }`, map[string]any{"id": bM2M.ID}, &rot)
	env.bClientID, env.bSecret = bM2M.ClientID, rot.RotateM2MClientSecret.Secret
	if status, tok := isoClientToken(t, s, env.bClientID, env.bSecret); status != http.StatusOK || tok == "" {
		t.Fatalf("B's machine client gets no token before the matrix: %d", status)
	}

	env.bVal[isoRole] = map[string]string{"id": bRole}
	env.bVal[isoApp] = map[string]string{"id": bApp.ID}
	env.bVal[isoUser] = map[string]string{"id": bUser.ID, "email": "bonly-user-w2@b.example.com", "name": "Bonly Username Pq4"}
	env.bVal[isoDev] = map[string]string{"id": bDev.ID, "email": "bonly-dev-m8@b.example.com"}
	env.bVal[isoM2M] = map[string]string{"id": bM2M.ID, "name": "bonly-m2m-Hd5"}
	env.bVal[isoProfile] = map[string]string{"profile": bUser.Profile}

	// Every id and name of B is a needle, including B's default machine
	// client and every profile.
	add := func(v, what string) {
		if v == "" {
			t.Fatalf("setup: B's %s is empty", what)
		}
		env.needles[v] = what
	}
	add(b, "project id")
	add("bonly-project-Qx7", "project name")
	add("bonly-project-description", "project description")
	add(bRole, "role id")
	add("bonly-role-Kv3", "role name")
	add("bonly-role-description", "role description")
	add(bApp.ID, "application id")
	add(bApp.ClientID, "application clientId")
	add("bonly-app-Zt9", "application name")
	add("bonly-app-description", "application description")
	add("bonly-callback.example.com", "application callback")
	add(bUser.ID, "user id")
	add("bonly-user-w2@b.example.com", "user email")
	add("Bonly Username Pq4", "user name")
	add("Bonlyfamily", "user's profile resource")
	add(isoRefID(bUser.Profile), "user profile")
	add(bDev.ID, "developer id")
	add("bonly-dev-m8@b.example.com", "developer email")
	add(isoRefID(bDev.Profile), "developer profile")
	add(bM2M.ID, "m2m client id")
	add(bM2M.ClientID, "m2m clientId")
	add("bonly-m2m-Hd5", "m2m client name")
	add("bonly-m2m-description", "m2m client description")
	add(isoRefID(bM2M.Profile), "m2m profile")
	var all struct {
		M2mClients struct {
			Edges []struct {
				Node struct{ ID, ClientID, Name, Profile string }
			}
		}
	}
	op(b, `{ m2mClients(first: 100) { edges { node { id clientId name profile } } } }`, nil, &all)
	for _, e := range all.M2mClients.Edges {
		if e.Node.ID != bM2M.ID {
			add(e.Node.ID, "default m2m client id")
			add(e.Node.ClientID, "default m2m clientId")
			add(isoRefID(e.Node.Profile), "default m2m profile")
		}
	}

	// A: targets (entities that are not principals) and the three
	// principals, each with full access so that only isolation can refuse.
	a := env.a
	op(a, `mutation { createRole(input: {name: "iso-a-target-role"}) { role { id } } }`, nil, &role)
	env.aVal[isoRole] = role.CreateRole.Role.ID
	op(a, `mutation { createApplication(input: {name: "iso-a-app", allowedCallbackUrls: []}) { application { id clientId } } }`, nil, &app)
	aApp := app.CreateApplication.Application.ID
	env.aVal[isoApp] = aApp
	op(a, `mutation($in: InviteUserInput!) { inviteUser(input: $in) { user { id profile } invitationUrl } }`, map[string]any{"in": map[string]any{
		"email": "iso-a-target@a.example.com", "applicationId": aApp, "roles": []string{env.aVal[isoRole]}, "resource": map[string]any{"resourceType": "Practitioner"},
	}}, &inv)
	env.aVal[isoUser], env.aVal[isoProfile] = inv.InviteUser.User.ID, inv.InviteUser.User.Profile
	op(a, `mutation($r: [ID!]) { inviteDeveloper(input: {email: "iso-a-target-dev@a.example.com", roles: $r}) { developer { id profile } invitationUrl } }`,
		map[string]any{"r": []string{env.aVal[isoRole]}}, &dev)
	env.aVal[isoDev] = dev.InviteDeveloper.Developer.ID
	op(a, `mutation($r: [ID!]) { createM2MClient(input: {name: "iso-a-target-m2m", roles: $r}) { m2mClient { id clientId profile } } }`,
		map[string]any{"r": []string{env.aVal[isoRole]}}, &m2m)
	env.aVal[isoM2M] = m2m.CreateM2MClient.M2mClient.ID

	// The user of A: invited, accepted, signed in.
	op(a, `mutation($in: InviteUserInput!) { inviteUser(input: $in) { user { id profile } invitationUrl } }`, map[string]any{"in": map[string]any{
		"email": "iso-a-user@a.example.com", "applicationId": aApp, "accessPolicy": isoFullAccess(), "resource": map[string]any{"resourceType": "Practitioner"},
	}}, &inv)
	isoMust(t, s, "", "", `mutation($t: String!, $p: String!) { acceptInvitation(input: {ticket: $t, password: $p}) { user { id } } }`,
		map[string]any{"t": isoTicketOf(t, inv.InviteUser.InvitationURL), "p": isoPassword}, nil)
	var si struct{ SignIn struct{ AccessToken string } }
	isoMust(t, s, "", "", `mutation($a: ID!, $e: String!, $p: String!) { signIn(input: {applicationId: $a, email: $e, password: $p}) { accessToken } }`,
		map[string]any{"a": aApp, "e": "iso-a-user@a.example.com", "p": isoPassword}, &si)
	env.user = isoPrincipal{name: "user", kind: "USER", token: si.SignIn.AccessToken}

	// The developer of A (a member of A only).
	var dinv struct {
		InviteDeveloper struct {
			Developer     struct{ ID string }
			InvitationURL *string
		}
	}
	op(a, `mutation($p: AccessPolicyInput) { inviteDeveloper(input: {email: "iso-a-dev@a.example.com", accessPolicy: $p}) { developer { id } invitationUrl } }`,
		map[string]any{"p": isoFullAccess()}, &dinv)
	if dinv.InviteDeveloper.InvitationURL == nil {
		t.Fatal("a new developer got no invitation link")
	}
	isoMust(t, s, "", "", `mutation($t: String!, $p: String!) { acceptInvitation(input: {ticket: $t, password: $p}) { developer { id } } }`,
		map[string]any{"t": isoTicketOf(t, *dinv.InviteDeveloper.InvitationURL), "p": isoPassword}, nil)
	var sd struct{ SignInDeveloper struct{ AccessToken string } }
	isoMust(t, s, "", "", `mutation($p: String!) { signInDeveloper(input: {email: "iso-a-dev@a.example.com", password: $p}) { accessToken } }`,
		map[string]any{"p": isoPassword}, &sd)
	env.dev = isoPrincipal{name: "developer", kind: "DEVELOPER", token: sd.SignInDeveloper.AccessToken, project: a}

	// A's machine client, with a token from /oauth/token.
	op(a, `mutation($p: AccessPolicyInput) { createM2MClient(input: {name: "iso-a-m2m", accessPolicy: $p}) { m2mClient { id clientId profile } } }`,
		map[string]any{"p": isoFullAccess()}, &m2m)
	op(a, `mutation($id: ID!) { rotateM2MClientSecret(input: {id: $id}) { secret } }`, map[string]any{"id": m2m.CreateM2MClient.M2mClient.ID}, &rot)
	status, tok := isoClientToken(t, s, m2m.CreateM2MClient.M2mClient.ClientID, rot.RotateM2MClientSecret.Secret)
	if status != http.StatusOK || tok == "" {
		t.Fatalf("A's machine client gets no token: %d", status)
	}
	env.m2m = isoPrincipal{name: "m2m", kind: "M2M_CLIENT", token: tok}

	// Each principal works in A (else every refusal below would prove nothing).
	for _, p := range []isoPrincipal{env.user, env.dev, env.m2m} {
		var out struct{ Project struct{ ID string } }
		isoMust(t, s, p.token, p.project, `{ project { id } }`, nil, &out)
		if out.Project.ID != a {
			t.Fatalf("%s's project is %q, want A %q", p.name, out.Project.ID, a)
		}
	}
	env.start = time.Now().UTC()
	time.Sleep(5 * time.Millisecond)
	return env
}

// snapshotB reads everything of B as the operator, with the selection the
// matrix uses (built from the introspected types).
func (e *isoEnv) snapshotB(t *testing.T, g *isoGen) string {
	t.Helper()
	var parts []string
	for _, f := range []struct{ name, args string }{
		{"project", ""}, {"roles", ""}, {"applications", ""},
		{"users", "(first: 100)"}, {"developers", "(first: 100)"}, {"m2mClients", "(first: 100)"},
	} {
		op := g.byName[f.name]
		if op == nil {
			t.Fatalf("the schema has no query %s", f.name)
		}
		sel, err := g.selection(op.field.Type, isoSelectionDepth)
		if err != nil {
			t.Fatal(err)
		}
		// One query per list: together they cost more than the
		// complexity limit allows in one.
		r := isoDo(t, e.s, atriumtest.AdminSecret, e.b, "{ "+f.name+f.args+" "+sel+" }", nil)
		if len(r.Errors) > 0 {
			t.Fatalf("reading B's %s: %+v", f.name, r.Errors)
		}
		parts = append(parts, string(r.Data))
	}
	return strings.Join(parts, "\n")
}

// checkB reads each of B's entities by id and signs B's machine client in
// with the secret it had before the matrix.
func (e *isoEnv) checkB(t *testing.T) {
	t.Helper()
	var out struct {
		Role struct {
			Name, Description string
			Version           int
			MemberCount       int
		}
		Application struct{ Name, ClientID string }
		User        struct {
			Email, Name, Status string
			Version             int
		}
		Developer struct{ Email string }
		M2mClient struct{ Name, ClientID string }
		Project   struct {
			Name    string
			Version int
		}
	}
	isoMust(t, e.s, atriumtest.AdminSecret, e.b, `query($r: ID!, $a: ID!, $u: ID!, $d: ID!, $m: ID!) {
		role(id: $r) { name description version memberCount }
		application(id: $a) { name clientId }
		user(id: $u) { email name status version }
		developer(id: $d) { email }
		m2mClient(id: $m) { name clientId }
		project { name version }
	}`, map[string]any{"r": e.bVal[isoRole]["id"], "a": e.bVal[isoApp]["id"], "u": e.bVal[isoUser]["id"], "d": e.bVal[isoDev]["id"], "m": e.bVal[isoM2M]["id"]}, &out)
	if out.Role.Name != "bonly-role-Kv3" || out.Role.Description != "bonly-role-description" || out.Role.Version != 1 || out.Role.MemberCount != 3 {
		t.Errorf("B's role changed: %+v", out.Role)
	}
	if out.Application.Name != "bonly-app-Zt9" {
		t.Errorf("B's application changed: %+v", out.Application)
	}
	if out.User.Email != "bonly-user-w2@b.example.com" || out.User.Name != "Bonly Username Pq4" || out.User.Status != "ACTIVE" || out.User.Version != 2 {
		t.Errorf("B's user changed: %+v", out.User)
	}
	if out.Developer.Email != "bonly-dev-m8@b.example.com" {
		t.Errorf("B's developer changed: %+v", out.Developer)
	}
	if out.M2mClient.Name != "bonly-m2m-Hd5" || out.M2mClient.ClientID != e.bClientID {
		t.Errorf("B's machine client changed: %+v", out.M2mClient)
	}
	if out.Project.Name != "bonly-project-Qx7" || out.Project.Version != 1 {
		t.Errorf("B's project changed: %+v", out.Project)
	}
	status, tok := isoClientToken(t, e.s, e.bClientID, e.bSecret)
	if status != http.StatusOK || tok == "" {
		t.Fatalf("B's machine client secret stopped working during the matrix: %d", status)
	}
	var me struct{ M2mMe struct{ ID string } }
	isoMust(t, e.s, tok, "", `{ m2mMe { id } }`, nil, &me)
	if me.M2mMe.ID != e.bVal[isoM2M]["id"] {
		t.Errorf("B's machine token acts as %q, want %q", me.M2mMe.ID, e.bVal[isoM2M]["id"])
	}
}

// checkAudit reads both audit trails since the matrix began. A's may name
// B's ids only as the target of a refused attempt (A's caller's own input);
// B's may hold only refused public sign-in attempts.
func (e *isoEnv) checkAudit(t *testing.T) {
	t.Helper()
	type event struct {
		Action, Outcome string
		Actor           struct{ Kind, ID string }
		Target          struct{ Type, ID string }
		ChangedFields   []string
	}
	read := func(project string) []event {
		var all []event
		after := ""
		for {
			var out struct {
				AuditEvents struct {
					Edges    []struct{ Node event }
					PageInfo struct {
						HasNextPage bool
						EndCursor   *string
					}
				}
			}
			vars := map[string]any{"since": e.start.Format(time.RFC3339Nano)}
			if after != "" {
				vars["after"] = after
			}
			isoMust(t, e.s, atriumtest.AdminSecret, project, `query($since: Time, $after: String) {
				auditEvents(first: 100, after: $after, filter: {since: $since}) {
					edges { node { action outcome actor { kind id } target { type id } changedFields } }
					pageInfo { hasNextPage endCursor }
				} }`, vars, &out)
			for _, ed := range out.AuditEvents.Edges {
				all = append(all, ed.Node)
			}
			if !out.AuditEvents.PageInfo.HasNextPage || out.AuditEvents.PageInfo.EndCursor == nil {
				return all
			}
			after = *out.AuditEvents.PageInfo.EndCursor
		}
	}
	aEvents := read(e.a)
	if len(aEvents) == 0 {
		t.Error("A's audit trail recorded none of the matrix's mutations")
	}
	for _, ev := range aEvents {
		raw, _ := json.Marshal(ev)
		if what, ok := e.needles[ev.Target.ID]; ok && ev.Outcome == "success" {
			t.Errorf("A's audit trail records a successful %s on B's %s: %s", ev.Action, what, raw)
		}
		for n, what := range e.needles {
			if n != ev.Target.ID && strings.Contains(strings.ToLower(string(raw)), strings.ToLower(n)) {
				t.Errorf("A's audit trail holds B's %s: %s", what, raw)
			}
		}
	}
	bEvents := read(e.b)
	var outsiders []string
	for _, ev := range bEvents {
		raw, _ := json.Marshal(ev)
		switch {
		case ev.Outcome == "success":
			t.Errorf("B's audit trail records a successful change during the matrix: %s", raw)
		case slices.Contains([]string{"App:SignIn", "App:SignUp", "IAM:SignInDeveloper"}, ev.Action) && ev.Actor.ID == "":
			// A refused anonymous attempt on B's application or on the
			// account of B's developer: B's to see.
		default:
			outsiders = append(outsiders, string(raw))
		}
	}
	t.Logf("audit: %d events in A since the matrix began, %d in B", len(aEvents), len(bEvents))
	t.Run("B's trail holds no attempt of a non-member", func(t *testing.T) {
		if len(outsiders) == 0 {
			return
		}
		msg := fmt.Sprintf("a developer who is no member of B, calling guarded mutations with B's header, writes %d audit events into B's trail "+
			"e.g. %s", len(outsiders), outsiders[0])
		t.Error(msg)
	})
}

// inviteBDeveloper invites B's developer (by email) into A as A's developer.
// The answer may name the developer's account (its id, and the email the
// caller gave) but nothing else of B, and B's pending invitation link must
// keep working.
func (e *isoEnv) inviteBDeveloper(t *testing.T) {
	t.Helper()
	email := e.bVal[isoDev]["email"]
	r := isoDo(t, e.s, e.dev.token, e.a, `mutation($e: String!, $r: [ID!]) {
		inviteDeveloper(input: {email: $e, roles: $r}) {
			developer { id email name profile roles { id name } accessPolicy { rule { resource action effect } } }
			invitationUrl
		} }`, map[string]any{"e": email, "r": []string{e.aVal[isoRole]}})
	if len(r.Errors) > 0 {
		t.Fatalf("inviting B's developer into A: %s", r.raw)
	}
	var out struct {
		InviteDeveloper struct {
			Developer     struct{ ID string }
			InvitationURL *string
		}
	}
	if err := json.Unmarshal(r.Data, &out); err != nil {
		t.Fatal(err)
	}
	if id := out.InviteDeveloper.Developer.ID; id != e.bVal[isoDev]["id"] {
		t.Errorf("the invited account is %q, want the one account %q (no second account)", id, e.bVal[isoDev]["id"])
	}
	// Its membership of A, read back: A's role and a profile of A.
	var m struct {
		Developer struct {
			ID, Profile string
			Roles       []struct{ ID string }
		}
	}
	isoMust(t, e.s, atriumtest.AdminSecret, e.a, `query($id: ID!) { developer(id: $id) { id profile roles { id } } }`, map[string]any{"id": e.bVal[isoDev]["id"]}, &m)
	d := m.Developer
	if len(d.Roles) != 1 || d.Roles[0].ID != e.aVal[isoRole] {
		t.Errorf("the developer's roles in A are %+v, want only A's role", d.Roles)
	}
	if isoRefID(d.Profile) == e.needleOf("developer profile") || !strings.HasPrefix(d.Profile, "Practitioner/") {
		t.Errorf("the developer's profile in A is %q, want a Practitioner of A (not B's)", d.Profile)
	}
	body := strings.ToLower(string(r.raw))
	for n, what := range e.needles {
		if n != d.ID && n != email && strings.Contains(body, strings.ToLower(n)) {
			t.Errorf("LEAK: inviting B's developer into A answers B's %s %q: %s", what, n, r.raw)
		}
	}
	// B's own invitation link still works.
	acc := isoDo(t, e.s, "", "", `mutation($t: String!, $p: String!) { acceptInvitation(input: {ticket: $t, password: $p}) { developer { id profile } } }`,
		map[string]any{"t": e.bDevTicket, "p": isoPassword})
	if len(acc.Errors) > 0 {
		msg := fmt.Sprintf("inviting B's pending developer into A replaces the developer's one invitation ticket, so B's invitation link stops working "+
			"(service/developer.go InviteDeveloper → store Developers.SetInvitation): %s", acc.raw)
		t.Fatal(msg)
	}
	var accOut struct {
		AcceptInvitation struct{ Developer struct{ ID, Profile string } }
	}
	_ = json.Unmarshal(acc.Data, &accOut)
	if got := accOut.AcceptInvitation.Developer; got.ID != e.bVal[isoDev]["id"] || isoRefID(got.Profile) != e.needleOf("developer profile") {
		t.Errorf("B's invitation link accepted %+v, want B's developer with its profile in B", got)
	}
}

// needleOf returns B's value described as what.
func (e *isoEnv) needleOf(what string) string {
	for n, w := range e.needles {
		if w == what {
			return n
		}
	}
	return ""
}

// selfTest shows that the judge does fail: answers holding B's data are
// caught, an error repeating the caller's own input is not.
func (g *isoGen) selfTest(t *testing.T) {
	bRole, bName := g.env.bVal[isoRole]["id"], "bonly-role-Kv3"
	fake := func(data, errs string) *isoResult {
		raw := `{"data":` + data
		if errs != "" {
			raw += `,"errors":` + errs
		}
		raw += "}"
		r := &isoResult{}
		if err := json.Unmarshal([]byte(raw), r); err != nil {
			t.Fatal(err)
		}
		r.raw = []byte(raw)
		return r
	}
	tests := []struct {
		name       string
		r          *isoResult
		sent       string
		wantErrors bool
	}{
		{"B's role in the data", fake(`{"role":{"__typename":"Role","id":"`+bRole+`","name":"x"}}`, ""), `{"id":"` + bRole + `"}`, true},
		{"B's role name in the data", fake(`{"roles":[{"__typename":"Role","id":"x","name":"`+bName+`"}]}`, ""), `{}`, true},
		{"B's name in an error", fake(`null`, `[{"message":"role `+bName+` is held","extensions":{"code":"CONFLICT"}}]`), `{"id":"` + bRole + `"}`, true},
		{"B's id in an error, not sent", fake(`null`, `[{"message":"role `+bRole+` not found","extensions":{"code":"NOT_FOUND"}}]`), `{}`, true},
		{"B's id in an error, sent", fake(`null`, `[{"message":"role `+bRole+` not found","extensions":{"code":"NOT_FOUND"}}]`), `{"id":"` + bRole + `"}`, false},
		{"B's id in a row error, sent", fake(`{"inviteUsers":{"results":[{"__typename":"InviteUserResult","error":{"__typename":"RowError","message":"role `+bRole+` not found"}}]}}`, ""), `{"r":"` + bRole + `"}`, false},
		{"A's data", fake(`{"role":{"__typename":"Role","id":"`+g.env.aVal[isoRole]+`","name":"iso-a-target-role"}}`, ""), `{}`, false},
	}
	for _, tt := range tests {
		rec := &isoRecorder{}
		g.leaks(rec, tt.name, tt.r, tt.sent)
		g.onlyA(rec, t, tt.name, isoCase{}, tt.r.Data, false)
		if got := len(rec.errors) > 0; got != tt.wantErrors {
			t.Errorf("%s: judge reported %q, want errors: %v", tt.name, rec.errors, tt.wantErrors)
		}
	}
	rec := &isoRecorder{}
	g.onlyA(rec, t, "probe", isoCase{}, json.RawMessage(`{"users":{"__typename":"UserConnection","edges":[{"node":{"__typename":"User","id":"`+g.env.aVal[isoUser]+`"}}],"totalCount":1}}`), true)
	if len(rec.errors) != 2 {
		t.Errorf("a probe that finds something: judge reported %q, want 2 errors", rec.errors)
	}
}

type isoRecorder struct{ errors []string }

func (r *isoRecorder) Helper()           {}
func (r *isoRecorder) Error(args ...any) { r.errors = append(r.errors, fmt.Sprint(args...)) }
func (r *isoRecorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *isoRecorder) Logf(string, ...any) {}

// ---------------------------------------------------------------------------
// The synthesiser.

type isoTypeRef struct {
	Kind   string
	Name   string
	OfType *isoTypeRef
}

// named returns the named type under the wrappers, and whether there is a
// list among them.
func (r isoTypeRef) named() (string, bool) {
	list := false
	for r.OfType != nil {
		list = list || r.Kind == "LIST"
		r = *r.OfType
	}
	return r.Name, list
}

func (r isoTypeRef) String() string {
	switch r.Kind {
	case "NON_NULL":
		return r.OfType.String() + "!"
	case "LIST":
		return "[" + r.OfType.String() + "]"
	}
	return r.Name
}

type isoInputValue struct {
	Name string
	Type isoTypeRef
}

type isoField struct {
	Name string
	Args []isoInputValue
	Type isoTypeRef
}

type isoType struct {
	Kind        string
	Name        string
	Fields      []isoField
	InputFields []isoInputValue
	EnumValues  []struct{ Name string }
}

const isoIntrospection = `query IsoIntrospection {
	__schema {
		queryType { name fields { name } }
		mutationType { name fields { name } }
		types {
			kind name
			fields(includeDeprecated: true) { name args { name type { ...T } } type { ...T } }
			inputFields { name type { ...T } }
			enumValues(includeDeprecated: true) { name }
		}
	}
}
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }`

type isoSlot struct {
	path     string // "id", "input.roles", "input[].applicationId", "filter.email"
	entity   string
	attr     string // id, email, name, profile
	list     bool   // a list of ids: B's value is a one-element list
	probe    bool   // a filter field: B's value must select nothing
	required bool
}

type isoVariant struct {
	name    string
	assign  map[string]any
	bRefs   []isoSlot
	bProbes []isoSlot
}

type isoOp struct {
	root, name string
	field      isoField
	access     string   // guard, authenticated, public
	as         []string // kinds of @authenticated(as:)
	slots      []isoSlot
	variants   []*isoVariant
	err        error // why it cannot be synthesised
}

type isoWant struct {
	code  string // "" success; isoAnyFailure; or a code
	field string
	empty bool
}

const isoAnyFailure = "any refusal"

type isoGen struct {
	env            *isoEnv
	types          map[string]*isoType
	ops            []*isoOp
	byName         map[string]*isoOp
	covered        map[string]map[string]bool
	coveredForeign map[string]map[string]bool
	calls          map[string]int
	inA            map[string]bool
	fieldBugSeen   map[string]bool
}

// isoSelectionDepth is how many object levels below an operation's result
// are selected: enough for users { edges { node { roles { accessPolicy { rule } } } } }.
const isoSelectionDepth = 5

func isoNewGen(t *testing.T, env *isoEnv) *isoGen {
	t.Helper()
	g := &isoGen{env: env, types: map[string]*isoType{}, byName: map[string]*isoOp{},
		covered: map[string]map[string]bool{}, coveredForeign: map[string]map[string]bool{}, calls: map[string]int{}, inA: map[string]bool{}, fieldBugSeen: map[string]bool{}}
	var out struct {
		Schema struct {
			QueryType, MutationType struct {
				Name   string
				Fields []struct{ Name string }
			}
			Types []isoType
		} `json:"__schema"`
	}
	isoMust(t, env.s, "", "", isoIntrospection, nil, &out)
	for i := range out.Schema.Types {
		g.types[out.Schema.Types[i].Name] = &out.Schema.Types[i]
	}
	// The access directive of each operation, from the schema the server
	// executes (introspection does not show applied directives).
	served := graph.NewExecutableSchema(graph.Config{}).Schema()
	for _, root := range []struct {
		kind, name string
		def        *ast.Definition
	}{{"query", out.Schema.QueryType.Name, served.Query}, {"mutation", out.Schema.MutationType.Name, served.Mutation}} {
		typ := g.types[root.name]
		if typ == nil || len(typ.Fields) == 0 {
			t.Fatalf("introspection shows no %s type", root.kind)
		}
		for _, f := range typ.Fields {
			op := &isoOp{root: root.kind, name: f.Name, field: f}
			g.ops = append(g.ops, op)
			g.byName[f.Name] = op
			op.access, op.as, op.err = isoAccessOf(root.def, f.Name)
			if op.err == nil {
				op.err = g.prepare(op)
			}
			if op.err != nil {
				t.Errorf("%s %s cannot be synthesised: %v", root.kind, f.Name, op.err)
			}
		}
	}
	if len(g.ops) < 30 {
		t.Fatalf("introspection found only %d operations", len(g.ops))
	}
	return g
}

func isoAccessOf(def *ast.Definition, name string) (string, []string, error) {
	if def == nil {
		return "", nil, fmt.Errorf("the served schema has no such root type")
	}
	f := def.Fields.ForName(name)
	if f == nil {
		return "", nil, fmt.Errorf("introspection shows %s, which the served schema does not have", name)
	}
	var found []string
	var as []string
	for _, d := range f.Directives {
		switch d.Name {
		case "guard", "public":
			found = append(found, d.Name)
		case "authenticated":
			found = append(found, d.Name)
			if a := d.Arguments.ForName("as"); a != nil && a.Value != nil {
				for _, c := range a.Value.Children {
					as = append(as, c.Value.Raw)
				}
			}
		}
	}
	if len(found) != 1 {
		return "", nil, fmt.Errorf("has access directives %v, want exactly one", found)
	}
	return found[0], as, nil
}

// prepare finds the operation's slots, builds its variants and checks that
// each variant and the selection can be built.
func (g *isoGen) prepare(op *isoOp) error {
	c := isoExpect[op.name]
	for _, a := range op.field.Args {
		if err := g.findSlots(op, c, a.Name, a.Name, a.Type, a.Type.Kind == "NON_NULL", false, "", 0); err != nil {
			return err
		}
	}
	bOf := func(s isoSlot) any { return g.slotValue(s, true) }
	mark := func(v *isoVariant, s isoSlot) {
		v.assign[s.path] = bOf(s)
		if s.probe {
			v.bProbes = append(v.bProbes, s)
		} else {
			v.bRefs = append(v.bRefs, s)
		}
	}
	if len(op.slots) == 0 {
		op.variants = []*isoVariant{{name: "plain", assign: map[string]any{}}}
	} else {
		all := &isoVariant{name: "allB", assign: map[string]any{}}
		for _, s := range op.slots {
			mark(all, s)
		}
		op.variants = append(op.variants, all)
		if len(op.slots) > 1 {
			for _, s := range op.slots {
				v := &isoVariant{name: "B:" + s.path, assign: map[string]any{}}
				mark(v, s)
				for _, o := range op.slots {
					if o.path == s.path || o.probe {
						continue
					}
					if c.exclusive != "" && strings.HasPrefix(o.path, c.exclusive) && strings.HasPrefix(s.path, c.exclusive) {
						continue
					}
					v.assign[o.path] = g.slotValue(o, false)
				}
				op.variants = append(op.variants, v)
			}
		}
		if op.root == "query" && !slices.ContainsFunc(op.slots, func(s isoSlot) bool { return s.required }) {
			op.variants = append(op.variants, &isoVariant{name: "plain", assign: map[string]any{}})
		}
	}
	if _, err := g.selection(op.field.Type, isoSelectionDepth); err != nil {
		return err
	}
	for _, v := range op.variants {
		if _, _, err := g.document(op, v); err != nil {
			return fmt.Errorf("variant %s: %w", v.name, err)
		}
	}
	return nil
}

func (g *isoGen) slotValue(s isoSlot, b bool) any {
	var v string
	if b {
		v = g.env.bVal[s.entity][s.attr]
	} else {
		v = g.env.aVal[s.entity]
	}
	if s.list {
		return []any{v}
	}
	return v
}

// isoEntityOf tells the entity an ID names from its name ("id": from the
// operation's name).
func isoEntityOf(op, field string) string {
	n := strings.ToLower(field)
	if n == "id" {
		n = strings.ToLower(op)
	}
	for _, e := range []struct{ part, entity string }{
		{"m2m", isoM2M}, {"developer", isoDev}, {"application", isoApp}, {"role", isoRole}, {"user", isoUser},
	} {
		if strings.Contains(n, e.part) {
			return e.entity
		}
	}
	return ""
}

func (g *isoGen) findSlots(op *isoOp, c isoCase, path, name string, t isoTypeRef, required, inFilter bool, filterEntity string, depth int) error {
	if depth > 6 {
		return fmt.Errorf("%s: input nests too deep", path)
	}
	nt, list := t.named()
	typ := g.types[nt]
	if typ == nil {
		return fmt.Errorf("%s: unknown type %q", path, nt)
	}
	switch typ.Kind {
	case "INPUT_OBJECT":
		p := path
		if list {
			p += "[]"
		}
		fe, isFilter := strings.CutSuffix(typ.Name, "Filter")
		if isFilter {
			fe = isoEntityOf("", fe)
		}
		for _, f := range typ.InputFields {
			if err := g.findSlots(op, c, p+"."+f.Name, f.Name, f.Type, required && f.Type.Kind == "NON_NULL", inFilter || isFilter, fe, depth+1); err != nil {
				return err
			}
		}
		return nil
	case "SCALAR", "ENUM":
	default:
		return fmt.Errorf("%s: cannot build an input of kind %s", path, typ.Kind)
	}
	entity, attr := c.slots[path], "id"
	switch {
	case entity != "":
	case nt == "ID":
		if entity = isoEntityOf(op.name, name); entity == "" {
			return fmt.Errorf("cannot tell which entity the ID %s names: add it to isoExpect[%q].slots", path, op.name)
		}
	case nt == "String" && name == "profile":
		entity = isoProfile
	case nt == "String" && inFilter && g.env.bVal[filterEntity][name] != "":
		entity, attr = filterEntity, name
	default:
		return nil
	}
	if entity == isoProfile {
		attr = "profile"
	}
	if g.env.bVal[entity][attr] == "" || (!inFilter && g.env.aVal[entity] == "") {
		return fmt.Errorf("%s: no value of B (or A) for %s %s", path, entity, attr)
	}
	op.slots = append(op.slots, isoSlot{path: path, entity: entity, attr: attr, list: list, probe: inFilter, required: required})
	return nil
}

// document builds the call of op for variant v: the document and its
// variables.
func (g *isoGen) document(op *isoOp, v *isoVariant) (string, map[string]any, error) {
	c := isoExpect[op.name]
	b := &isoBuild{v: v, c: c}
	vars := map[string]any{}
	var defs, args []string
	for _, a := range op.field.Args {
		val, ok, err := g.build(b, a.Name, a.Name, a.Type)
		if err != nil {
			return "", nil, err
		}
		if !ok {
			continue
		}
		vars[a.Name] = val
		defs = append(defs, fmt.Sprintf("$%s: %s", a.Name, a.Type))
		args = append(args, fmt.Sprintf("%s: $%s", a.Name, a.Name))
	}
	sel, err := g.selection(op.field.Type, isoSelectionDepth)
	if err != nil {
		return "", nil, err
	}
	doc := op.root + " Iso"
	if len(defs) > 0 {
		doc += "(" + strings.Join(defs, ", ") + ")"
	}
	doc += " { " + op.name
	if len(args) > 0 {
		doc += "(" + strings.Join(args, ", ") + ")"
	}
	return doc + " " + sel + " }", vars, nil
}

type isoBuild struct {
	v *isoVariant
	c isoCase
}

// has reports whether the variant or the fills give any value under prefix.
func (b *isoBuild) has(prefix string) bool {
	for k := range b.v.assign {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	for k := range b.c.fill {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

func (g *isoGen) build(b *isoBuild, path, name string, t isoTypeRef) (any, bool, error) {
	required := t.Kind == "NON_NULL"
	if required {
		t = *t.OfType
	}
	return g.buildValue(b, path, name, t, required)
}

func (g *isoGen) buildValue(b *isoBuild, path, name string, t isoTypeRef, required bool) (any, bool, error) {
	if v, ok := b.v.assign[path]; ok {
		return v, true, nil
	}
	if f, ok := b.c.fill[path]; ok {
		return f(g.env), true, nil
	}
	switch t.Kind {
	case "LIST":
		elem := *t.OfType
		if elem.Kind == "NON_NULL" {
			elem = *elem.OfType
		}
		el, ok, err := g.buildValue(b, path+"[]", name, elem, required)
		if err != nil || !ok {
			return nil, false, err
		}
		return []any{el}, true, nil
	case "INPUT_OBJECT":
		if !required && !b.has(path+".") {
			return nil, false, nil
		}
		typ := g.types[t.Name]
		obj := map[string]any{}
		for _, f := range typ.InputFields {
			v, ok, err := g.build(b, path+"."+f.Name, f.Name, f.Type)
			if err != nil {
				return nil, false, err
			}
			if ok {
				obj[f.Name] = v
			}
		}
		return obj, true, nil
	case "SCALAR", "ENUM":
		if !required {
			return nil, false, nil
		}
		v, err := g.synth(path, name, t)
		return v, err == nil, err
	}
	return nil, false, fmt.Errorf("%s: cannot build a value of kind %s", path, t.Kind)
}

// synth makes a plausible value for a required scalar or enum.
func (g *isoGen) synth(path, name string, t isoTypeRef) (any, error) {
	typ := g.types[t.Name]
	if typ != nil && typ.Kind == "ENUM" && len(typ.EnumValues) > 0 {
		return typ.EnumValues[0].Name, nil
	}
	n := strings.ToLower(name)
	switch t.Name {
	case "String":
		g.env.seq++
		switch {
		case strings.Contains(n, "email"):
			return g.env.freshEmail(), nil
		case strings.Contains(n, "password"):
			return isoWrongPassword, nil
		case n == "ticket":
			return fmt.Sprintf("iso-made-up-ticket-%d", g.env.seq), nil
		case n == "description":
			return "iso description", nil
		case strings.HasSuffix(n, "name"):
			return fmt.Sprintf("iso-new-%d", g.env.seq), nil
		case n == "action":
			return "IAM:GetRole", nil
		case n == "resource":
			return "IAM:Role", nil
		case strings.Contains(n, "origin"):
			return "https://app.example.com", nil
		case strings.Contains(n, "url") || strings.Contains(n, "uri"):
			return "https://app.example.com/callback", nil
		}
	case "Int":
		if n == "first" {
			return 5, nil
		}
		return 1, nil
	case "Float":
		return 1.5, nil
	case "Boolean":
		return false, nil
	case "Time":
		return time.Now().UTC().Format(time.RFC3339), nil
	case "JSON":
		if strings.Contains(n, "practitioner") || strings.Contains(n, "resource") {
			return map[string]any{"resourceType": "Practitioner"}, nil
		}
	}
	return nil, fmt.Errorf("cannot synthesise a value for the required %s %s: add it to isoExpect's fill", t.Name, path)
}

// selection selects __typename and every scalar of an object type, and its
// object fields depth levels down.
func (g *isoGen) selection(t isoTypeRef, depth int) (string, error) {
	nt, _ := t.named()
	typ := g.types[nt]
	if typ == nil {
		return "", fmt.Errorf("unknown type %q", nt)
	}
	switch typ.Kind {
	case "SCALAR", "ENUM":
		return "", nil
	case "OBJECT":
	default:
		return "", fmt.Errorf("cannot select from a %s (%s)", typ.Kind, nt)
	}
	parts := []string{"__typename"}
	for _, f := range typ.Fields {
		if strings.HasPrefix(f.Name, "__") || slices.ContainsFunc(f.Args, func(a isoInputValue) bool { return a.Type.Kind == "NON_NULL" }) {
			continue
		}
		ft, _ := f.Type.named()
		k := g.types[ft]
		if k == nil {
			return "", fmt.Errorf("unknown type %q", ft)
		}
		if k.Kind == "SCALAR" || k.Kind == "ENUM" {
			parts = append(parts, f.Name)
			continue
		}
		if depth == 0 {
			continue
		}
		sub, err := g.selection(f.Type, depth-1)
		if err != nil {
			return "", err
		}
		parts = append(parts, f.Name+" "+sub)
	}
	return "{ " + strings.Join(parts, " ") + " }", nil
}

// ---------------------------------------------------------------------------
// Running and judging.

func (g *isoGen) runOp(t *testing.T, p *isoPrincipal, op *isoOp) {
	t.Helper()
	if op.err != nil {
		return // reported when the schema was read; not covered
	}
	ok := true
	for _, v := range op.variants {
		doc, vars, err := g.document(op, v)
		if err != nil {
			t.Errorf("%s %s (%s): %v", op.root, op.name, v.name, err)
			ok = false
			continue
		}
		w, err := g.expect(p, op, v)
		if err != nil {
			t.Errorf("%s %s (%s) as %s: %v", op.root, op.name, v.name, p.name, err)
			ok = false
			continue
		}
		r := isoDo(t, g.env.s, p.token, p.project, doc, vars)
		g.calls[p.name]++
		sent, _ := json.Marshal(vars)
		g.judge(t, p, op, v, string(sent), r, w)
	}
	if ok {
		if g.covered[p.name] == nil {
			g.covered[p.name] = map[string]bool{}
		}
		g.covered[p.name][op.name] = true
	}
}

// runForeignHeader calls every guarded operation with B's project header:
// a token of A (bound to A, or a developer who is no member of B) must find
// no project.
func (g *isoGen) runForeignHeader(t *testing.T, p *isoPrincipal) {
	t.Helper()
	for _, op := range g.ops {
		if op.access != "guard" || op.err != nil {
			continue
		}
		v := op.variants[0]
		doc, vars, err := g.document(op, v)
		if err != nil {
			t.Errorf("%s: %v", op.name, err)
			continue
		}
		r := isoDo(t, g.env.s, p.token, g.env.b, doc, vars)
		g.calls[p.name]++
		where := fmt.Sprintf("%s %s (%s) as %s with B's header", op.root, op.name, v.name, p.name)
		sent, _ := json.Marshal(vars)
		g.leaks(t, where, r, string(sent)+" "+g.env.b)
		if code := r.code(); code != "NOT_FOUND" {
			t.Errorf("%s: want NOT_FOUND (no such project), got %q: %s", where, code, r.raw)
		} else if !strings.Contains(r.Errors[0].Message, "project") {
			t.Errorf("%s: NOT_FOUND for another reason than the project: %s", where, r.Errors[0].Message)
		}
		if g.coveredForeign[p.name] == nil {
			g.coveredForeign[p.name] = map[string]bool{}
		}
		g.coveredForeign[p.name][op.name] = true
	}
}

// expect is the answer a call must give.
func (g *isoGen) expect(p *isoPrincipal, op *isoOp, v *isoVariant) (isoWant, error) {
	c := isoExpect[op.name]
	if c.want != nil {
		if w, ok := c.want(p, v); ok {
			return w, nil
		}
	}
	switch op.access {
	case "public":
		return isoWant{}, fmt.Errorf("public operation %s has no isoExpect entry saying how it must answer B's ids", op.name)
	case "authenticated":
		if len(op.as) > 0 && !slices.Contains(op.as, p.kind) {
			return isoWant{code: "FORBIDDEN"}, nil
		}
		if len(v.bRefs) > 0 {
			return isoWant{code: isoAnyFailure}, nil
		}
		return isoWant{empty: len(v.bProbes) > 0}, nil
	case "guard":
		// Every principal has full access in A: only isolation can refuse,
		// and it must not reveal that B's entity exists.
		if len(v.bRefs) > 0 {
			w := isoWant{code: "NOT_FOUND"}
			if len(v.bRefs) == 1 {
				w.field = isoErrorField(v.bRefs[0])
			}
			return w, nil
		}
		return isoWant{empty: len(v.bProbes) > 0}, nil
	}
	return isoWant{}, fmt.Errorf("operation %s has no access directive", op.name)
}

// isoErrorField is the error field that names a slot: "input[].roles" →
// "input[0].roles[0]".
func isoErrorField(s isoSlot) string {
	f := strings.ReplaceAll(s.path, "[]", "[0]")
	if s.list {
		f += "[0]"
	}
	return f
}

// isoT is what the judge reports to: a *testing.T, or the recorder of the
// self-test.
type isoT interface {
	Helper()
	Error(args ...any)
	Errorf(format string, args ...any)
	Logf(format string, args ...any)
}

func (g *isoGen) judge(t *testing.T, p *isoPrincipal, op *isoOp, v *isoVariant, sent string, r *isoResult, w isoWant) {
	t.Helper()
	where := fmt.Sprintf("%s %s (%s) as %s", op.root, op.name, v.name, p.name)
	c := isoExpect[op.name]
	seesAll := c.operatorSeesAll && p.kind == "OPERATOR"
	if !seesAll {
		g.leaks(t, where, r, sent)
	}
	for _, e := range r.Errors {
		if !isoAllowedCodes[e.Extensions.Code] {
			t.Errorf("%s: error code %q is not a refusal (NOT_FOUND, FORBIDDEN, BAD_USER_INPUT, UNAUTHENTICATED, CONFLICT): %s", where, e.Extensions.Code, e.Message)
		}
	}
	switch w.code {
	case "":
		if len(r.Errors) > 0 {
			t.Errorf("%s: want an answer, got %s: %s", where, r.code(), r.Errors[0].Message)
		}
	case isoAnyFailure:
		if len(r.Errors) == 0 {
			t.Errorf("%s: want a refusal, got data %s", where, r.Data)
		}
	default:
		switch {
		case r.code() != w.code:
			t.Errorf("%s: want %s, got %q: %s", where, w.code, r.code(), r.raw)
		case w.field != "" && r.Errors[0].Extensions.Field != w.field:
			msg := fmt.Sprintf("%s: %s names field %q, want %q (%s)", where, w.code, r.Errors[0].Extensions.Field, w.field, r.Errors[0].Message)
			g.fieldBugSeen[op.name] = true
			if bug, known := isoFieldBugs[op.name]; known && os.Getenv("ATRIUM_RUN_KNOWN_BUGS") != "1" {
				t.Logf("known bug (%s): %s", bug, msg)
			} else {
				t.Error(msg)
			}
		}
	}
	if len(r.Errors) > 0 && string(r.Data) != "null" && string(r.Data) != "" {
		t.Errorf("%s: refused, yet data is %s", where, r.Data)
	}
	if !seesAll {
		g.onlyA(t, t, where, c, r.Data, w.empty)
	}
	if c.check != nil {
		c.check(t, where, v, r)
	}
}

// leaks fails for any of B's ids or names in the answer. An error message
// may repeat what the request carried (role "<id>" not found); the data may
// not, and nothing may carry what the request did not.
func (g *isoGen) leaks(t isoT, where string, r *isoResult, sent string) {
	t.Helper()
	var strict, echo []string
	isoStrings(r.dataAny(), false, &strict, &echo)
	var top map[string]json.RawMessage
	_ = json.Unmarshal(r.raw, &top)
	for k, v := range top {
		if k != "data" {
			echo = append(echo, string(v))
		}
	}
	strictText := strings.ToLower(strings.Join(strict, "\x00"))
	echoText := strings.ToLower(strings.Join(echo, "\x00"))
	sentText := strings.ToLower(sent)
	for needle, what := range g.env.needles {
		n := strings.ToLower(needle)
		if strings.Contains(strictText, n) {
			t.Errorf("LEAK %s: the data holds B's %s %q: %s", where, what, needle, r.raw)
		}
		if strings.Contains(echoText, n) && !strings.Contains(sentText, n) {
			t.Errorf("LEAK %s: the answer holds B's %s %q, which the request did not carry: %s", where, what, needle, r.raw)
		}
	}
}

// isoStrings collects the strings of v: those inside a RowError (an error
// reported in the data) go to echo, the others to strict.
func isoStrings(v any, inError bool, strict, echo *[]string) {
	switch x := v.(type) {
	case string:
		if inError {
			*echo = append(*echo, x)
		} else {
			*strict = append(*strict, x)
		}
	case []any:
		for _, e := range x {
			isoStrings(e, inError, strict, echo)
		}
	case map[string]any:
		in := inError || x["__typename"] == "RowError"
		for _, e := range x {
			isoStrings(e, in, strict, echo)
		}
	}
}

// isoEntityTypes are the types whose objects are data of some project.
var isoEntityTypes = map[string]string{
	"Role": "role", "Application": "application", "User": "user", "Developer": "developer", "M2MClient": "m2mClient",
	"Project": "", "AuditEvent": "",
}

// onlyA checks that every entity in the data is one of A's (read back as
// the operator in A), and that a call probing with B's values found nothing.
func (g *isoGen) onlyA(t isoT, tb testing.TB, where string, c isoCase, data json.RawMessage, empty bool) {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil || v == nil {
		return
	}
	var walk func(any)
	walk = func(x any) {
		switch x := x.(type) {
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			tn, _ := x["__typename"].(string)
			id, _ := x["id"].(string)
			if _, entity := isoEntityTypes[tn]; entity && empty {
				t.Errorf("%s: probing with B's values must find nothing, found a %s %q", where, tn, id)
			}
			if n, ok := x["totalCount"].(float64); ok && empty && n != 0 {
				t.Errorf("%s: probing with B's values must count nothing, counted %v", where, n)
			}
			switch field := isoEntityTypes[tn]; {
			case tn == "Project":
				if id != g.env.a && !c.newProject {
					t.Errorf("%s: the data names project %q, not A", where, id)
				}
			case field != "" && id != "":
				if !g.inProjectA(tb, tn, field, id) {
					t.Errorf("%s: the data holds %s %q, which is not one of A's", where, tn, id)
				}
			}
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
}

func (g *isoGen) inProjectA(t testing.TB, typ, field, id string) bool {
	t.Helper()
	key := typ + "/" + id
	if in, ok := g.inA[key]; ok {
		return in
	}
	r := isoDo(t, g.env.s, atriumtest.AdminSecret, g.env.a, fmt.Sprintf(`query($id: ID!) { %s(id: $id) { id } }`, field), map[string]any{"id": id})
	in := len(r.Errors) == 0
	g.inA[key] = in
	return in
}

// ---------------------------------------------------------------------------
// HTTP.

type isoResult struct {
	raw    []byte
	Data   json.RawMessage           `json:"data"`
	Errors []atriumtest.GraphQLError `json:"errors"`
}

func (r *isoResult) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	return r.Errors[0].Extensions.Code
}

func (r *isoResult) dataAny() any {
	var v any
	_ = json.Unmarshal(r.Data, &v)
	return v
}

// isoDo posts a GraphQL request with a bearer token (when not empty) and a
// project header (when not empty) and keeps the raw answer.
func isoDo(t testing.TB, s *atriumtest.Server, token, project, query string, vars map[string]any) *isoResult {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, s.URL+"/graphql", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if project != "" {
		req.Header.Set(auth.ProjectHeader, project)
	}
	res, err := s.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := &isoResult{raw: raw}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("response %d is not GraphQL JSON: %s", res.StatusCode, raw)
	}
	return out
}

// isoMust is isoDo that fails the test on any error and decodes the data.
func isoMust(t testing.TB, s *atriumtest.Server, token, project, query string, vars map[string]any, out any) {
	t.Helper()
	r := isoDo(t, s, token, project, query, vars)
	if len(r.Errors) > 0 {
		t.Fatalf("unexpected errors: %s", r.raw)
	}
	if out != nil {
		if err := json.Unmarshal(r.Data, out); err != nil {
			t.Fatal(err)
		}
	}
}

// isoClientToken runs the client-credentials grant and returns the status
// and the access token.
func isoClientToken(t testing.TB, s *atriumtest.Server, clientID, secret string) (int, string) {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}}
	res, err := s.Server.Client().PostForm(s.URL+"/oauth/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out.AccessToken
}

func isoTicketOf(t testing.TB, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	tk := u.Query().Get("ticket")
	if tk == "" {
		t.Fatalf("invitation link %q has no ticket", link)
	}
	return tk
}

// isoRefID is the id of a reference such as Practitioner/<uuid>.
func isoRefID(ref string) string {
	_, id, _ := strings.Cut(ref, "/")
	return id
}
