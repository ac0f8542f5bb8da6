package api_test

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/Khan/genqlient/graphql"

	"atrium/atriumtest"
	"atrium/client"
)

var practitionerRef = regexp.MustCompile(`^Practitioner/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// roleIDs returns the ids of a developer's roles.
func roleIDs(d client.DeveloperParts) []string {
	var ids []string
	for _, r := range d.Roles {
		ids = append(ids, r.Id)
	}
	return ids
}

// projectID reads the project in scope of c; err is the request's error.
func projectID(t testing.TB, c graphql.Client) (string, error) {
	t.Helper()
	res, err := client.Project(t.Context(), c)
	if err != nil {
		return "", err
	}
	return res.Project.Id, nil
}

// canUpdateProject renames the project in scope of c.
func canUpdateProject(t testing.TB, c graphql.Client, name string) error {
	t.Helper()
	_, err := client.UpdateProject(t.Context(), c, client.UpdateProjectInput{Name: &name})
	return err
}

// canListRoles lists the roles of the project in scope of c.
func canListRoles(t testing.TB, c graphql.Client) error {
	t.Helper()
	_, err := client.Roles(t.Context(), c, nil, nil)
	return err
}

// projectIDs lists the ids of the projects c's caller may see, sorted.
func projectIDs(t testing.TB, c graphql.Client) []string {
	t.Helper()
	res, err := client.Projects(t.Context(), c)
	atriumtest.Must(t, err)
	var ids []string
	for _, p := range res.Projects {
		ids = append(ids, p.Id)
	}
	slices.Sort(ids)
	return ids
}

func sortedIDs(ids ...string) []string {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	return ids
}

// notFoundShape is a NOT_FOUND message with the project id taken out, so
// that the answers for two different ids can be compared.
func notFoundShape(t testing.TB, err error, id string) string {
	t.Helper()
	msg := atriumtest.FailsWith(t, err, "NOT_FOUND")
	return strings.ReplaceAll(msg, id, "<id>")
}

// One developer in two projects with different roles: invitation, sign-in,
// per-project rights, not-a-member, roles replaced, membership removed, and
// a project of its own. Everything goes through the typed client.
func TestDeveloperInTwoProjects(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	ctx := t.Context()
	a, b, c := s.CreateProject(t, "Dev A"), s.CreateProject(t, "Dev B"), s.CreateProject(t, "Dev C")
	opA, opB, opC := s.Operator(a), s.Operator(b), s.Operator(c)
	anon := s.Client("", "")

	// In A the developer may read the project and list roles; in B it may
	// read and change the project but not list roles.
	roleA := atriumtest.CreateRole(t, opA, "A reader", atriumtest.Allow("Project:Settings", "Project:GetProjectInfo"), atriumtest.Allow("IAM:Role", "IAM:ListAllRoles"))
	roleA2 := atriumtest.CreateRole(t, opA, "A editor", atriumtest.Allow("Project:Settings", "Project:GetProjectInfo", "Project:UpdateProjectInfo"))
	roleB := atriumtest.CreateRole(t, opB, "B editor", atriumtest.Allow("Project:Settings", "Project:GetProjectInfo", "Project:UpdateProjectInfo"))

	// Roles-or-policy: neither, or an empty roles list, is refused.
	for _, in := range []client.InviteDeveloperInput{
		{Email: "dev.one@example.com"},
		{Email: "dev.one@example.com", Roles: []string{}},
	} {
		_, err := client.InviteDeveloper(ctx, opA, in)
		atriumtest.FailsWith(t, err, "BAD_USER_INPUT")
		if f := atriumtest.ErrorField(err); f != "input.roles" {
			t.Errorf("roles-or-policy error names field %q", f)
		}
	}
	devs, err := client.Developers(ctx, opA, nil, nil, nil)
	atriumtest.Must(t, err)
	if n := len(devs.Developers.Edges); n != 0 {
		t.Fatalf("a refused invitation left %d developers in A", n)
	}

	// Invite into A: an account is created, with an invitation link.
	inv, err := client.InviteDeveloper(ctx, opA, client.InviteDeveloperInput{
		Email: "  Dev.One@Example.com ", Roles: []string{roleA},
		Practitioner: &map[string]any{"resourceType": "Practitioner", "name": []any{map[string]any{"family": "One"}}},
	})
	atriumtest.Must(t, err)
	dev := inv.InviteDeveloper.Developer
	if dev.Email != "dev.one@example.com" || dev.Name != dev.Email || !atriumtest.UUID.MatchString(dev.Id) || !practitionerRef.MatchString(dev.Profile) || dev.AccessPolicy != nil {
		t.Fatalf("invited developer: %+v", dev)
	}
	// (The payload's roles are checked by TestInviteDeveloperResponseListsRoles.)
	if got, err := client.Developer(ctx, opA, dev.Id); err != nil || !slices.Equal(roleIDs(got.Developer.DeveloperParts), []string{roleA}) {
		t.Fatalf("developer(id) after the invitation: %+v, %v", got, err)
	}
	if inv.InviteDeveloper.InvitationUrl == nil {
		t.Fatal("a new developer got no invitationUrl")
	}
	ticket := atriumtest.Ticket(t, *inv.InviteDeveloper.InvitationUrl)

	// The developer accepts: the payload names the developer, not a user.
	acc, err := client.AcceptInvitation(ctx, anon, client.AcceptInvitationInput{Ticket: ticket, Password: testPassword})
	atriumtest.Must(t, err)
	if acc.AcceptInvitation.User != nil || acc.AcceptInvitation.Developer == nil ||
		acc.AcceptInvitation.Developer.Id != dev.Id || acc.AcceptInvitation.Developer.Email != dev.Email {
		t.Fatalf("acceptInvitation: %+v", acc.AcceptInvitation)
	}
	_, err = client.AcceptInvitation(ctx, anon, client.AcceptInvitationInput{Ticket: ticket, Password: "another-password-1"})
	atriumtest.FailsWith(t, err, "NOT_FOUND") // a ticket works once

	// Sign in: the token is not bound to a project.
	sess, err := client.SignInDeveloper(ctx, anon, client.SignInDeveloperInput{Email: "DEV.ONE@example.com", Password: testPassword})
	atriumtest.Must(t, err)
	if sess.SignInDeveloper.DeveloperId != dev.Id || sess.SignInDeveloper.AccessToken == "" {
		t.Fatalf("signInDeveloper: %+v", sess.SignInDeveloper)
	}
	tok := sess.SignInDeveloper.AccessToken

	// Invited into B with another role: a membership of the same account,
	// and no invitation link (it has a password already).
	invB, err := client.InviteDeveloper(ctx, opB, client.InviteDeveloperInput{Email: "dev.one@example.com", Roles: []string{roleB}})
	atriumtest.Must(t, err)
	devB := invB.InviteDeveloper.Developer
	if invB.InviteDeveloper.InvitationUrl != nil {
		t.Errorf("a developer with a password got an invitationUrl: %q", *invB.InviteDeveloper.InvitationUrl)
	}
	if devB.Id != dev.Id || devB.Email != dev.Email {
		t.Fatalf("developer invited into B: %+v (A's: %+v)", devB, dev)
	}
	if got, err := client.Developer(ctx, opB, dev.Id); err != nil || !slices.Equal(roleIDs(got.Developer.DeveloperParts), []string{roleB}) {
		t.Fatalf("developer(id) in B: %+v, %v", got, err)
	}
	if !practitionerRef.MatchString(devB.Profile) || devB.Profile == dev.Profile {
		t.Errorf("B's profile %q should be a Practitioner of B, not A's %q", devB.Profile, dev.Profile)
	}
	// Into A again: already a member.
	_, err = client.InviteDeveloper(ctx, opA, client.InviteDeveloperInput{Email: "dev.one@example.com", Roles: []string{roleA2}})
	atriumtest.FailsWith(t, err, "CONFLICT")

	inA, inB, inC := s.Client(tok, a), s.Client(tok, b), s.Client(tok, c)

	// A: what roleA allows, nothing more.
	if id, err := projectID(t, inA); err != nil || id != a {
		t.Fatalf("project in A: %q, %v", id, err)
	}
	atriumtest.Must(t, canListRoles(t, inA))
	atriumtest.FailsWith(t, canUpdateProject(t, inA, "renamed by dev"), "FORBIDDEN")
	// B: what roleB allows, nothing more.
	if id, err := projectID(t, inB); err != nil || id != b {
		t.Fatalf("project in B: %q, %v", id, err)
	}
	atriumtest.Must(t, canUpdateProject(t, inB, "B renamed by dev"))
	atriumtest.FailsWith(t, canListRoles(t, inB), "FORBIDDEN")

	// C, of which it is not a member, looks exactly like a project that
	// does not exist.
	_, errC := projectID(t, inC)
	const ghost = "00000000-0000-4000-8000-000000000000"
	_, errGhost := projectID(t, s.Client(tok, ghost))
	if shapeC, shapeGhost := notFoundShape(t, errC, c), notFoundShape(t, errGhost, ghost); shapeC != shapeGhost {
		t.Errorf("not a member: %q; no such project: %q", shapeC, shapeGhost)
	}
	atriumtest.FailsWith(t, canUpdateProject(t, inC, "hijacked"), "NOT_FOUND")
	// An outsider leaves no trace in C's audit trail.
	if evs, err := client.AuditEvents(ctx, opC, nil, nil, &client.AuditEventFilter{ActorId: &dev.Id}); err != nil || len(evs.AuditEvents.Edges) != 0 {
		t.Fatalf("C's audit events by the outsider: %+v, %v", evs, err)
	}
	// No project header at all.
	_, err = projectID(t, s.Client(tok, ""))
	atriumtest.FailsWith(t, err, "BAD_USER_INPUT")
	// The legacy header names the project as well.
	legacyHeaderProject(t, s, tok, b)

	if got, want := projectIDs(t, s.Client(tok, "")), sortedIDs(a, b); !slices.Equal(got, want) {
		t.Fatalf("projects = %v, want A and B %v", got, want)
	}

	// updateDeveloper replaces A's roles: now it may update A but no longer
	// list its roles; B is unaffected.
	up, err := client.UpdateDeveloper(ctx, opA, client.UpdateDeveloperInput{Id: dev.Id, Roles: []string{roleA2}})
	atriumtest.Must(t, err)
	if got := roleIDs(up.UpdateDeveloper.Developer.DeveloperParts); !slices.Equal(got, []string{roleA2}) {
		t.Fatalf("roles after updateDeveloper: %v", got)
	}
	atriumtest.Must(t, canUpdateProject(t, inA, "A renamed by dev"))
	atriumtest.FailsWith(t, canListRoles(t, inA), "FORBIDDEN")
	atriumtest.FailsWith(t, canListRoles(t, inB), "FORBIDDEN")
	// Roles-or-policy holds on update (an empty list cannot be sent through
	// the typed client, whose roles are omitempty).
	r := s.Operator(a).Do(t, `mutation($id: ID!) { updateDeveloper(input: {id: $id, roles: []}) { developer { id } } }`, map[string]any{"id": dev.Id})
	if r.Code() != "BAD_USER_INPUT" {
		t.Fatalf("updateDeveloper to no roles and no policy: %+v", r.Errors)
	}
	one, err := client.Developer(ctx, opA, dev.Id)
	atriumtest.Must(t, err)
	if got := roleIDs(one.Developer.DeveloperParts); !slices.Equal(got, []string{roleA2}) || one.Developer.Email != dev.Email || one.Developer.Profile != dev.Profile {
		t.Fatalf("developer(id) after a refused update: %+v", one.Developer)
	}
	// Another project's developer id is not found, in C and as an update.
	_, err = client.Developer(ctx, opC, dev.Id)
	atriumtest.FailsWith(t, err, "NOT_FOUND")
	_, err = client.UpdateDeveloper(ctx, opC, client.UpdateDeveloperInput{Id: dev.Id, Roles: []string{roleA}})
	atriumtest.FailsWith(t, err, "NOT_FOUND")

	// removeDeveloper ends A's membership only.
	rm, err := client.RemoveDeveloper(ctx, opA, client.RemoveDeveloperInput{Id: dev.Id})
	atriumtest.Must(t, err)
	if rm.RemoveDeveloper.RemovedDeveloperId != dev.Id {
		t.Fatalf("removeDeveloper: %+v", rm.RemoveDeveloper)
	}
	_, err = projectID(t, inA)
	atriumtest.FailsWith(t, err, "NOT_FOUND")
	atriumtest.FailsWith(t, canUpdateProject(t, inA, "after removal"), "NOT_FOUND")
	if id, err := projectID(t, inB); err != nil || id != b {
		t.Fatalf("project in B after removal from A: %q, %v", id, err)
	}
	_, err = client.Developer(ctx, opA, dev.Id)
	atriumtest.FailsWith(t, err, "NOT_FOUND")
	_, err = client.RemoveDeveloper(ctx, opA, client.RemoveDeveloperInput{Id: dev.Id})
	atriumtest.FailsWith(t, err, "NOT_FOUND")
	if got, want := projectIDs(t, s.Client(tok, "")), []string{b}; !slices.Equal(got, want) {
		t.Fatalf("projects after removal from A = %v, want %v", got, want)
	}

	// A project the developer creates is its own, with full access.
	cp, err := client.CreateProject(ctx, s.Client(tok, ""), client.CreateProjectInput{Name: "Dev's own", FhirVersion: client.FhirVersionR5})
	atriumtest.Must(t, err)
	d := cp.CreateProject.Project.Id
	inD := s.Client(tok, d)
	atriumtest.Must(t, canUpdateProject(t, inD, "Dev's own, renamed"))
	atriumtest.Must(t, canListRoles(t, inD))
	members, err := client.Developers(ctx, inD, nil, nil, nil)
	atriumtest.Must(t, err)
	if len(members.Developers.Edges) != 1 {
		t.Fatalf("developers of the new project: %+v", members.Developers.Edges)
	}
	creator := members.Developers.Edges[0].Node
	if creator.Id != dev.Id || len(creator.Roles) != 0 || creator.AccessPolicy == nil || len(creator.AccessPolicy.Rule) != 1 ||
		!slices.Equal(creator.AccessPolicy.Rule[0].Resource, []string{"*"}) || !slices.Equal(creator.AccessPolicy.Rule[0].Action, []string{"*"}) ||
		creator.AccessPolicy.Rule[0].Effect != client.EffectAllow {
		t.Fatalf("the creator's membership: %+v", creator)
	}
	if got, want := projectIDs(t, s.Client(tok, "")), sortedIDs(b, d); !slices.Equal(got, want) {
		t.Fatalf("projects after createProject = %v, want %v", got, want)
	}
	// The operator sees every project, the developer's new one included.
	if got := projectIDs(t, s.Operator("")); !slices.Contains(got, d) || !slices.Contains(got, a) {
		t.Fatalf("operator's projects %v miss A or D", got)
	}
}

// legacyHeaderProject reads the project named by x-zapehr-project-id.
func legacyHeaderProject(t *testing.T, s *atriumtest.Server, token, project string) {
	t.Helper()
	hc := &http.Client{Transport: headerSet{
		"Authorization":       "Bearer " + token,
		"X-Zapehr-Project-Id": project,
	}.wrap(s.Server.Client().Transport)}
	res, err := client.Project(t.Context(), graphql.NewClient(s.URL+"/graphql", hc))
	atriumtest.Must(t, err)
	if res.Project.Id != project {
		t.Fatalf("project by the legacy header = %q, want %q", res.Project.Id, project)
	}
}

// headerSet sets fixed headers on every request of a typed client.
type headerSet map[string]string

func (h headerSet) wrap(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return roundTripper{h: h, next: next}
}

type roundTripper struct {
	h    headerSet
	next http.RoundTripper
}

func (rt roundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range rt.h {
		r.Header.Set(k, v)
	}
	return rt.next.RoundTrip(r)
}

// Listing, paging and filtering developers, and the sign-in failures.
func TestDevelopersListAndSignInFailures(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	ctx := t.Context()
	a := s.CreateProject(t, "Listing")
	opA := s.Operator(a)
	staff := atriumtest.CreateRole(t, opA, "Staff", atriumtest.Allow("Project:Settings", "Project:GetProjectInfo"))
	admin := atriumtest.CreateRole(t, opA, "Admin", atriumtest.Allow("*", "*"))

	type invite struct {
		email  string
		roles  []string
		policy *client.AccessPolicyInput
	}
	invites := []invite{
		{"d1@example.com", []string{staff}, nil},
		{"d2@example.com", []string{admin, staff}, nil},
		{"d3@example.com", nil, atriumtest.Policy(atriumtest.Allow("IAM:Role", "IAM:ListAllRoles"))},
		{"d4@example.com", []string{admin}, atriumtest.Policy(atriumtest.Allow("IAM:Role", "IAM:GetRole"))},
	}
	var ids, links []string
	for _, in := range invites {
		res, err := client.InviteDeveloper(ctx, opA, client.InviteDeveloperInput{Email: in.email, Roles: in.roles, AccessPolicy: in.policy})
		atriumtest.Must(t, err)
		if res.InviteDeveloper.InvitationUrl == nil {
			t.Fatalf("%s got no invitationUrl", in.email)
		}
		ids = append(ids, res.InviteDeveloper.Developer.Id)
		links = append(links, *res.InviteDeveloper.InvitationUrl)
	}

	// first: 1 walks through every developer in the order they joined.
	var seen []string
	var after *string
	for page := 0; ; page++ {
		if page > len(ids) {
			t.Fatalf("paging does not end: %v", seen)
		}
		res, err := client.Developers(ctx, opA, ptr(1), after, nil)
		atriumtest.Must(t, err)
		conn := res.Developers
		if len(conn.Edges) != 1 {
			t.Fatalf("page %d has %d edges", page, len(conn.Edges))
		}
		seen = append(seen, conn.Edges[0].Node.Id)
		if conn.PageInfo.EndCursor == nil || *conn.PageInfo.EndCursor != conn.Edges[0].Cursor {
			t.Fatalf("page %d: endCursor %v, edge cursor %q", page, conn.PageInfo.EndCursor, conn.Edges[0].Cursor)
		}
		if !conn.PageInfo.HasNextPage {
			break
		}
		after = conn.PageInfo.EndCursor
	}
	if !slices.Equal(seen, ids) {
		t.Fatalf("paged developers %v, want %v", seen, ids)
	}

	list := func(f client.DeveloperFilter) []string {
		t.Helper()
		res, err := client.Developers(ctx, opA, nil, nil, &f)
		atriumtest.Must(t, err)
		var out []string
		for _, e := range res.Developers.Edges {
			out = append(out, e.Node.Id)
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		filter client.DeveloperFilter
		want   []string
	}{
		{"email", client.DeveloperFilter{Email: ptr("d3@example.com")}, []string{ids[2]}},
		{"email, other case", client.DeveloperFilter{Email: ptr("D2@Example.COM")}, []string{ids[1]}},
		{"unknown email", client.DeveloperFilter{Email: ptr("nobody@example.com")}, nil},
		{"role staff", client.DeveloperFilter{RoleId: &staff}, []string{ids[0], ids[1]}},
		{"role admin", client.DeveloperFilter{RoleId: &admin}, []string{ids[1], ids[3]}},
		{"email and role", client.DeveloperFilter{Email: ptr("d1@example.com"), RoleId: &admin}, nil},
	} {
		if got := list(tc.filter); !slices.Equal(got, tc.want) {
			t.Errorf("%s: developers %v, want %v", tc.name, got, tc.want)
		}
	}

	// developer(id) shows the membership as invited.
	d4, err := client.Developer(ctx, opA, ids[3])
	atriumtest.Must(t, err)
	if d4.Developer.Email != "d4@example.com" || !slices.Equal(roleIDs(d4.Developer.DeveloperParts), []string{admin}) ||
		d4.Developer.AccessPolicy == nil || len(d4.Developer.AccessPolicy.Rule) != 1 || d4.Developer.AccessPolicy.Rule[0].Action[0] != "IAM:GetRole" {
		t.Fatalf("developer(d4): %+v", d4.Developer)
	}
	_, err = client.Developer(ctx, opA, "00000000-0000-4000-8000-000000000000")
	atriumtest.FailsWith(t, err, "NOT_FOUND")

	// updateDeveloper: roles given replace the set, an absent accessPolicy
	// stays; a policy given replaces the policy and absent roles stay.
	up, err := client.UpdateDeveloper(ctx, opA, client.UpdateDeveloperInput{Id: ids[2], Roles: []string{staff}})
	atriumtest.Must(t, err)
	if d := up.UpdateDeveloper.Developer; !slices.Equal(roleIDs(d.DeveloperParts), []string{staff}) || d.AccessPolicy == nil || d.AccessPolicy.Rule[0].Action[0] != "IAM:ListAllRoles" {
		t.Fatalf("d3 after its roles were set: %+v", d)
	}
	up, err = client.UpdateDeveloper(ctx, opA, client.UpdateDeveloperInput{Id: ids[3], AccessPolicy: atriumtest.Policy(atriumtest.Allow("IAM:Role", "IAM:UpdateRole"))})
	atriumtest.Must(t, err)
	if d := up.UpdateDeveloper.Developer; !slices.Equal(roleIDs(d.DeveloperParts), []string{admin}) || d.AccessPolicy == nil || d.AccessPolicy.Rule[0].Action[0] != "IAM:UpdateRole" {
		t.Fatalf("d4 after its policy was set: %+v", d)
	}
	if got := list(client.DeveloperFilter{RoleId: &staff}); !slices.Equal(got, []string{ids[0], ids[1], ids[2]}) {
		t.Errorf("role staff after the update: %v", got)
	}
	// Removing the inline policy of a developer without roles is refused.
	r := s.Operator(a).Do(t, `mutation($id: ID!) { updateDeveloper(input: {id: $id, roles: [], accessPolicy: null}) { developer { id } } }`, map[string]any{"id": ids[2]})
	if r.Code() != "BAD_USER_INPUT" {
		t.Fatalf("updateDeveloper to nothing: %+v", r.Errors)
	}

	// Sign-in failures: a wrong password and an unknown email look the same.
	// d1 has no password yet; set one first.
	inv, err := client.InviteDeveloper(ctx, s.Operator(s.Sandbox), client.InviteDeveloperInput{Email: "d1@example.com", Roles: nil, AccessPolicy: atriumtest.Policy(atriumtest.Allow("*", "*"))})
	atriumtest.Must(t, err)
	if inv.InviteDeveloper.InvitationUrl == nil || inv.InviteDeveloper.Developer.Id != ids[0] {
		t.Fatalf("invited into a second project before accepting: %+v", inv.InviteDeveloper)
	}
	anon := s.Client("", "")
	s.Accept(t, atriumtest.Ticket(t, *inv.InviteDeveloper.InvitationUrl), testPassword)
	// The password is set: A's link of d1 no longer works.
	_, err = client.AcceptInvitation(ctx, anon, client.AcceptInvitationInput{Ticket: atriumtest.Ticket(t, links[0]), Password: "a-different-password-2"})
	atriumtest.FailsWith(t, err, "NOT_FOUND")
	_, errWrong := client.SignInDeveloper(ctx, anon, client.SignInDeveloperInput{Email: "d1@example.com", Password: testPassword + "x"})
	_, errUnknown := client.SignInDeveloper(ctx, anon, client.SignInDeveloperInput{Email: "nobody@example.com", Password: testPassword})
	if mw, mu := atriumtest.FailsWith(t, errWrong, "UNAUTHENTICATED"), atriumtest.FailsWith(t, errUnknown, "UNAUTHENTICATED"); mw != mu {
		t.Errorf("wrong password says %q, unknown email says %q", mw, mu)
	}
	// The developer who accepted through the second project's link is a
	// member of both.
	sess, err := client.SignInDeveloper(ctx, anon, client.SignInDeveloperInput{Email: "d1@example.com", Password: testPassword})
	atriumtest.Must(t, err)
	if got, want := projectIDs(t, s.Client(sess.SignInDeveloper.AccessToken, "")), sortedIDs(a, s.Sandbox); !slices.Equal(got, want) {
		t.Fatalf("projects of d1 = %v, want %v", got, want)
	}
	// A developer token is refused where only users are allowed.
	_, err = client.Me(ctx, s.Client(sess.SignInDeveloper.AccessToken, a))
	atriumtest.FailsWith(t, err, "FORBIDDEN")
}

// The developer in the inviteDeveloper payload shows the roles it was given,
// as a later read does.
func TestInviteDeveloperResponseListsRoles(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	op := s.Operator(s.Sandbox)
	role := atriumtest.CreateRole(t, op, "Staff", atriumtest.Allow("Project:Settings", "Project:GetProjectInfo"))
	res, err := client.InviteDeveloper(t.Context(), op, client.InviteDeveloperInput{Email: "roles@example.com", Roles: []string{role}})
	atriumtest.Must(t, err)
	read, err := client.Developer(t.Context(), op, res.InviteDeveloper.Developer.Id)
	atriumtest.Must(t, err)
	if got := roleIDs(read.Developer.DeveloperParts); !slices.Equal(got, []string{role}) {
		t.Fatalf("stored developer's roles: %v", got)
	}
	if got := res.InviteDeveloper.Developer.Roles; len(got) != 1 || got[0].Id != role || got[0].Name != "Staff" {
		t.Fatalf("inviteDeveloper payload roles: %+v, want [Staff]", got)
	}
}
