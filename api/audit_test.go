package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Khan/genqlient/graphql"

	"atrium/atriumtest"
	"atrium/client"
)

type auditEvent = client.AuditEventsAuditEventsAuditEventConnectionEdgesAuditEventEdgeNodeAuditEvent

// readAuditEvents lists every audit event c may see with filter, newest first, in
// one page.
func readAuditEvents(t testing.TB, c graphql.Client, filter *client.AuditEventFilter) []auditEvent {
	t.Helper()
	res, err := client.AuditEvents(t.Context(), c, ptr(100), nil, filter)
	atriumtest.Must(t, err)
	if res.AuditEvents.PageInfo.HasNextPage {
		t.Fatal("more than 100 audit events")
	}
	out := make([]auditEvent, 0, len(res.AuditEvents.Edges))
	for _, e := range res.AuditEvents.Edges {
		out = append(out, e.Node)
	}
	return out
}

func eventIDs(es []auditEvent) []string {
	ids := make([]string, 0, len(es))
	for _, e := range es {
		ids = append(ids, e.Id)
	}
	return ids
}

func showEvent(e auditEvent) string {
	return fmt.Sprintf("%s %s by %s/%q on %s/%q -> %s %v (request %q)", e.Time.Format(time.RFC3339Nano), e.Action,
		e.Actor.Kind, e.Actor.Id, e.Target.Type, e.Target.Id, e.Outcome, e.ChangedFields, e.RequestId)
}

// wantEvent is one expected audit event.
type wantEvent struct {
	action             string
	actorKind, actorID string
	targetType         string
	targetID           string
	outcome            string
	fields             []string // nil: not checked
	requestID          string   // "": any non-empty
}

func (w wantEvent) matches(e auditEvent) bool {
	return e.Action == w.action && e.Actor.Kind == w.actorKind && e.Actor.Id == w.actorID &&
		e.Target.Type == w.targetType && e.Target.Id == w.targetID && e.Outcome == w.outcome &&
		(w.fields == nil || slices.Equal(e.ChangedFields, w.fields)) &&
		(w.requestID == "" || e.RequestId == w.requestID)
}

func (w wantEvent) String() string {
	return fmt.Sprintf("%s by %s/%q on %s/%q -> %s %v", w.action, w.actorKind, w.actorID, w.targetType, w.targetID, w.outcome, w.fields)
}

// withHeaders is a typed client of s that sends fixed headers.
func withHeaders(s *atriumtest.Server, h headerSet) graphql.Client {
	return graphql.NewClient(s.URL+"/graphql", &http.Client{Transport: h.wrap(s.Server.Client().Transport)})
}

// One audit event per state-changing operation, with the right action,
// actor, target, outcome, request id and changed fields, and no secret; the
// filters, paging, and the project boundary.
func TestAuditTrail(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	ctx := t.Context()
	p := s.CreateProject(t, "Audited")
	op := s.Operator(p)
	anon := s.Client("", "")
	var want []wantEvent
	secrets := []string{testPassword}
	expect := func(w wantEvent) { want = append(want, w) }
	expect(wantEvent{"Project:CreateProject", "OPERATOR", "", "Project", p, "success", nil, ""})

	// Roles: create (with a request id of our own), update, delete.
	opReq := withHeaders(s, headerSet{"Authorization": "Bearer " + atriumtest.AdminSecret, "X-Oystehr-Project-Id": p, "X-Request-Id": "audit-create-role-request"})
	cr, err := client.CreateRole(ctx, opReq, client.CreateRoleInput{
		Name: "Editor", Description: ptr("edits the project"),
		AccessPolicy: atriumtest.Policy(atriumtest.Allow("Project:Settings", "Project:GetProjectInfo", "Project:UpdateProjectInfo")),
	})
	atriumtest.Must(t, err)
	role := cr.CreateRole.Role.Id
	expect(wantEvent{"IAM:CreateRole", "OPERATOR", "", "Role", role, "success", []string{"accessPolicy", "description", "name"}, "audit-create-role-request"})
	s.Operator(p).MustDo(t, `mutation($id: ID!) { updateRole(input: {id: $id, name: "Project editor", accessPolicy: {rule: [{resource: "Project:Settings", action: ["Project:GetProjectInfo", "Project:UpdateProjectInfo"], effect: Allow}]}}) { role { id } } }`,
		map[string]any{"id": role}, nil)
	expect(wantEvent{"IAM:UpdateRole", "OPERATOR", "", "Role", role, "success", []string{"accessPolicy", "id", "name"}, ""})
	temp := atriumtest.CreateRole(t, op, "Temporary", atriumtest.Allow("IAM:Role", "IAM:GetRole"))
	expect(wantEvent{"IAM:CreateRole", "OPERATOR", "", "Role", temp, "success", []string{"accessPolicy", "description", "name"}, ""})
	s.Operator(p).MustDo(t, `mutation($id: ID!) { deleteRole(input: {id: $id}) { deletedRoleId } }`, map[string]any{"id": temp}, nil)
	expect(wantEvent{"IAM:DeleteRole", "OPERATOR", "", "Role", temp, "success", []string{"id"}, ""})
	// A refused input records its error code.
	_, err = client.CreateRole(ctx, op, client.CreateRoleInput{Name: ""})
	atriumtest.FailsWith(t, err, "BAD_USER_INPUT")
	expect(wantEvent{"IAM:CreateRole", "OPERATOR", "", "Role", "", "BAD_USER_INPUT", []string{"accessPolicy", "description", "name"}, ""})

	// An application and a user, who accepts and signs in (and fails once).
	app := atriumtest.CreateApplication(t, op, client.CreateApplicationInput{Name: "Portal"})
	expect(wantEvent{"App:CreateApplication", "OPERATOR", "", "Application", app, "success",
		[]string{"allowedCORSOriginsUrls", "allowedCallbackUrls", "allowedLogoutUrls", "allowedWebOriginsUrls", "description", "loginRedirectUri",
			"loginWithEmailEnabled", "logoUri", "mfaEnabled", "name", "passwordlessSMS", "refreshTokenEnabled", "shouldSendInviteEmail"}, ""})
	inv := atriumtest.Invite(t, op, client.InviteUserInput{Email: ptr("audited.user@example.com"), ApplicationId: app, Roles: []string{role}})
	user, ticket := inv.UserID, inv.Ticket
	secrets = append(secrets, ticket)
	expect(wantEvent{"App:CreateUser", "OPERATOR", "", "User", user, "success",
		[]string{"accessPolicy", "applicationId", "email", "phoneNumber", "profile", "resource", "roles", "shouldSendInviteEmail", "username"}, ""})
	s.Accept(t, ticket, testPassword)
	expect(wantEvent{"App:AcceptInvitation", "", "", "User", user, "success", []string{"password", "ticket"}, ""})
	si, err := client.SignIn(ctx, anon, client.SignInInput{ApplicationId: app, Email: "audited.user@example.com", Password: testPassword})
	atriumtest.Must(t, err)
	userTok := si.SignIn.AccessToken
	secrets = append(secrets, userTok)
	expect(wantEvent{"App:SignIn", "USER", user, "User", user, "success", []string{"applicationId", "email", "password"}, ""})
	const wrongPassword = "Wrong-Pass-Phrase-3d2f"
	secrets = append(secrets, wrongPassword)
	_, err = client.SignIn(ctx, anon, client.SignInInput{ApplicationId: app, Email: "audited.user@example.com", Password: wrongPassword})
	atriumtest.FailsWith(t, err, "UNAUTHENTICATED")
	expect(wantEvent{"App:SignIn", "", "", "User", user, "denied", []string{"applicationId", "email", "password"}, ""})

	// The operator and the user change the project; the user is refused a
	// role.
	_, err = client.UpdateProject(ctx, op, client.UpdateProjectInput{Name: ptr("Audited, renamed")})
	atriumtest.Must(t, err)
	expect(wantEvent{"Project:UpdateProjectInfo", "OPERATOR", "", "Project", p, "success", []string{"name"}, ""})
	asUser := s.Client(userTok, "")
	_, err = client.UpdateProject(ctx, asUser, client.UpdateProjectInput{Description: ptr("by the user")})
	atriumtest.Must(t, err)
	expect(wantEvent{"Project:UpdateProjectInfo", "USER", user, "Project", p, "success", []string{"description"}, ""})
	_, err = client.CreateRole(ctx, asUser, client.CreateRoleInput{Name: "Escalation", AccessPolicy: atriumtest.Policy(atriumtest.Allow("*", "*"))})
	atriumtest.FailsWith(t, err, "FORBIDDEN")
	expect(wantEvent{"IAM:CreateRole", "USER", user, "Role", "", "denied", []string{"accessPolicy", "description", "name"}, ""})

	// The default machine client: a new secret, a token, a wrong secret, and
	// a change made with the machine token.
	ms, err := client.M2MClients(ctx, op, nil, nil, nil)
	atriumtest.Must(t, err)
	def := ms.M2mClients.Edges[0].Node
	secret := atriumtest.RotateSecret(t, op, def.Id)
	secrets = append(secrets, secret)
	expect(wantEvent{"App:RotateM2MClientSecret", "OPERATOR", "", "M2MClient", def.Id, "success", []string{"id"}, ""})
	machineTok := s.M2MToken(t, def.ClientId, secret)
	secrets = append(secrets, machineTok)
	expect(wantEvent{"IAM:IssueM2MClientToken", "M2M_CLIENT", def.Id, "M2MClient", def.Id, "success", []string{"client_id", "client_secret"}, ""})
	wrongSecret := secret[:len(secret)-4] + "zzzz"
	secrets = append(secrets, wrongSecret)
	wantOAuthError(t, s.ClientCredentials(t, def.ClientId, wrongSecret), http.StatusUnauthorized, "invalid_client")
	expect(wantEvent{"IAM:IssueM2MClientToken", "M2M_CLIENT", def.Id, "M2MClient", def.Id, "denied", []string{"client_id", "client_secret"}, ""})
	// An unknown client reaches no project: nothing to record here.
	wantOAuthError(t, s.ClientCredentials(t, "no-such-client", secret), http.StatusUnauthorized, "invalid_client")
	byMachine := atriumtest.CreateRole(t, s.Client(machineTok, ""), "Made by a machine", atriumtest.Allow("IAM:Role", "IAM:GetRole"))
	expect(wantEvent{"IAM:CreateRole", "M2M_CLIENT", def.Id, "Role", byMachine, "success", []string{"accessPolicy", "description", "name"}, ""})

	// Queries record nothing, whoever asks and whatever the answer.
	before := readAuditEvents(t, op, nil)
	_, err = client.Project(ctx, op)
	atriumtest.Must(t, err)
	_, err = client.Roles(ctx, op, nil, nil)
	atriumtest.Must(t, err)
	_, err = client.Users(ctx, op, nil, nil, nil)
	atriumtest.Must(t, err)
	_, err = client.M2MClient(ctx, op, def.Id)
	atriumtest.Must(t, err)
	_, err = client.Me(ctx, asUser)
	atriumtest.Must(t, err)
	_, err = client.AuditEvents(ctx, asUser, nil, nil, nil)
	atriumtest.FailsWith(t, err, "FORBIDDEN") // Project:ListAuditEvents is not the user's
	_, err = client.Roles(ctx, asUser, nil, nil)
	atriumtest.FailsWith(t, err, "FORBIDDEN")
	_, err = client.M2MMe(ctx, s.Client(machineTok, ""))
	atriumtest.Must(t, err)
	all := readAuditEvents(t, op, nil)
	if !slices.Equal(eventIDs(all), eventIDs(before)) {
		t.Fatalf("queries recorded events: %d before, %d after", len(before), len(all))
	}

	// Exactly one event per operation, as expected.
	if len(all) != len(want) {
		for _, e := range all {
			t.Log(showEvent(e))
		}
		t.Fatalf("%d events for %d operations", len(all), len(want))
	}
	used := map[string]bool{}
	var times []time.Time
	for _, w := range want {
		var hits []auditEvent
		for _, e := range all {
			if w.matches(e) && !used[e.Id] {
				hits = append(hits, e)
			}
		}
		if len(hits) == 0 {
			for _, e := range all {
				t.Log(showEvent(e))
			}
			t.Fatalf("no event %s", w)
		}
		used[hits[0].Id] = true
		times = append(times, hits[0].Time)
	}
	// The operations ran one after another: their events' times never go
	// backwards, and the list is newest first.
	for i := 1; i < len(times); i++ {
		if times[i].Before(times[i-1]) {
			t.Errorf("event %d (%s) is older than event %d", i, want[i], i-1)
		}
	}
	for i, e := range all {
		if !atriumtest.UUID.MatchString(e.Id) || e.RequestId == "" || e.Time.IsZero() {
			t.Errorf("event %s has no id, request id or time", showEvent(e))
		}
		if i > 0 && e.Time.After(all[i-1].Time) {
			t.Errorf("events are not newest first: %s after %s", showEvent(e), showEvent(all[i-1]))
		}
	}
	// Each request has its own id.
	reqs := map[string]int{}
	for _, e := range all {
		reqs[e.RequestId]++
	}
	for id, n := range reqs {
		if n > 1 {
			t.Errorf("request id %q on %d events", id, n)
		}
	}

	// No secret in any event.
	raw, err := json.Marshal(all)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range append(secrets, "passwordHash", "secretHash", "$argon2") {
		if strings.Contains(string(raw), secret) {
			t.Errorf("the audit events contain %q", secret)
		}
	}
	// Nor in the server's log.
	logs := s.Log.String()
	for _, secret := range secrets {
		if strings.Contains(logs, secret) {
			t.Errorf("the server log contains the secret %q", secret)
		}
	}

	// Filters: each selects what it says, in the same order.
	where := func(keep func(auditEvent) bool) []string {
		var ids []string
		for _, e := range all {
			if keep(e) {
				ids = append(ids, e.Id)
			}
		}
		return ids
	}
	mid := all[len(all)/2].Time
	for _, tc := range []struct {
		name   string
		filter client.AuditEventFilter
		keep   func(auditEvent) bool
		least  int
	}{
		{"actorId user", client.AuditEventFilter{ActorId: &user}, func(e auditEvent) bool { return e.Actor.Id == user }, 3},
		{"actorId machine", client.AuditEventFilter{ActorId: &def.Id}, func(e auditEvent) bool { return e.Actor.Id == def.Id }, 3},
		{"targetId role", client.AuditEventFilter{TargetId: &role}, func(e auditEvent) bool { return e.Target.Id == role }, 2},
		{"targetId user", client.AuditEventFilter{TargetId: &user}, func(e auditEvent) bool { return e.Target.Id == user }, 4},
		{"action App:SignIn", client.AuditEventFilter{Action: ptr("App:SignIn")}, func(e auditEvent) bool { return e.Action == "App:SignIn" }, 2},
		{"action IAM:CreateRole by user", client.AuditEventFilter{Action: ptr("IAM:CreateRole"), ActorId: &user},
			func(e auditEvent) bool { return e.Action == "IAM:CreateRole" && e.Actor.Id == user }, 1},
		{"since", client.AuditEventFilter{Since: &mid}, func(e auditEvent) bool { return !e.Time.Before(mid) }, 1},
		{"until", client.AuditEventFilter{Until: &mid}, func(e auditEvent) bool { return e.Time.Before(mid) }, 1},
		{"since and until", client.AuditEventFilter{Since: &all[len(all)-1].Time, Until: &mid},
			func(e auditEvent) bool { return !e.Time.Before(all[len(all)-1].Time) && e.Time.Before(mid) }, 1},
		{"nothing", client.AuditEventFilter{Action: ptr("IAM:NoSuchAction")}, func(auditEvent) bool { return false }, 0},
	} {
		wantIDs := where(tc.keep)
		if len(wantIDs) < tc.least {
			t.Fatalf("%s: the events hold only %d matches", tc.name, len(wantIDs))
		}
		if got := eventIDs(readAuditEvents(t, op, &tc.filter)); !slices.Equal(got, wantIDs) {
			t.Errorf("%s: %d events %v, want %d %v", tc.name, len(got), got, len(wantIDs), wantIDs)
		}
	}
	_, err = client.AuditEvents(ctx, op, nil, nil, &client.AuditEventFilter{Since: &mid, Until: &mid})
	atriumtest.FailsWith(t, err, "BAD_USER_INPUT")

	// Paging by 2: the same events, newest first, none twice.
	var paged []string
	var after *string
	for range len(all) {
		res, err := client.AuditEvents(ctx, op, ptr(2), after, nil)
		atriumtest.Must(t, err)
		conn := res.AuditEvents
		if len(conn.Edges) == 0 || len(conn.Edges) > 2 {
			t.Fatalf("a page of %d events", len(conn.Edges))
		}
		for _, e := range conn.Edges {
			paged = append(paged, e.Node.Id)
		}
		if !conn.PageInfo.HasNextPage {
			break
		}
		after = conn.PageInfo.EndCursor
	}
	if !slices.Equal(paged, eventIDs(all)) {
		t.Fatalf("paged by 2: %v\nin one page: %v", paged, eventIDs(all))
	}

	// Events live in their project: B's trail has its own creation only.
	b := s.CreateProject(t, "Elsewhere")
	bEvents := readAuditEvents(t, s.Operator(b), nil)
	if len(bEvents) != 1 || bEvents[0].Action != "Project:CreateProject" || bEvents[0].Target.Id != b {
		for _, e := range bEvents {
			t.Log(showEvent(e))
		}
		t.Fatalf("project B has %d events", len(bEvents))
	}
	for _, e := range readAuditEvents(t, s.Operator(s.Sandbox), nil) {
		if slices.Contains(eventIDs(all), e.Id) || e.Target.Id == p || e.Actor.Id == user {
			t.Errorf("the sandbox shows an event of project A: %s", showEvent(e))
		}
	}
	// The machine token of A cannot read B's trail.
	_, err = client.AuditEvents(ctx, s.Client(machineTok, b), nil, nil, nil)
	atriumtest.FailsWith(t, err, "NOT_FOUND")
	// ... but reads its own with full access.
	if got := readAuditEvents(t, s.Client(machineTok, ""), nil); !slices.Equal(eventIDs(got), eventIDs(all)) {
		t.Fatalf("the machine client sees %d events, the operator %d", len(got), len(all))
	}
}

// Developer operations name the developer as their target, as
// removeDeveloper and acceptInvitation do, so that targetId finds them all.
func TestAuditDeveloperTargets(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	ctx := t.Context()
	op := s.Operator(s.Sandbox)
	role := atriumtest.CreateRole(t, op, "Staff", atriumtest.Allow("Project:Settings", "Project:GetProjectInfo"))
	inv, err := client.InviteDeveloper(ctx, op, client.InviteDeveloperInput{Email: "audit.dev@example.com", Roles: []string{role}})
	atriumtest.Must(t, err)
	dev := inv.InviteDeveloper.Developer.Id
	_, err = client.UpdateDeveloper(ctx, op, client.UpdateDeveloperInput{Id: dev, AccessPolicy: atriumtest.Policy(atriumtest.Allow("IAM:Role", "IAM:GetRole"))})
	atriumtest.Must(t, err)
	_, err = client.RemoveDeveloper(ctx, op, client.RemoveDeveloperInput{Id: dev})
	atriumtest.Must(t, err)

	var got []string
	for _, e := range readAuditEvents(t, op, nil) {
		if strings.HasPrefix(e.Action, "IAM:") && strings.Contains(e.Action, "Developer") {
			got = append(got, e.Action+" "+e.Target.Type+"/"+e.Target.Id)
		}
	}
	slices.Reverse(got) // oldest first
	wantRemove := "IAM:RemoveDeveloper Developer/" + dev
	if len(got) != 3 || got[2] != wantRemove {
		t.Fatalf("developer events: %q", got)
	}
	if byTarget := readAuditEvents(t, op, &client.AuditEventFilter{TargetId: &dev}); len(byTarget) != 3 {
		t.Errorf("%s", fmt.Sprintf("graph/audit.go targetOf takes the target of inviteDeveloper/updateDeveloper from the payload's *iam.Membership: type %q and id \"<projectId>/<developerId>\" instead of Developer/<developerId> (removeDeveloper and acceptInvitation use the latter), so targetId=<developer id> finds %d of 3 events: %q",
			"Membership", len(byTarget), got))
	}
	want := []string{"IAM:InviteDeveloper Developer/" + dev, "IAM:UpdateDeveloper Developer/" + dev, wantRemove}
	if !slices.Equal(got, want) {
		t.Fatalf("developer events: %q, want %q", got, want)
	}
}

// A developer is above projects: its sign-ins, and failed attempts at its
// account, are recorded in every project it belongs to.
func TestAuditDeveloperSignIn(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	ctx := t.Context()
	a, b := s.Sandbox, s.CreateProject(t, "Second")
	policy := atriumtest.Policy(atriumtest.Allow("*", "*"))
	inv, err := client.InviteDeveloper(ctx, s.Operator(a), client.InviteDeveloperInput{Email: "audited@example.com", AccessPolicy: policy})
	atriumtest.Must(t, err)
	_, err = client.InviteDeveloper(ctx, s.Operator(b), client.InviteDeveloperInput{Email: "audited@example.com", AccessPolicy: policy})
	atriumtest.Must(t, err)
	anon := s.Client("", "")
	s.Accept(t, atriumtest.Ticket(t, *inv.InviteDeveloper.InvitationUrl), testPassword)
	dev := inv.InviteDeveloper.Developer.Id
	_, err = client.SignInDeveloper(ctx, anon, client.SignInDeveloperInput{Email: "audited@example.com", Password: "not-the-password"})
	atriumtest.FailsWith(t, err, "UNAUTHENTICATED")
	_, err = client.SignInDeveloper(ctx, anon, client.SignInDeveloperInput{Email: "audited@example.com", Password: testPassword})
	atriumtest.Must(t, err)

	for _, project := range []string{a, b} {
		events := readAuditEvents(t, s.Operator(project), &client.AuditEventFilter{Action: ptr("IAM:SignInDeveloper")})
		var got []string
		for _, e := range events {
			got = append(got, e.Outcome+" by "+e.Actor.Kind+"/"+e.Actor.Id+" on "+e.Target.Type+"/"+e.Target.Id)
		}
		want := []string{"success by DEVELOPER/" + dev + " on Developer/" + dev, "denied by / on Developer/" + dev}
		if !slices.Equal(got, want) {
			t.Errorf("project %s: sign-in events %q, want %q (newest first)", project, got, want)
		}
	}
}
