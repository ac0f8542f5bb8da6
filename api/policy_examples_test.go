package api_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"atrium/atriumtest"
	"atrium/client"
)

// The platform's real access policies (reference §6.6; §5 items 13 and 14),
// pasted as they appear there: single strings where the platform writes
// single strings, lists elsewhere.
const (
	// ottehr's "Inactive" role: added to deactivate a user, removed to
	// reactivate it. Works only if a Deny beats every Allow.
	exampleInactive = `{"rule":[{"resource":["*"],"action":["*"],"effect":"Deny"}]}`
	// The developer invite's full access.
	exampleFullAccess = `{"rule":[{"resource":["*"],"action":["*"],"effect":"Allow"}]}`
	// ottehr's patient role: Zambda invokes, joining a meeting, reading
	// encounters; "fhir is implicitly denied", and so is everything else.
	examplePatient = `{"rule":[
		{"resource":["Zambda:Function:telemed-get-patients","Zambda:Function:check-in","Zambda:Function:create-appointment",
			"Zambda:Function:get-schedule","Zambda:Function:get-paperwork","Zambda:Function:patch-paperwork",
			"Zambda:Function:payment-methods-setup","Zambda:Function:join-call","Zambda:Function:version"],
		 "action":["Zambda:InvokeFunction"],"effect":"Allow"},
		{"action":"Telemed:JoinMeeting","effect":"Allow","resource":"Telemed:Meeting"},
		{"action":["FHIR:Read"],"effect":"Allow","resource":["FHIR:Encounter"]}]}`
	// The docs' "providers" example, with its single strings.
	exampleDocsProviders = `{"rule":[
		{"resource":"FHIR:*","action":["FHIR:Read","FHIR:Search"],"effect":"Allow"},
		{"resource":["FHIR:Encounter:*","FHIR:Observation:*"],"action":"FHIR:*","effect":"Allow"}]}`
	// The narrow inline policy of ottehr's user invite.
	exampleUserInviteInline = `{"rule":[{"resource":"FHIR:Patient:*","action":["FHIR:Read"],"effect":"Allow"}]}`
	// ottehr's staff roles: the Administrator (App:ListAllUsers + App:GetUser
	// on App:User among FHIR, Z3, Zambda and Messaging grants) ...
	exampleAdministrator = `{"rule":[
		{"action":["FHIR:Search","FHIR:Read"],"effect":"Allow","resource":["FHIR:Consent","FHIR:Coverage","FHIR:RelatedPerson",
			"FHIR:Organization","FHIR:QuestionnaireResponse","FHIR:Questionnaire","FHIR:Person","FHIR:Medication","FHIR:List","FHIR:Schedule"]},
		{"action":["App:ListAllUsers","App:GetUser"],"effect":"Allow","resource":["App:User"]},
		{"action":["FHIR:Search","FHIR:Read","FHIR:Update"],"effect":"Allow","resource":["FHIR:Patient","FHIR:Appointment",
			"FHIR:Encounter","FHIR:Location","FHIR:HealthcareService","FHIR:Communication","FHIR:Flag","FHIR:DocumentReference"]},
		{"action":["Z3:GetObject"],"effect":"Allow","resource":["Z3:*"]},
		{"action":["Zambda:InvokeFunction"],"effect":"Allow","resource":["Zambda:Function:*"]},
		{"action":["FHIR:Create"],"effect":"Allow","resource":["FHIR:Location","FHIR:Practitioner","FHIR:HealthcareService"]},
		{"action":["FHIR:Read","FHIR:Update","FHIR:Search"],"effect":"Allow","resource":["FHIR:Practitioner"]},
		{"action":["Messaging:SendTransactionalSMS"],"effect":"Allow","resource":["*"]},
		{"action":["Messaging:GetConfiguration"],"effect":"Allow","resource":["Messaging:Messaging:*"]},
		{"action":["FHIR:History"],"effect":"Allow","resource":["FHIR:Patient","FHIR:Appointment"]},
		{"resource":["Terminology:Code:*"],"action":["Terminology:SearchCodes"],"effect":"Allow"}]}`
	// ... and the Provider.
	exampleProvider = `{"rule":[
		{"action":["Telemed:GetRoomToken"],"effect":"Allow","resource":["Telemed:Room"]},
		{"action":["Telemed:JoinMeeting"],"effect":"Allow","resource":["Telemed:Meeting:*"]},
		{"action":["*"],"effect":"Allow","resource":["eRx:*"]},
		{"resource":["FHIR:AllergyIntolerance:*","FHIR:MedicationStatement:*"],"action":["FHIR:Read","FHIR:Search"],"effect":"Allow"},
		{"action":["Messaging:GetConfiguration"],"effect":"Allow","resource":["Messaging:Messaging:*"]},
		{"resource":["Z3:*"],"action":["Z3:GetObject"],"effect":"Allow"}]}`

	// Wildcards and omitted segments (§6.2): IAM:Role = IAM:Role:*, IAM =
	// IAM:* = IAM:*:*, * = everything.
	exampleRolesByType     = `{"rule":[{"resource":"IAM:Role","action":"IAM:ListAllRoles","effect":"Allow"}]}`
	exampleRolesByTypeStar = `{"rule":[{"resource":"IAM:Role:*","action":"IAM:ListAllRoles","effect":"Allow"}]}`
	exampleRolesByService  = `{"rule":[{"resource":"IAM","action":"IAM:ListAllRoles","effect":"Allow"}]}`
	exampleRolesByStar     = `{"rule":[{"resource":"*","action":"IAM:ListAllRoles","effect":"Allow"}]}`
	exampleIAMActions      = `{"rule":[{"resource":"IAM:Role","action":"IAM:*","effect":"Allow"}]}`
	// One role by id ($ONE is replaced by the id).
	exampleOneRole = `{"rule":[{"resource":"IAM:Role:$ONE","action":"IAM:GetRole","effect":"Allow"}]}`

	// Deny beats allow.
	exampleRolesReader = `{"rule":[
		{"resource":"IAM:Role","action":["IAM:ListAllRoles","IAM:GetRole"],"effect":"Allow"},
		{"resource":"Project:Settings","action":"Project:GetProjectInfo","effect":"Allow"}]}`
	exampleNoIAM           = `{"rule":[{"resource":"IAM","action":"IAM:*","effect":"Deny"}]}`
	exampleDenyListInline  = `{"rule":[{"resource":"IAM:Role","action":"IAM:ListAllRoles","effect":"Deny"}]}`
	exampleProjectInfoOnly = `{"rule":[{"resource":"Project:Settings","action":"Project:GetProjectInfo","effect":"Allow"}]}`
)

// exampleCall is one operation the signed-in user tries.
type exampleCall struct {
	query string
	vars  func(*exampleEnv) map[string]any
}

type exampleEnv struct {
	s               *atriumtest.Server
	op              *atriumtest.Client
	app             string
	self, other     string // the signed-in user; another user of the project
	targetOne, tTwo string // two roles of the project
	roles           map[string]string
	token           string
	seq             int
}

var exampleCalls = map[string]exampleCall{
	"me":          {query: `{ me { id } }`},
	"project":     {query: `{ project { id } }`},
	"roles":       {query: `{ roles { id } }`},
	"users":       {query: `{ users(first: 5) { totalCount edges { node { id } } } }`},
	"user(self)":  {query: `query($id: ID!) { user(id: $id) { id } }`, vars: func(e *exampleEnv) map[string]any { return map[string]any{"id": e.self} }},
	"user(other)": {query: `query($id: ID!) { user(id: $id) { id } }`, vars: func(e *exampleEnv) map[string]any { return map[string]any{"id": e.other} }},
	"role(one)":   {query: `query($id: ID!) { role(id: $id) { id } }`, vars: func(e *exampleEnv) map[string]any { return map[string]any{"id": e.targetOne} }},
	"role(two)":   {query: `query($id: ID!) { role(id: $id) { id } }`, vars: func(e *exampleEnv) map[string]any { return map[string]any{"id": e.tTwo} }},
	"updateProject": {query: `mutation($d: String) { updateProject(input: {description: $d}) { project { id } } }`,
		vars: func(e *exampleEnv) map[string]any {
			e.seq++
			return map[string]any{"d": fmt.Sprintf("changed by the user (%d)", e.seq)}
		}},
	"createRole": {query: `mutation($n: String!) { createRole(input: {name: $n}) { role { id } } }`,
		vars: func(e *exampleEnv) map[string]any {
			e.seq++
			return map[string]any{"n": fmt.Sprintf("made by the user %d", e.seq)}
		}},
	"inviteUser": {query: `mutation($in: InviteUserInput!) { inviteUser(input: $in) { user { id } } }`,
		vars: func(e *exampleEnv) map[string]any {
			e.seq++
			return map[string]any{"in": map[string]any{"email": fmt.Sprintf("pe-invitee-%d@example.com", e.seq), "applicationId": e.app,
				"roles": []string{e.targetOne}, "resource": map[string]any{"resourceType": "Practitioner"}}}
		}},
}

// exampleSim is an access-simulator question about the signed-in user and the
// rule that must decide it (nil: default deny).
type exampleSim struct {
	action, resource string
	allowed          bool
	rule             *exampleRule
}

type exampleRule struct{ kind, roleName, effect string }

// TestPolicyExamples assigns the platform's real roles to one signed-in user
// and checks, through the real API, what it may then do: deny beats allow
// (the "Inactive" role), default deny (the patient role), the staff role's
// user listing, wildcards and omitted resource segments, and a project
// reader who cannot change the project. The user's roles change between
// cases with updateUser; its token stays the same (its policy is read on
// every request).
func TestPolicyExamples(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	e := &exampleEnv{s: s, op: s.Operator(s.Sandbox), roles: map[string]string{}}

	e.app = atriumtest.CreateApplication(t, e.op, client.CreateApplicationInput{Name: "Policy examples", AllowedCallbackUrls: []string{}})
	e.targetOne = e.createRole(t, "Target one", "")
	e.tTwo = e.createRole(t, "Target two", "")
	for name, policy := range map[string]string{
		"Inactive": exampleInactive, "Full access": exampleFullAccess, "Patient": examplePatient, "Providers (docs)": exampleDocsProviders,
		"Administrator": exampleAdministrator, "Provider": exampleProvider,
		"Roles by IAM:Role": exampleRolesByType, "Roles by IAM:Role:*": exampleRolesByTypeStar, "Roles by IAM": exampleRolesByService,
		"Roles by *": exampleRolesByStar, "IAM:* on IAM:Role": exampleIAMActions, "One role": strings.ReplaceAll(exampleOneRole, "$ONE", e.targetOne),
		"Roles reader": exampleRolesReader, "No IAM": exampleNoIAM, "Project info only": exampleProjectInfoOnly,
	} {
		e.roles[name] = e.createRole(t, name, policy)
	}

	// The single strings were stored as one-element lists.
	var got struct {
		Role struct {
			AccessPolicy struct {
				Rule []struct {
					Resource, Action []string
					Effect           string
				}
			}
		}
	}
	e.op.MustDo(t, `query($id: ID!) { role(id: $id) { accessPolicy { rule { resource action effect } } } }`, map[string]any{"id": e.roles["Patient"]}, &got)
	if r := got.Role.AccessPolicy.Rule; len(r) != 3 || len(r[0].Resource) != 9 || !slices.Equal(r[1].Action, []string{"Telemed:JoinMeeting"}) ||
		!slices.Equal(r[1].Resource, []string{"Telemed:Meeting"}) || r[2].Effect != "Allow" {
		t.Fatalf("the patient role as stored: %+v", r)
	}

	// One user (two argon2id hashes: accept, sign in), and another to look at.
	staff := s.SignedInUser(t, e.op, client.InviteUserInput{Email: ptr("pe-staff@example.com"), ApplicationId: e.app, Roles: []string{e.roles["Project info only"]}}, testPassword)
	e.self, e.token = staff.ID, staff.Token
	e.other = atriumtest.Invite(t, e.op, client.InviteUserInput{Email: ptr("pe-patient@example.com"), ApplicationId: e.app, Roles: []string{e.roles["Patient"]},
		Resource: &map[string]any{"resourceType": "Patient"}}).UserID

	guarded := []string{"project", "roles", "users", "user(self)", "role(one)", "updateProject", "createRole", "inviteUser"}
	cases := []struct {
		name   string
		roles  []string
		inline string // JSON; "" for none
		allow  []string
		deny   []string
		sims   []exampleSim
	}{
		// (a) Deny beats allow: the "Inactive" role switches off a user
		// who also holds full access, in whatever order it holds them.
		{name: "a/full access alone (control)", roles: []string{"Full access"},
			allow: guarded},
		{name: "a/Inactive added to full access", roles: []string{"Full access", "Inactive"},
			deny: guarded, allow: []string{"me"},
			sims: []exampleSim{{"Project:GetProjectInfo", "Project:Settings", false, &exampleRule{"ROLE", "Inactive", "Deny"}}}},
		{name: "a/Inactive first", roles: []string{"Inactive", "Full access"},
			deny: guarded},
		{name: "a/Inactive with full access inline", roles: []string{"Inactive"}, inline: exampleFullAccess,
			deny: guarded,
			sims: []exampleSim{{"IAM:CreateRole", "IAM:Role", false, &exampleRule{"ROLE", "Inactive", "Deny"}}}},
		{name: "a/Inactive removed again", roles: []string{"Full access"},
			allow: []string{"project", "roles", "users"}},

		// (b) Default deny: a patient may invoke its functions and read
		// encounters, nothing of the project's administration.
		{name: "b/patient", roles: []string{"Patient"},
			deny: []string{"project", "roles", "users", "user(self)", "updateProject", "createRole"},
			sims: []exampleSim{
				{"Project:GetProjectInfo", "Project:Settings", false, nil},
				{"Zambda:InvokeFunction", "Zambda:Function:check-in", true, &exampleRule{"ROLE", "Patient", "Allow"}},
				{"Zambda:InvokeFunction", "Zambda:Function:delete-user", false, nil},
			}},
		{name: "b/patient, docs providers and the user invite's FHIR inline", roles: []string{"Patient", "Providers (docs)"}, inline: exampleUserInviteInline,
			deny: []string{"project", "roles", "users", "user(self)"},
			sims: []exampleSim{{"App:GetUser", "App:User:" + "$SELF", false, nil}}},

		// (c) Staff: App:ListAllUsers + App:GetUser on App:User list and
		// read any user, and nothing else of App or IAM.
		{name: "c/staff (Administrator)", roles: []string{"Administrator"},
			allow: []string{"users", "user(self)", "user(other)"},
			deny:  []string{"createRole", "inviteUser", "roles", "role(one)", "project", "updateProject"},
			sims:  []exampleSim{{"App:GetUser", "App:User:$OTHER", true, &exampleRule{"ROLE", "Administrator", "Allow"}}}},
		{name: "c/staff (Administrator and Provider)", roles: []string{"Administrator", "Provider"},
			allow: []string{"users", "user(other)"},
			deny:  []string{"createRole", "inviteUser", "roles"}},

		// (d) Wildcards and omitted segments all cover the list of roles;
		// a grant on one role's id covers that role only.
		{name: "d/IAM:Role", roles: []string{"Roles by IAM:Role"}, allow: []string{"roles"}, deny: []string{"role(one)", "project", "createRole"}},
		{name: "d/IAM:Role:*", roles: []string{"Roles by IAM:Role:*"}, allow: []string{"roles"}, deny: []string{"role(one)", "project"}},
		{name: "d/IAM", roles: []string{"Roles by IAM"}, allow: []string{"roles"}, deny: []string{"role(one)", "project"}},
		{name: "d/*", roles: []string{"Roles by *"}, allow: []string{"roles"}, deny: []string{"role(one)", "project", "users"}},
		{name: "d/IAM:* actions on IAM:Role", roles: []string{"IAM:* on IAM:Role"},
			allow: []string{"roles", "role(one)", "role(two)", "createRole"}, deny: []string{"users", "project"}},
		{name: "d/IAM:GetRole on one role's id", roles: []string{"One role"},
			allow: []string{"role(one)"}, deny: []string{"role(two)", "roles", "createRole"}},

		// (e) Deny beats allow across two roles and across a role and the
		// inline policy, in both directions.
		{name: "e/roles reader (control)", roles: []string{"Roles reader"},
			allow: []string{"roles", "role(one)", "project"}},
		{name: "e/deny in a second role", roles: []string{"Roles reader", "No IAM"},
			allow: []string{"project"}, deny: []string{"roles", "role(one)"},
			sims: []exampleSim{{"IAM:ListAllRoles", "IAM:Role", false, &exampleRule{"ROLE", "No IAM", "Deny"}}}},
		{name: "e/deny in the first role", roles: []string{"No IAM", "Roles reader"},
			allow: []string{"project"}, deny: []string{"roles", "role(one)"}},
		{name: "e/inline deny beats a role's allow", roles: []string{"Roles reader"}, inline: exampleDenyListInline,
			allow: []string{"project", "role(one)"}, deny: []string{"roles"},
			sims: []exampleSim{{"IAM:ListAllRoles", "IAM:Role", false, &exampleRule{"INLINE", "", "Deny"}}}},
		{name: "e/a role's deny beats the inline allow", roles: []string{"No IAM"}, inline: exampleRolesReader,
			allow: []string{"project"}, deny: []string{"roles", "role(one)"}},

		// (f) A project reader cannot change the project.
		{name: "f/Project:GetProjectInfo only", roles: []string{"Project info only"},
			allow: []string{"project"}, deny: []string{"updateProject", "users", "roles"},
			sims: []exampleSim{{"Project:UpdateProjectInfo", "Project:Settings", false, nil}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ids := make([]string, len(c.roles))
			for i, n := range c.roles {
				if ids[i] = e.roles[n]; ids[i] == "" {
					t.Fatalf("no role %q", n)
				}
			}
			var inline any // JSON null removes the inline policy
			if c.inline != "" {
				inline = examplePolicy(t, c.inline)
			}
			e.op.MustDo(t, `mutation($id: ID!, $r: [ID!], $p: AccessPolicyInput) { updateUser(input: {id: $id, roles: $r, accessPolicy: $p}) { user { id } } }`,
				map[string]any{"id": e.self, "r": ids, "p": inline}, nil)
			for _, name := range c.allow {
				e.try(t, name, true)
			}
			for _, name := range c.deny {
				e.try(t, name, false)
			}
			for _, sim := range c.sims {
				e.simulate(t, sim)
			}
		})
	}
}

func examplePolicy(t *testing.T, js string) map[string]any {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal([]byte(js), &p); err != nil {
		t.Fatalf("policy JSON: %v", err)
	}
	return p
}

// createRole creates a role with the policy pasted as JSON ("" for none).
func (e *exampleEnv) createRole(t *testing.T, name, policy string) string {
	t.Helper()
	vars := map[string]any{"n": name, "p": nil}
	if policy != "" {
		vars["p"] = examplePolicy(t, policy)
	}
	var out struct {
		CreateRole struct{ Role struct{ ID string } }
	}
	e.op.MustDo(t, `mutation($n: String!, $p: AccessPolicyInput) { createRole(input: {name: $n, accessPolicy: $p}) { role { id } } }`, vars, &out)
	return out.CreateRole.Role.ID
}

// try runs one operation as the signed-in user: allowed, it answers without
// error; denied, it is FORBIDDEN by the access policy, with no data.
func (e *exampleEnv) try(t *testing.T, name string, allowed bool) {
	t.Helper()
	call, ok := exampleCalls[name]
	if !ok {
		t.Fatalf("no call %q", name)
	}
	var vars map[string]any
	if call.vars != nil {
		vars = call.vars(e)
	}
	r := e.s.Client(e.token, "").Do(t, call.query, vars)
	switch {
	case allowed && len(r.Errors) > 0:
		t.Errorf("%s: want allowed, got %s: %s", name, r.Code(), r.Errors[0].Message)
	case allowed && (string(r.Data) == "null" || len(r.Data) == 0):
		t.Errorf("%s: allowed but no data: %s", name, r.Raw)
	case !allowed && r.Code() != "FORBIDDEN":
		t.Errorf("%s: want FORBIDDEN, got %q: %s", name, r.Code(), r.Raw)
	case !allowed && !strings.Contains(r.Errors[0].Message, "not allowed by your access policy"):
		t.Errorf("%s: FORBIDDEN for another reason: %s", name, r.Errors[0].Message)
	case !allowed && string(r.Data) != "null":
		t.Errorf("%s: denied, yet data %s", name, r.Data)
	}
}

// simulate asks the access simulator (as the operator) why the user may or
// may not do something.
func (e *exampleEnv) simulate(t *testing.T, sim exampleSim) {
	t.Helper()
	resource := strings.NewReplacer("$SELF", e.self, "$OTHER", e.other).Replace(sim.resource)
	var out struct {
		CheckAccess struct {
			Allowed      bool
			Reason       string
			DecidingRule *struct {
				Effect string
				Source struct {
					Kind     string
					RoleName *string
				}
			}
		}
	}
	e.op.MustDo(t, `mutation($u: ID!, $a: String!, $r: String!) {
		checkAccess(input: {principal: {userId: $u}, action: $a, resource: $r}) {
			allowed reason decidingRule { effect source { kind roleName } } } }`,
		map[string]any{"u": e.self, "a": sim.action, "r": resource}, &out)
	got := out.CheckAccess
	where := sim.action + " on " + resource
	if got.Allowed != sim.allowed {
		t.Errorf("simulator: %s allowed = %v, want %v (%s)", where, got.Allowed, sim.allowed, got.Reason)
	}
	switch {
	case sim.rule == nil && got.DecidingRule != nil:
		t.Errorf("simulator: %s decided by %+v, want default deny (%s)", where, *got.DecidingRule, got.Reason)
	case sim.rule == nil && !strings.Contains(got.Reason, "denied by default"):
		t.Errorf("simulator: %s reason %q does not say default deny", where, got.Reason)
	case sim.rule != nil && got.DecidingRule == nil:
		t.Errorf("simulator: %s decided by no rule, want %+v (%s)", where, *sim.rule, got.Reason)
	case sim.rule != nil:
		d := got.DecidingRule
		name := ""
		if d.Source.RoleName != nil {
			name = *d.Source.RoleName
		}
		if d.Effect != sim.rule.effect || d.Source.Kind != sim.rule.kind || name != sim.rule.roleName {
			t.Errorf("simulator: %s decided by %s %s %q, want %+v (%s)", where, d.Effect, d.Source.Kind, name, *sim.rule, got.Reason)
		}
	}
}
