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

type i4Check = client.CheckAccessCheckAccessCheckAccessPayload

// i4Simulate runs checkAccess through c.
func i4Simulate(t testing.TB, c graphql.Client, who client.PrincipalInput, action, resource string) (i4Check, error) {
	t.Helper()
	res, err := client.CheckAccess(t.Context(), c, client.CheckAccessInput{Principal: who, Action: action, Resource: resource})
	if err != nil {
		return i4Check{}, err
	}
	return res.CheckAccess, nil
}

// i4MustSimulate is i4Simulate that fails the test on error.
func i4MustSimulate(t testing.TB, c graphql.Client, who client.PrincipalInput, action, resource string) i4Check {
	t.Helper()
	got, err := i4Simulate(t, c, who, action, resource)
	i4Must(t, err)
	return got
}

// i4WantRule checks an answer decided by a rule: allowed, the rule's source
// (roleID "" for the inline policy), its index, effect, resources and
// actions.
func i4WantRule(t testing.TB, got i4Check, allowed bool, roleID, roleName string, index int, resource, action []string) {
	t.Helper()
	effect := client.EffectDeny
	if allowed {
		effect = client.EffectAllow
	}
	d := got.DecidingRule
	if got.Allowed != allowed || d == nil || d.Index != index || d.Effect != effect ||
		!slices.Equal(d.Resource, resource) || !slices.Equal(d.Action, action) || got.Reason == "" {
		t.Fatalf("want allowed=%v by rule %d (%v %v %v), got %s", allowed, index, effect, resource, action, i4Show(got))
	}
	src := d.Source
	if roleID == "" {
		if src.Kind != client.PolicySourceKindInline || src.RoleId != nil || src.RoleName != nil {
			t.Fatalf("want the inline policy as source, got %s", i4Show(got))
		}
		return
	}
	if src.Kind != client.PolicySourceKindRole || src.RoleId == nil || *src.RoleId != roleID || src.RoleName == nil || *src.RoleName != roleName {
		t.Fatalf("want role %s (%s) as source, got %s", roleName, roleID, i4Show(got))
	}
}

// i4WantDefaultDeny checks an answer where no rule matched.
func i4WantDefaultDeny(t testing.TB, got i4Check) {
	t.Helper()
	if got.Allowed || got.DecidingRule != nil || !strings.Contains(strings.ToLower(got.Reason), "default") {
		t.Fatalf("want a default deny, got %s", i4Show(got))
	}
}

func i4Show(c i4Check) string {
	s := fmt.Sprintf("allowed=%v reason=%q", c.Allowed, c.Reason)
	if d := c.DecidingRule; d != nil {
		s += fmt.Sprintf(" rule{kind=%s roleId=%v roleName=%v index=%d effect=%s resource=%v action=%v}",
			d.Source.Kind, i4Deref(d.Source.RoleId), i4Deref(d.Source.RoleName), d.Index, d.Effect, d.Resource, d.Action)
	}
	return s
}

func i4Deref(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// i4SetUserRoles replaces a user's roles as the operator of project.
func i4SetUserRoles(t testing.TB, s *atriumtest.Server, project, userID string, roles ...string) {
	t.Helper()
	s.Operator(project).MustDo(t, `mutation($id: ID!, $r: [ID!]) { updateUser(input: {id: $id, roles: $r}) { user { id } } }`,
		map[string]any{"id": userID, "r": roles}, nil)
}

// simulatedUser invites a user and accepts the invitation: only an ACTIVE
// user can act, so only its policy is worth simulating.
func simulatedUser(t testing.TB, s *atriumtest.Server, c graphql.Client, app, email string, roles []string, policy *client.AccessPolicyInput) string {
	t.Helper()
	id, ticket := i4InviteUser(t, c, app, email, roles, policy)
	_, err := client.AcceptInvitation(t.Context(), i4Client(s, "", ""), client.AcceptInvitationInput{Ticket: ticket, Password: i4Password})
	i4Must(t, err)
	return id
}

// The access simulator: allow, deny beating allow, default deny, inline
// policies, every kind of principal, and its own guard.
func TestCheckAccess(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	ctx := t.Context()
	p := i4Project(t, s, "Simulated")
	op := i4Operator(s, p)
	reader := i4Role(t, op, "Reader", i4Allow("IAM:Role", "IAM:GetRole"), i4Allow("Project:Settings", "Project:GetProjectInfo"))
	inactive := i4Role(t, op, "Inactive", i4Rule(client.EffectDeny, []string{"*"}, "*"))
	app := i4App(t, op, "EHR")
	user := simulatedUser(t, s, op, app, "dr.x@example.com", []string{reader}, nil)
	asUser := client.PrincipalInput{UserId: &user}

	// Allowed by the Reader role's second rule.
	got := i4MustSimulate(t, op, asUser, "Project:GetProjectInfo", "Project:Settings")
	i4WantRule(t, got, true, reader, "Reader", 1, []string{"Project:Settings"}, []string{"Project:GetProjectInfo"})
	if !strings.Contains(got.Reason, "Reader") {
		t.Errorf("reason %q does not name the role", got.Reason)
	}

	// The Inactive role's Deny beats the Allow, whichever order the roles
	// are held in.
	for _, order := range [][]string{{reader, inactive}, {inactive, reader}} {
		i4SetUserRoles(t, s, p, user, order...)
		got = i4MustSimulate(t, op, asUser, "Project:GetProjectInfo", "Project:Settings")
		i4WantRule(t, got, false, inactive, "Inactive", 0, []string{"*"}, []string{"*"})
	}

	// Nothing matches: denied by default.
	i4SetUserRoles(t, s, p, user, reader)
	i4WantDefaultDeny(t, i4MustSimulate(t, op, asUser, "Project:UpdateProjectInfo", "Project:Settings"))
	i4WantDefaultDeny(t, i4MustSimulate(t, op, asUser, "IAM:DeleteRole", "IAM:Role:"+reader))
	// A rule on the type covers one id of it.
	i4WantRule(t, i4MustSimulate(t, op, asUser, "IAM:GetRole", "IAM:Role:"+inactive), true, reader, "Reader", 0, []string{"IAM:Role"}, []string{"IAM:GetRole"})

	// An inline policy is its own source.
	inl := simulatedUser(t, s, op, app, "inline@example.com", nil, i4Policy(i4Allow("IAM:Role", "IAM:ListAllRoles"), i4Allow("Project:Settings", "Project:UpdateProjectInfo")))
	i4WantRule(t, i4MustSimulate(t, op, client.PrincipalInput{UserId: &inl}, "Project:UpdateProjectInfo", "Project:Settings"),
		true, "", "", 1, []string{"Project:Settings"}, []string{"Project:UpdateProjectInfo"})
	// An inline Deny beats a role's Allow.
	mixed := simulatedUser(t, s, op, app, "mixed@example.com", []string{reader}, i4Policy(i4Rule(client.EffectDeny, []string{"Project:Settings"}, "Project:*")))
	i4WantRule(t, i4MustSimulate(t, op, client.PrincipalInput{UserId: &mixed}, "Project:GetProjectInfo", "Project:Settings"),
		false, "", "", 0, []string{"Project:Settings"}, []string{"Project:*"})
	// ... and a role's Deny beats an inline Allow.
	held := simulatedUser(t, s, op, app, "held@example.com", []string{inactive}, i4Policy(i4Allow("*", "*")))
	i4WantRule(t, i4MustSimulate(t, op, client.PrincipalInput{UserId: &held}, "IAM:GetRole", "IAM:Role"),
		false, inactive, "Inactive", 0, []string{"*"}, []string{"*"})

	// A developer.
	dinv, err := client.InviteDeveloper(ctx, op, client.InviteDeveloperInput{Email: "sim.dev@example.com", Roles: []string{reader}})
	i4Must(t, err)
	dev := dinv.InviteDeveloper.Developer.Id
	i4WantRule(t, i4MustSimulate(t, op, client.PrincipalInput{DeveloperId: &dev}, "IAM:GetRole", "IAM:Role"),
		true, reader, "Reader", 0, []string{"IAM:Role"}, []string{"IAM:GetRole"})
	i4WantDefaultDeny(t, i4MustSimulate(t, op, client.PrincipalInput{DeveloperId: &dev}, "IAM:CreateRole", "IAM:Role"))

	// A machine client: the default one's full access is inline.
	ms, err := client.M2MClients(ctx, op, nil, nil, nil)
	i4Must(t, err)
	def := ms.M2mClients.Edges[0].Node.Id
	i4WantRule(t, i4MustSimulate(t, op, client.PrincipalInput{M2mClientId: &def}, "IAM:DeleteRole", "IAM:Role:"+reader),
		true, "", "", 0, []string{"*"}, []string{"*"})

	// Exactly one principal id.
	for _, who := range []client.PrincipalInput{
		{},
		{UserId: &user, DeveloperId: &dev},
		{UserId: &user, M2mClientId: &def},
		{UserId: &user, DeveloperId: &dev, M2mClientId: &def},
	} {
		_, err := i4Simulate(t, op, who, "IAM:GetRole", "IAM:Role")
		i4Fails(t, err, "BAD_USER_INPUT")
	}
	for _, in := range [][2]string{{"", "IAM:Role"}, {"IAM:GetRole", " "}} {
		_, err := i4Simulate(t, op, asUser, in[0], in[1])
		i4Fails(t, err, "BAD_USER_INPUT")
	}

	// Principals of another project are not found.
	sop := i4Operator(s, s.Sandbox)
	sapp := i4App(t, sop, "Sandbox EHR")
	stranger, _ := i4InviteUser(t, sop, sapp, "stranger@example.com", nil, i4Policy(i4Allow("*", "*")))
	sms, err := client.M2MClients(ctx, sop, nil, nil, nil)
	i4Must(t, err)
	sdef := sms.M2mClients.Edges[0].Node.Id
	for _, who := range []client.PrincipalInput{{UserId: &stranger}, {M2mClientId: &sdef}} {
		_, err := i4Simulate(t, op, who, "IAM:GetRole", "IAM:Role")
		i4Fails(t, err, "NOT_FOUND")
	}
	_, err = i4Simulate(t, sop, client.PrincipalInput{DeveloperId: &dev}, "IAM:GetRole", "IAM:Role")
	i4Fails(t, err, "NOT_FOUND")
	// The stranger is there, in its own project.
	i4MustSimulate(t, sop, client.PrincipalInput{UserId: &stranger}, "IAM:GetRole", "IAM:Role")

	// The simulator's own guard: IAM:SimulateAccess on IAM:Role.
	_, noRight := i4MachineToken(t, s, op, "No simulator", []string{reader}, nil)
	_, err = i4Simulate(t, i4Client(s, noRight, ""), asUser, "IAM:GetRole", "IAM:Role")
	i4Fails(t, err, "FORBIDDEN")
	_, withRight := i4MachineToken(t, s, op, "Simulator", nil, i4Policy(i4Allow("IAM:Role", "IAM:SimulateAccess")))
	got = i4MustSimulate(t, i4Client(s, withRight, ""), asUser, "IAM:GetRole", "IAM:Role")
	i4WantRule(t, got, true, reader, "Reader", 0, []string{"IAM:Role"}, []string{"IAM:GetRole"})
	// A machine token simulates in its own project only.
	_, err = i4Simulate(t, i4Client(s, withRight, s.Sandbox), client.PrincipalInput{UserId: &stranger}, "IAM:GetRole", "IAM:Role")
	i4Fails(t, err, "NOT_FOUND")

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
	op := i4Operator(s, s.Sandbox)
	staff := i4Role(t, op, "Staff",
		i4Rule(client.EffectAllow, []string{"FHIR:Consent", "FHIR:Coverage", "FHIR:RelatedPerson"}, "FHIR:Search", "FHIR:Read"),
		i4Rule(client.EffectAllow, []string{"FHIR:Patient", "FHIR:Appointment", "FHIR:Encounter"}, "FHIR:Read", "FHIR:Search", "FHIR:Update"),
		i4Allow("Zambda:Function:*", "Zambda:InvokeFunction"),
		i4Allow("App:User", "App:ListAllUsers", "App:GetUser"),
		i4Rule(client.EffectAllow, []string{"FHIR:Patient", "FHIR:Appointment"}, "FHIR:History"),
	)
	patient := i4Role(t, op, "Patient",
		i4Rule(client.EffectAllow, []string{"Zambda:Function:get-appointments", "Zambda:Function:cancel-appointment"}, "Zambda:InvokeFunction"),
		i4Allow("Telemed:Meeting", "Telemed:JoinMeeting"),
		i4Allow("FHIR:Encounter", "FHIR:Read"),
	)
	providers := i4Role(t, op, "Providers",
		i4Rule(client.EffectAllow, []string{"FHIR:*"}, "FHIR:Read", "FHIR:Search"),
		i4Rule(client.EffectAllow, []string{"FHIR:Encounter:*", "FHIR:Observation:*"}, "FHIR:*"),
	)
	inactive := i4Role(t, op, "Inactive", i4Rule(client.EffectDeny, []string{"*"}, "*"))
	names := map[string]string{staff: "Staff", patient: "Patient", providers: "Providers", inactive: "Inactive"}

	// One machine client per set of roles: the simulated principals.
	holders := map[string]string{}
	for _, set := range [][]string{{staff}, {patient}, {providers}, {staff, inactive}, {patient, inactive}} {
		res, err := client.CreateM2MClient(t.Context(), op, client.CreateM2MClientInput{Name: strings.Join(set, "+"), Roles: set})
		i4Must(t, err)
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
		got := i4MustSimulate(t, op, client.PrincipalInput{M2mClientId: &id}, tc.action, tc.resource)
		name := fmt.Sprintf("%v %s on %s", i4Names(tc.roles, names), tc.action, tc.resource)
		if tc.by == "" {
			if got.Allowed || got.DecidingRule != nil {
				t.Errorf("%s: want a default deny, got %s", name, i4Show(got))
			}
			continue
		}
		d := got.DecidingRule
		if got.Allowed != tc.allowed || d == nil || d.Source.Kind != client.PolicySourceKindRole || i4Deref(d.Source.RoleId) != tc.by ||
			i4Deref(d.Source.RoleName) != names[tc.by] || d.Index != tc.index {
			t.Errorf("%s: want allowed=%v by %s rule %d, got %s", name, tc.allowed, names[tc.by], tc.index, i4Show(got))
		}
	}
}

func i4Names(ids []string, names map[string]string) []string {
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
	op := i4Operator(s, s.Sandbox)
	app := i4App(t, op, "EHR")
	user, ticket := i4InviteUser(t, op, app, "disabled@example.com", nil, i4Policy(i4Allow("Project:Settings", "Project:GetProjectInfo")))
	_, err := client.AcceptInvitation(t.Context(), i4Client(s, "", ""), client.AcceptInvitationInput{Ticket: ticket, Password: i4Password})
	i4Must(t, err)
	who := client.PrincipalInput{UserId: &user}
	if got := i4MustSimulate(t, op, who, "Project:GetProjectInfo", "Project:Settings"); !got.Allowed {
		t.Fatalf("active user: %s", i4Show(got))
	}
	s.Operator(s.Sandbox).MustDo(t, `mutation($id: ID!) { disableUser(input: {id: $id}) { user { status } } }`, map[string]any{"id": user}, nil)
	got := i4MustSimulate(t, op, who, "Project:GetProjectInfo", "Project:Settings")
	if got.Allowed {
		t.Error("service/simulate.go subjectAccess reads a user with s.user, not its status: checkAccess answers allowed=true (\"" + got.Reason + "\") for a DISABLED user, whom the guard refuses (UNAUTHENTICATED) on every request")
	}
	if !strings.Contains(strings.ToLower(got.Reason), "disabled") {
		t.Errorf("reason %q does not say the user is disabled", got.Reason)
	}
}
