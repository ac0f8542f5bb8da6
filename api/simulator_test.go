package api_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/Khan/genqlient/graphql"

	"atrium/atriumtest"
	"atrium/client"
)

type accessCheck = client.CheckAccessCheckAccessCheckAccessPayload

// trySimulate runs checkAccess through c.
func trySimulate(t testing.TB, c graphql.Client, who client.PrincipalInput, action, resource string) (accessCheck, error) {
	t.Helper()
	res, err := client.CheckAccess(t.Context(), c, client.CheckAccessInput{Principal: who, Action: action, Resource: resource})
	if err != nil {
		return accessCheck{}, err
	}
	return res.CheckAccess, nil
}

// mustSimulate is trySimulate that fails the test on error.
func mustSimulate(t testing.TB, c graphql.Client, who client.PrincipalInput, action, resource string) accessCheck {
	t.Helper()
	got, err := trySimulate(t, c, who, action, resource)
	atriumtest.Must(t, err)
	return got
}

// wantRule checks an answer decided by a rule: allowed, the rule's source
// (roleID "" for the inline policy), its index, effect, resources and
// actions.
func wantRule(t testing.TB, got accessCheck, allowed bool, roleID, roleName string, index int, resource, action []string) {
	t.Helper()
	effect := client.EffectDeny
	if allowed {
		effect = client.EffectAllow
	}
	d := got.DecidingRule
	if got.Allowed != allowed || d == nil || d.Index != index || d.Effect != effect ||
		!slices.Equal(d.Resource, resource) || !slices.Equal(d.Action, action) || got.Reason == "" {
		t.Fatalf("want allowed=%v by rule %d (%v %v %v), got %s", allowed, index, effect, resource, action, showCheck(got))
	}
	src := d.Source
	if roleID == "" {
		if src.Kind != client.PolicySourceKindInline || src.RoleId != nil || src.RoleName != nil {
			t.Fatalf("want the inline policy as source, got %s", showCheck(got))
		}
		return
	}
	if src.Kind != client.PolicySourceKindRole || src.RoleId == nil || *src.RoleId != roleID || src.RoleName == nil || *src.RoleName != roleName {
		t.Fatalf("want role %s (%s) as source, got %s", roleName, roleID, showCheck(got))
	}
}

// wantDefaultDeny checks an answer where no rule matched.
func wantDefaultDeny(t testing.TB, got accessCheck) {
	t.Helper()
	if got.Allowed || got.DecidingRule != nil || !strings.Contains(strings.ToLower(got.Reason), "default") {
		t.Fatalf("want a default deny, got %s", showCheck(got))
	}
}

func showCheck(c accessCheck) string {
	s := fmt.Sprintf("allowed=%v reason=%q", c.Allowed, c.Reason)
	if d := c.DecidingRule; d != nil {
		s += fmt.Sprintf(" rule{kind=%s roleId=%v roleName=%v index=%d effect=%s resource=%v action=%v}",
			d.Source.Kind, deref(d.Source.RoleId), deref(d.Source.RoleName), d.Index, d.Effect, d.Resource, d.Action)
	}
	return s
}

func deref(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// setUserRoles replaces a user's roles as the operator of project.
func setUserRoles(t testing.TB, s *atriumtest.Server, project, userID string, roles ...string) {
	t.Helper()
	s.Operator(project).MustDo(t, `mutation($id: ID!, $r: [ID!]) { updateUser(input: {id: $id, roles: $r}) { user { id } } }`,
		map[string]any{"id": userID, "r": roles}, nil)
}

// simulatedUser invites a user and accepts the invitation: only an ACTIVE
// user can act, so only its policy is worth simulating.
func simulatedUser(t testing.TB, s *atriumtest.Server, c graphql.Client, in client.InviteUserInput) string {
	t.Helper()
	inv := atriumtest.Invite(t, c, in)
	s.Accept(t, inv.Ticket, testPassword)
	return inv.UserID
}

// The access simulator: allow, deny beating allow, default deny, inline
// policies, every kind of principal, and its own guard.
func TestCheckAccess(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	ctx := t.Context()
	p := s.CreateProject(t, "Simulated")
	op := s.Operator(p)
	reader := atriumtest.CreateRole(t, op, "Reader", atriumtest.Allow("IAM:Role", "IAM:GetRole"), atriumtest.Allow("Project:Settings", "Project:GetProjectInfo"))
	inactive := atriumtest.CreateRole(t, op, "Inactive", atriumtest.Rule(client.EffectDeny, []string{"*"}, "*"))
	app := atriumtest.CreateApplication(t, op, client.CreateApplicationInput{Name: "EHR"})
	user := simulatedUser(t, s, op, client.InviteUserInput{Email: ptr("dr.x@example.com"), ApplicationId: app, Roles: []string{reader}})
	asUser := client.PrincipalInput{UserId: &user}

	// Allowed by the Reader role's second rule.
	got := mustSimulate(t, op, asUser, "Project:GetProjectInfo", "Project:Settings")
	wantRule(t, got, true, reader, "Reader", 1, []string{"Project:Settings"}, []string{"Project:GetProjectInfo"})
	if !strings.Contains(got.Reason, "Reader") {
		t.Errorf("reason %q does not name the role", got.Reason)
	}

	// The Inactive role's Deny beats the Allow, whichever order the roles
	// are held in.
	for _, order := range [][]string{{reader, inactive}, {inactive, reader}} {
		setUserRoles(t, s, p, user, order...)
		got = mustSimulate(t, op, asUser, "Project:GetProjectInfo", "Project:Settings")
		wantRule(t, got, false, inactive, "Inactive", 0, []string{"*"}, []string{"*"})
	}

	// Nothing matches: denied by default.
	setUserRoles(t, s, p, user, reader)
	wantDefaultDeny(t, mustSimulate(t, op, asUser, "Project:UpdateProjectInfo", "Project:Settings"))
	wantDefaultDeny(t, mustSimulate(t, op, asUser, "IAM:DeleteRole", "IAM:Role:"+reader))
	// A rule on the type covers one id of it.
	wantRule(t, mustSimulate(t, op, asUser, "IAM:GetRole", "IAM:Role:"+inactive), true, reader, "Reader", 0, []string{"IAM:Role"}, []string{"IAM:GetRole"})

	// An inline policy is its own source.
	inl := simulatedUser(t, s, op, client.InviteUserInput{Email: ptr("inline@example.com"), ApplicationId: app, AccessPolicy: atriumtest.Policy(atriumtest.Allow("IAM:Role", "IAM:ListAllRoles"), atriumtest.Allow("Project:Settings", "Project:UpdateProjectInfo"))})
	wantRule(t, mustSimulate(t, op, client.PrincipalInput{UserId: &inl}, "Project:UpdateProjectInfo", "Project:Settings"),
		true, "", "", 1, []string{"Project:Settings"}, []string{"Project:UpdateProjectInfo"})
	// An inline Deny beats a role's Allow.
	mixed := simulatedUser(t, s, op, client.InviteUserInput{Email: ptr("mixed@example.com"), ApplicationId: app, Roles: []string{reader}, AccessPolicy: atriumtest.Policy(atriumtest.Rule(client.EffectDeny, []string{"Project:Settings"}, "Project:*"))})
	wantRule(t, mustSimulate(t, op, client.PrincipalInput{UserId: &mixed}, "Project:GetProjectInfo", "Project:Settings"),
		false, "", "", 0, []string{"Project:Settings"}, []string{"Project:*"})
	// ... and a role's Deny beats an inline Allow.
	held := simulatedUser(t, s, op, client.InviteUserInput{Email: ptr("held@example.com"), ApplicationId: app, Roles: []string{inactive}, AccessPolicy: atriumtest.Policy(atriumtest.Allow("*", "*"))})
	wantRule(t, mustSimulate(t, op, client.PrincipalInput{UserId: &held}, "IAM:GetRole", "IAM:Role"),
		false, inactive, "Inactive", 0, []string{"*"}, []string{"*"})

	// A developer.
	dinv, err := client.InviteDeveloper(ctx, op, client.InviteDeveloperInput{Email: "sim.dev@example.com", Roles: []string{reader}})
	atriumtest.Must(t, err)
	dev := dinv.InviteDeveloper.Developer.Id
	wantRule(t, mustSimulate(t, op, client.PrincipalInput{DeveloperId: &dev}, "IAM:GetRole", "IAM:Role"),
		true, reader, "Reader", 0, []string{"IAM:Role"}, []string{"IAM:GetRole"})
	wantDefaultDeny(t, mustSimulate(t, op, client.PrincipalInput{DeveloperId: &dev}, "IAM:CreateRole", "IAM:Role"))

	// A machine client: the default one's full access is inline.
	ms, err := client.M2MClients(ctx, op, nil, nil, nil)
	atriumtest.Must(t, err)
	def := ms.M2mClients.Edges[0].Node.Id
	wantRule(t, mustSimulate(t, op, client.PrincipalInput{M2mClientId: &def}, "IAM:DeleteRole", "IAM:Role:"+reader),
		true, "", "", 0, []string{"*"}, []string{"*"})

	// Exactly one principal id.
	for _, who := range []client.PrincipalInput{
		{},
		{UserId: &user, DeveloperId: &dev},
		{UserId: &user, M2mClientId: &def},
		{UserId: &user, DeveloperId: &dev, M2mClientId: &def},
	} {
		_, err := trySimulate(t, op, who, "IAM:GetRole", "IAM:Role")
		atriumtest.FailsWith(t, err, "BAD_USER_INPUT")
	}
	for _, in := range [][2]string{{"", "IAM:Role"}, {"IAM:GetRole", " "}} {
		_, err := trySimulate(t, op, asUser, in[0], in[1])
		atriumtest.FailsWith(t, err, "BAD_USER_INPUT")
	}

	// Principals of another project are not found.
	sop := s.Operator(s.Sandbox)
	sapp := atriumtest.CreateApplication(t, sop, client.CreateApplicationInput{Name: "Sandbox EHR"})
	stranger := atriumtest.Invite(t, sop, client.InviteUserInput{Email: ptr("stranger@example.com"), ApplicationId: sapp, AccessPolicy: atriumtest.Policy(atriumtest.Allow("*", "*"))}).UserID
	sms, err := client.M2MClients(ctx, sop, nil, nil, nil)
	atriumtest.Must(t, err)
	sdef := sms.M2mClients.Edges[0].Node.Id
	for _, who := range []client.PrincipalInput{{UserId: &stranger}, {M2mClientId: &sdef}} {
		_, err := trySimulate(t, op, who, "IAM:GetRole", "IAM:Role")
		atriumtest.FailsWith(t, err, "NOT_FOUND")
	}
	_, err = trySimulate(t, sop, client.PrincipalInput{DeveloperId: &dev}, "IAM:GetRole", "IAM:Role")
	atriumtest.FailsWith(t, err, "NOT_FOUND")
	// The stranger is there, in its own project: found, and judged. It
	// has not accepted its invitation, so whatever its policy allows it
	// may not act yet, and the answer says so.
	if got := mustSimulate(t, sop, client.PrincipalInput{UserId: &stranger}, "IAM:GetRole", "IAM:Role"); got.Allowed || !strings.Contains(got.Reason, "invitation") {
		t.Errorf("the sandbox's invited user, simulated in the sandbox: %+v", got)
	}

	// The simulator's own guard: IAM:SimulateAccess on IAM:Role.
	noRight := s.MachineToken(t, op, client.CreateM2MClientInput{Name: "No simulator", Roles: []string{reader}}).Token
	_, err = trySimulate(t, s.Client(noRight, ""), asUser, "IAM:GetRole", "IAM:Role")
	atriumtest.FailsWith(t, err, "FORBIDDEN")
	withRight := s.MachineToken(t, op, client.CreateM2MClientInput{Name: "Simulator", AccessPolicy: atriumtest.Policy(atriumtest.Allow("IAM:Role", "IAM:SimulateAccess"))}).Token
	got = mustSimulate(t, s.Client(withRight, ""), asUser, "IAM:GetRole", "IAM:Role")
	wantRule(t, got, true, reader, "Reader", 0, []string{"IAM:Role"}, []string{"IAM:GetRole"})
	// A machine token simulates in its own project only.
	_, err = trySimulate(t, s.Client(withRight, s.Sandbox), client.PrincipalInput{UserId: &stranger}, "IAM:GetRole", "IAM:Role")
	atriumtest.FailsWith(t, err, "NOT_FOUND")

	// checkAccess changes nothing: the user still holds Reader alone.
	after := s.Operator(p).Do(t, `query($id: ID!) { user(id: $id) { roles { id } } }`, map[string]any{"id": user})
	if len(after.Errors) > 0 || !strings.Contains(string(after.Data), reader) || strings.Contains(string(after.Data), inactive) {
		t.Fatalf("user after simulations: %s %+v", after.Data, after.Errors)
	}
}

// The reference's real policies (§6.6: staff, patient, "providers",
// Inactive), as a table through the simulator: allow, wildcard, deny beats
// allow, default deny.
func TestCheckAccessRealPolicies(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	op := s.Operator(s.Sandbox)
	staff := atriumtest.CreateRole(t, op, "Staff",
		atriumtest.Rule(client.EffectAllow, []string{"FHIR:Consent", "FHIR:Coverage", "FHIR:RelatedPerson"}, "FHIR:Search", "FHIR:Read"),
		atriumtest.Rule(client.EffectAllow, []string{"FHIR:Patient", "FHIR:Appointment", "FHIR:Encounter"}, "FHIR:Read", "FHIR:Search", "FHIR:Update"),
		atriumtest.Allow("Zambda:Function:*", "Zambda:InvokeFunction"),
		atriumtest.Allow("App:User", "App:ListAllUsers", "App:GetUser"),
		atriumtest.Rule(client.EffectAllow, []string{"FHIR:Patient", "FHIR:Appointment"}, "FHIR:History"),
	)
	patient := atriumtest.CreateRole(t, op, "Patient",
		atriumtest.Rule(client.EffectAllow, []string{"Zambda:Function:get-appointments", "Zambda:Function:cancel-appointment"}, "Zambda:InvokeFunction"),
		atriumtest.Allow("Telemed:Meeting", "Telemed:JoinMeeting"),
		atriumtest.Allow("FHIR:Encounter", "FHIR:Read"),
	)
	providers := atriumtest.CreateRole(t, op, "Providers",
		atriumtest.Rule(client.EffectAllow, []string{"FHIR:*"}, "FHIR:Read", "FHIR:Search"),
		atriumtest.Rule(client.EffectAllow, []string{"FHIR:Encounter:*", "FHIR:Observation:*"}, "FHIR:*"),
	)
	inactive := atriumtest.CreateRole(t, op, "Inactive", atriumtest.Rule(client.EffectDeny, []string{"*"}, "*"))
	names := map[string]string{staff: "Staff", patient: "Patient", providers: "Providers", inactive: "Inactive"}

	// One machine client per set of roles: the simulated principals.
	holders := map[string]string{}
	for _, set := range [][]string{{staff}, {patient}, {providers}, {staff, inactive}, {patient, inactive}} {
		res, err := client.CreateM2MClient(t.Context(), op, client.CreateM2MClientInput{Name: strings.Join(set, "+"), Roles: set})
		atriumtest.Must(t, err)
		holders[strings.Join(set, "+")] = res.CreateM2MClient.M2mClient.Id
	}
	cases := []struct {
		roles            []string
		action, resource string
		allowed          bool
		by               string // deciding role; "" for a default deny
		index            int
	}{
		{[]string{staff}, "FHIR:Read", "FHIR:Patient:123", true, staff, 1},
		{[]string{staff}, "FHIR:Search", "FHIR:Coverage", true, staff, 0},
		{[]string{staff}, "FHIR:Update", "FHIR:Coverage:1", false, "", 0},
		{[]string{staff}, "FHIR:Delete", "FHIR:Patient:123", false, "", 0},
		{[]string{staff}, "FHIR:History", "FHIR:Appointment:7", true, staff, 4},
		{[]string{staff}, "Zambda:InvokeFunction", "Zambda:Function:anything-at-all", true, staff, 2},
		{[]string{staff}, "App:ListAllUsers", "App:User", true, staff, 3},
		{[]string{staff}, "App:DeleteUser", "App:User:9", false, "", 0},
		{[]string{staff, inactive}, "FHIR:Read", "FHIR:Patient:123", false, inactive, 0},
		{[]string{staff, inactive}, "Zambda:InvokeFunction", "Zambda:Function:x", false, inactive, 0},
		{[]string{patient}, "Zambda:InvokeFunction", "Zambda:Function:get-appointments", true, patient, 0},
		{[]string{patient}, "Zambda:InvokeFunction", "Zambda:Function:delete-everything", false, "", 0},
		{[]string{patient}, "Telemed:JoinMeeting", "Telemed:Meeting:42", true, patient, 1},
		{[]string{patient}, "FHIR:Read", "FHIR:Encounter:9", true, patient, 2},
		{[]string{patient}, "FHIR:Read", "FHIR:Patient:1", false, "", 0},
		{[]string{patient}, "FHIR:Update", "FHIR:Encounter:9", false, "", 0},
		{[]string{patient, inactive}, "Telemed:JoinMeeting", "Telemed:Meeting:42", false, inactive, 0},
		{[]string{providers}, "FHIR:Read", "FHIR:Patient:5", true, providers, 0},
		{[]string{providers}, "FHIR:Delete", "FHIR:Encounter:5", true, providers, 1},
		{[]string{providers}, "FHIR:Delete", "FHIR:Patient:5", false, "", 0},
		{[]string{providers}, "Zambda:InvokeFunction", "Zambda:Function:x", false, "", 0},
	}
	for _, tc := range cases {
		key := strings.Join(tc.roles, "+")
		id := holders[key]
		got := mustSimulate(t, op, client.PrincipalInput{M2mClientId: &id}, tc.action, tc.resource)
		name := fmt.Sprintf("%v %s on %s", namesOf(tc.roles, names), tc.action, tc.resource)
		if tc.by == "" {
			if got.Allowed || got.DecidingRule != nil {
				t.Errorf("%s: want a default deny, got %s", name, showCheck(got))
			}
			continue
		}
		d := got.DecidingRule
		if got.Allowed != tc.allowed || d == nil || d.Source.Kind != client.PolicySourceKindRole || deref(d.Source.RoleId) != tc.by ||
			deref(d.Source.RoleName) != names[tc.by] || d.Index != tc.index {
			t.Errorf("%s: want allowed=%v by %s rule %d, got %s", name, tc.allowed, names[tc.by], tc.index, showCheck(got))
		}
	}
}

func namesOf(ids []string, names map[string]string) []string {
	var out []string
	for _, id := range ids {
		out = append(out, names[id])
	}
	return out
}

// A disabled user can do nothing (its tokens stop working at once), so the
// simulator must not answer that it may: "why can't Dr. X update this
// project?" has to find the reason.
func TestCheckAccessDisabledUser(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	op := s.Operator(s.Sandbox)
	app := atriumtest.CreateApplication(t, op, client.CreateApplicationInput{Name: "EHR"})
	inv := atriumtest.Invite(t, op, client.InviteUserInput{Email: ptr("disabled@example.com"), ApplicationId: app, AccessPolicy: atriumtest.Policy(atriumtest.Allow("Project:Settings", "Project:GetProjectInfo"))})
	user, ticket := inv.UserID, inv.Ticket
	s.Accept(t, ticket, testPassword)
	who := client.PrincipalInput{UserId: &user}
	if got := mustSimulate(t, op, who, "Project:GetProjectInfo", "Project:Settings"); !got.Allowed {
		t.Fatalf("active user: %s", showCheck(got))
	}
	s.Operator(s.Sandbox).MustDo(t, `mutation($id: ID!) { disableUser(input: {id: $id}) { user { status } } }`, map[string]any{"id": user}, nil)
	got := mustSimulate(t, op, who, "Project:GetProjectInfo", "Project:Settings")
	if got.Allowed {
		t.Error("service/simulate.go subjectAccess reads a user with s.user, not its status: checkAccess answers allowed=true (\"" + got.Reason + "\") for a DISABLED user, whom the guard refuses (UNAUTHENTICATED) on every request")
	}
	if !strings.Contains(strings.ToLower(got.Reason), "disabled") {
		t.Errorf("reason %q does not say the user is disabled", got.Reason)
	}
}
