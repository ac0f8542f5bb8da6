package isolation_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"atrium/atriumtest"
	"atrium/client"
	"atrium/iam"
)

// The two projects of the isolation matrix: B, whose every entity is a
// needle that must never show, and A, whose principals make the calls; and
// the checks that B is unchanged afterwards.

const (
	entityRole    = "role"
	entityApp     = "application"
	entityUser    = "user"
	entityDev     = "developer"
	entityM2M     = "m2m"
	entityProfile = "profile"
	entitySSO     = "ssoConnection"

	matrixWrongPassword = "Password-123456"
)

// refusalCodes are the refusals a call with B's ids may answer.
var refusalCodes = map[string]bool{"NOT_FOUND": true, "FORBIDDEN": true, "BAD_USER_INPUT": true, "UNAUTHENTICATED": true, "CONFLICT": true}

type matrixPrincipal struct {
	name, kind     string
	token, project string
}

type matrixEnv struct {
	s    *atriumtest.Server
	a, b string
	// bVal holds B's values by entity and attribute (id, email, name, profile).
	bVal map[string]map[string]string
	// aVal holds an entity of A (not a principal) per kind, for the
	// references a call needs besides the one under test.
	aVal map[string]string
	// needles are every id and name of B: none may appear in an answer.
	needles map[string]string

	user, dev, m2m matrixPrincipal
	bClientID      string
	bSecret        string
	bDevTicket     string
	start          time.Time
	seq            int
}

func (e *matrixEnv) freshEmail() any {
	e.seq++
	return fmt.Sprintf("iso-fresh-%d@a.example.com", e.seq)
}

func (e *matrixEnv) freshName() any {
	e.seq++
	return fmt.Sprintf("iso-fresh-%d", e.seq)
}

func (e *matrixEnv) principals() []*matrixPrincipal {
	return []*matrixPrincipal{&e.user, &e.dev, &e.m2m, {name: "operator", kind: "OPERATOR", token: atriumtest.AdminSecret, project: e.a}}
}

func setupMatrix(t *testing.T, s *atriumtest.Server) *matrixEnv {
	t.Helper()
	env := &matrixEnv{s: s, a: s.Sandbox, bVal: map[string]map[string]string{}, aVal: map[string]string{}, needles: map[string]string{}}
	ctx := t.Context()
	cp, err := client.CreateProject(ctx, s.Operator(""), client.CreateProjectInput{Name: "bonly-project-Qx7", Description: ptr("bonly-project-description"), FhirVersion: client.FhirVersionR4})
	atriumtest.Must(t, err)
	env.b = cp.CreateProject.Project.Id
	b := env.b
	opB := s.Operator(b)

	// Every kind of entity in B.
	bRole := atriumtest.CreateRoleWith(t, opB, client.CreateRoleInput{Name: "bonly-role-Kv3", Description: ptr("bonly-role-description"),
		AccessPolicy: atriumtest.Policy(atriumtest.Allow("IAM:Role", "IAM:GetRole"))})
	app, err := client.CreateApplication(ctx, opB, client.CreateApplicationInput{Name: "bonly-app-Zt9", Description: ptr("bonly-app-description"),
		AllowedCallbackUrls: []string{"https://bonly-callback.example.com/cb"}})
	atriumtest.Must(t, err)
	bApp := app.CreateApplication.Application
	bUser := atriumtest.Invite(t, opB, client.InviteUserInput{Email: ptr("bonly-user-w2@b.example.com"), Username: ptr("Bonly Username Pq4"),
		ApplicationId: bApp.Id, Roles: []string{bRole},
		Resource: &map[string]any{"resourceType": "Practitioner", "name": []any{map[string]any{"family": "Bonlyfamily"}}}})
	s.Accept(t, bUser.Ticket, testPassword)
	dev, err := client.InviteDeveloper(ctx, opB, client.InviteDeveloperInput{Email: "bonly-dev-m8@b.example.com", Roles: []string{bRole}})
	atriumtest.Must(t, err)
	bDev := dev.InviteDeveloper.Developer
	if dev.InviteDeveloper.InvitationUrl == nil {
		t.Fatal("B's new developer got no invitation link")
	}
	env.bDevTicket = atriumtest.Ticket(t, *dev.InviteDeveloper.InvitationUrl)
	m2m, err := client.CreateM2MClient(ctx, opB, client.CreateM2MClientInput{Name: "bonly-m2m-Hd5", Description: ptr("bonly-m2m-description"), Roles: []string{bRole}})
	atriumtest.Must(t, err)
	bM2M := m2m.CreateM2MClient.M2mClient
	// Rotate B's client before the matrix: the secret must still work after.
	env.bClientID, env.bSecret = bM2M.ClientId, atriumtest.RotateSecret(t, opB, bM2M.Id)
	s.M2MToken(t, env.bClientID, env.bSecret)

	env.bVal[entityRole] = map[string]string{"id": bRole}
	env.bVal[entityApp] = map[string]string{"id": bApp.Id}
	env.bVal[entityUser] = map[string]string{"id": bUser.UserID, "email": "bonly-user-w2@b.example.com", "name": "Bonly Username Pq4"}
	env.bVal[entityDev] = map[string]string{"id": bDev.Id, "email": "bonly-dev-m8@b.example.com"}
	env.bVal[entityM2M] = map[string]string{"id": bM2M.Id, "name": "bonly-m2m-Hd5"}
	env.bVal[entityProfile] = map[string]string{"profile": bUser.Profile}
	var bSSO struct {
		CreateSSOConnection struct{ SsoConnection struct{ ID string } }
	}
	opB.MustDo(t, `mutation { createSSOConnection(input: {name: "bonly-sso-Yc6", issuer: "https://bonly-idp.example.com", clientId: "bonly-sso-client",
		clientSecret: "bonly-sso-secret"}) { ssoConnection { id } } }`, nil, &bSSO)
	env.bVal[entitySSO] = map[string]string{"id": bSSO.CreateSSOConnection.SsoConnection.ID, "name": "bonly-sso-Yc6"}

	// Every id and name of B is a needle, including B's default machine
	// client and every profile.
	add := func(v, what string) {
		if v == "" {
			t.Fatalf("setup: B's %s is empty", what)
		}
		env.needles[v] = what
	}
	// Global ids (node, nodes) name B's entities too.
	for entity, typ := range map[string]string{entityRole: "Role", entityApp: "Application", entityUser: "User", entityDev: "Developer", entityM2M: "M2MClient"} {
		gid := iam.GlobalID(typ, env.bVal[entity]["id"])
		env.bVal[entity]["globalId"] = gid
		add(gid, entity+" global id")
	}
	add(b, "project id")
	add("bonly-project-Qx7", "project name")
	add("bonly-project-description", "project description")
	add(bRole, "role id")
	add("bonly-role-Kv3", "role name")
	add("bonly-role-description", "role description")
	add(bApp.Id, "application id")
	add(bApp.ClientId, "application clientId")
	add("bonly-app-Zt9", "application name")
	add("bonly-app-description", "application description")
	add("bonly-callback.example.com", "application callback")
	add(bUser.UserID, "user id")
	add("bonly-user-w2@b.example.com", "user email")
	add("Bonly Username Pq4", "user name")
	add("Bonlyfamily", "user's profile resource")
	add(refID(bUser.Profile), "user profile")
	add(bDev.Id, "developer id")
	add("bonly-dev-m8@b.example.com", "developer email")
	add(refID(bDev.Profile), "developer profile")
	add(bM2M.Id, "m2m client id")
	add(bM2M.ClientId, "m2m clientId")
	add("bonly-m2m-Hd5", "m2m client name")
	add("bonly-m2m-description", "m2m client description")
	add(refID(bM2M.Profile), "m2m profile")
	add(bSSO.CreateSSOConnection.SsoConnection.ID, "sso connection id")
	add("bonly-sso-Yc6", "sso connection name")
	add("bonly-idp.example.com", "sso connection issuer")
	add("bonly-sso-client", "sso connection client id")
	add("bonly-sso-secret", "sso connection client secret")
	var all struct {
		M2mClients struct {
			Edges []struct {
				Node struct{ ID, ClientID, Name, Profile string }
			}
		}
	}
	opB.MustDo(t, `{ m2mClients(first: 100) { edges { node { id clientId name profile } } } }`, nil, &all)
	for _, e := range all.M2mClients.Edges {
		if e.Node.ID != bM2M.Id {
			add(e.Node.ID, "default m2m client id")
			add(e.Node.ClientID, "default m2m clientId")
			add(refID(e.Node.Profile), "default m2m profile")
		}
	}

	// A: targets (entities that are not principals) and the three
	// principals, each with full access so that only isolation can refuse.
	a := env.a
	opA := s.Operator(a)
	env.aVal[entityRole] = atriumtest.CreateRoleWith(t, opA, client.CreateRoleInput{Name: "iso-a-target-role"})
	aApp := atriumtest.CreateApplication(t, opA, client.CreateApplicationInput{Name: "iso-a-app", AllowedCallbackUrls: []string{}})
	env.aVal[entityApp] = aApp
	target := atriumtest.Invite(t, opA, client.InviteUserInput{Email: ptr("iso-a-target@a.example.com"), ApplicationId: aApp, Roles: []string{env.aVal[entityRole]}})
	env.aVal[entityUser], env.aVal[entityProfile] = target.UserID, target.Profile
	targetDev, err := client.InviteDeveloper(ctx, opA, client.InviteDeveloperInput{Email: "iso-a-target-dev@a.example.com", Roles: []string{env.aVal[entityRole]}})
	atriumtest.Must(t, err)
	env.aVal[entityDev] = targetDev.InviteDeveloper.Developer.Id
	targetM2M, err := client.CreateM2MClient(ctx, opA, client.CreateM2MClientInput{Name: "iso-a-target-m2m", Roles: []string{env.aVal[entityRole]}})
	atriumtest.Must(t, err)
	env.aVal[entityM2M] = targetM2M.CreateM2MClient.M2mClient.Id
	var aSSO struct {
		CreateSSOConnection struct{ SsoConnection struct{ ID string } }
	}
	opA.MustDo(t, `mutation { createSSOConnection(input: {name: "iso-a-sso", issuer: "https://iso-a-idp.example.com", clientId: "iso-a"}) { ssoConnection { id } } }`, nil, &aSSO)
	env.aVal[entitySSO] = aSSO.CreateSSOConnection.SsoConnection.ID

	// The user of A (invited, accepted, signed in), the developer of A (a
	// member of A only), and A's machine client with a token from
	// /oauth/token.
	user := s.SignedInUser(t, opA, client.InviteUserInput{Email: ptr("iso-a-user@a.example.com"), ApplicationId: aApp, AccessPolicy: atriumtest.FullAccess()}, testPassword)
	env.user = matrixPrincipal{name: "user", kind: "USER", token: user.Token}
	developer := s.SignedInDeveloper(t, opA, client.InviteDeveloperInput{Email: "iso-a-dev@a.example.com", AccessPolicy: atriumtest.FullAccess()}, testPassword)
	env.dev = matrixPrincipal{name: "developer", kind: "DEVELOPER", token: developer.Token, project: a}
	machine := s.MachineToken(t, opA, client.CreateM2MClientInput{Name: "iso-a-m2m", AccessPolicy: atriumtest.FullAccess()})
	env.m2m = matrixPrincipal{name: "m2m", kind: "M2M_CLIENT", token: machine.Token}

	// Each principal works in A (else every refusal below would prove nothing).
	for _, p := range []matrixPrincipal{env.user, env.dev, env.m2m} {
		var out struct{ Project struct{ ID string } }
		s.Client(p.token, p.project).MustDo(t, `{ project { id } }`, nil, &out)
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
func (e *matrixEnv) snapshotB(t *testing.T, g *matrixGen) string {
	t.Helper()
	var parts []string
	for _, f := range []struct{ name, args string }{
		{"project", ""}, {"roles", ""}, {"applications", ""},
		{"users", "(first: 100)"}, {"developers", "(first: 100)"}, {"m2mClients", "(first: 100)"}, {"ssoConnections", ""},
	} {
		op := g.byName[f.name]
		if op == nil {
			t.Fatalf("the schema has no query %s", f.name)
		}
		sel, err := g.selection(op.field.Type, selectionDepth)
		if err != nil {
			t.Fatal(err)
		}
		// One query per list: together they cost more than the
		// complexity limit allows in one.
		r := e.s.Client(atriumtest.AdminSecret, e.b).Do(t, "{ "+f.name+f.args+" "+sel+" }", nil)
		if len(r.Errors) > 0 {
			t.Fatalf("reading B's %s: %+v", f.name, r.Errors)
		}
		parts = append(parts, string(r.Data))
	}
	return strings.Join(parts, "\n")
}

// checkB reads each of B's entities by id and signs B's machine client in
// with the secret it had before the matrix.
func (e *matrixEnv) checkB(t *testing.T) {
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
	e.s.Client(atriumtest.AdminSecret, e.b).MustDo(t, `query($r: ID!, $a: ID!, $u: ID!, $d: ID!, $m: ID!) {
		role(id: $r) { name description version memberCount }
		application(id: $a) { name clientId }
		user(id: $u) { email name status version }
		developer(id: $d) { email }
		m2mClient(id: $m) { name clientId }
		project { name version }
	}`, map[string]any{"r": e.bVal[entityRole]["id"], "a": e.bVal[entityApp]["id"], "u": e.bVal[entityUser]["id"], "d": e.bVal[entityDev]["id"], "m": e.bVal[entityM2M]["id"]}, &out)
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
	r := e.s.ClientCredentials(t, e.bClientID, e.bSecret)
	tok, _ := r.Body["access_token"].(string)
	if r.Status != http.StatusOK || tok == "" {
		t.Fatalf("B's machine client secret stopped working during the matrix: %d %s", r.Status, r.Raw)
	}
	var me struct{ M2mMe struct{ ID string } }
	e.s.Client(tok, "").MustDo(t, `{ m2mMe { id } }`, nil, &me)
	if me.M2mMe.ID != e.bVal[entityM2M]["id"] {
		t.Errorf("B's machine token acts as %q, want %q", me.M2mMe.ID, e.bVal[entityM2M]["id"])
	}
}

// checkAudit reads both audit trails since the matrix began. A's may name
// B's ids only as the target of a refused attempt (A's caller's own input);
// B's may hold only refused public sign-in attempts.
func (e *matrixEnv) checkAudit(t *testing.T) {
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
			e.s.Client(atriumtest.AdminSecret, project).MustDo(t, `query($since: Time, $after: String) {
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
func (e *matrixEnv) inviteBDeveloper(t *testing.T) {
	t.Helper()
	email := e.bVal[entityDev]["email"]
	r := e.s.Client(e.dev.token, e.a).Do(t, `mutation($e: String!, $r: [ID!]) {
		inviteDeveloper(input: {email: $e, roles: $r}) {
			developer { id email name profile roles { id name } accessPolicy { rule { resource action effect } } }
			invitationUrl
		} }`, map[string]any{"e": email, "r": []string{e.aVal[entityRole]}})
	if len(r.Errors) > 0 {
		t.Fatalf("inviting B's developer into A: %s", r.Raw)
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
	if id := out.InviteDeveloper.Developer.ID; id != e.bVal[entityDev]["id"] {
		t.Errorf("the invited account is %q, want the one account %q (no second account)", id, e.bVal[entityDev]["id"])
	}
	// Its membership of A, read back: A's role and a profile of A.
	var m struct {
		Developer struct {
			ID, Profile string
			Roles       []struct{ ID string }
		}
	}
	e.s.Client(atriumtest.AdminSecret, e.a).MustDo(t, `query($id: ID!) { developer(id: $id) { id profile roles { id } } }`, map[string]any{"id": e.bVal[entityDev]["id"]}, &m)
	d := m.Developer
	if len(d.Roles) != 1 || d.Roles[0].ID != e.aVal[entityRole] {
		t.Errorf("the developer's roles in A are %+v, want only A's role", d.Roles)
	}
	if refID(d.Profile) == e.needleOf("developer profile") || !strings.HasPrefix(d.Profile, "Practitioner/") {
		t.Errorf("the developer's profile in A is %q, want a Practitioner of A (not B's)", d.Profile)
	}
	body := strings.ToLower(string(r.Raw))
	for n, what := range e.needles {
		if n != d.ID && n != email && strings.Contains(body, strings.ToLower(n)) {
			t.Errorf("LEAK: inviting B's developer into A answers B's %s %q: %s", what, n, r.Raw)
		}
	}
	// B's own invitation link still works.
	acc := e.s.Client("", "").Do(t, `mutation($t: String!, $p: String!) { acceptInvitation(input: {ticket: $t, password: $p}) { developer { id profile } } }`, map[string]any{"t": e.bDevTicket, "p": testPassword})
	if len(acc.Errors) > 0 {
		msg := fmt.Sprintf("inviting B's pending developer into A replaces the developer's one invitation ticket, so B's invitation link stops working "+
			"(service/developer.go InviteDeveloper → store Developers.SetInvitation): %s", acc.Raw)
		t.Fatal(msg)
	}
	var accOut struct {
		AcceptInvitation struct{ Developer struct{ ID, Profile string } }
	}
	_ = json.Unmarshal(acc.Data, &accOut)
	if got := accOut.AcceptInvitation.Developer; got.ID != e.bVal[entityDev]["id"] || refID(got.Profile) != e.needleOf("developer profile") {
		t.Errorf("B's invitation link accepted %+v, want B's developer with its profile in B", got)
	}
}

// needleOf returns B's value described as what.
func (e *matrixEnv) needleOf(what string) string {
	for n, w := range e.needles {
		if w == what {
			return n
		}
	}
	return ""
}

// refID is the id of a reference such as Practitioner/<uuid>.
func refID(ref string) string {
	_, id, _ := strings.Cut(ref, "/")
	return id
}
