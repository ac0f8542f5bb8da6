package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"go.mongodb.org/mongo-driver/v2/event"

	"atrium/atriumtest"
)

// setupInvites is a server with an application and an allow-all role in the
// sandbox project.
type setupInvites struct {
	s         *atriumtest.Server
	op        *atriumtest.Client
	app, role string
}

func newIvSetup(t *testing.T, opts ...atriumtest.Option) setupInvites {
	t.Helper()
	s := atriumtest.NewServer(t, opts...)
	op := s.Operator(s.Sandbox)
	return setupInvites{s: s, op: op, app: createApplication(t, op, "EHR"), role: createRole(t, op, "Staff")}
}

// in is a valid invitation of email with the setup's role and a new
// Practitioner profile; extra fields are merged over it (nil deletes).
func (v setupInvites) in(email string, extra map[string]any) map[string]any {
	in := map[string]any{"email": email, "applicationId": v.app, "roles": []string{v.role}, "resource": practitioner("Snow")}
	for k, x := range extra {
		if x == nil {
			delete(in, k)
			continue
		}
		in[k] = x
	}
	return in
}

func TestInviteDuplicateEmailIsConflict(t *testing.T) {
	t.Parallel()
	v := newIvSetup(t)
	first := inviteView(t, v.op, v.in("dup@example.com", nil))
	if first.User.Email == nil || *first.User.Email != "dup@example.com" || first.User.Status != "INVITED" {
		t.Fatalf("first invitation: %+v", first.User)
	}
	for _, email := range []string{"dup@example.com", "DUP@Example.COM", "  Dup@example.com\t"} {
		t.Run(email, func(t *testing.T) {
			// A different resource: the refused invitation must not touch
			// the member's profile.
			r := v.op.Fails(t, "CONFLICT", "", inviteMutation, map[string]any{"in": v.in(email, map[string]any{
				"resource": map[string]any{"resourceType": "Patient", "name": []any{map[string]any{"family": "Intruder"}}},
			})})
			wantMessage(t, r, "already a member")
			wantMessage(t, r, "dup@example.com")
		})
	}
	if n := countUsers(t, v.op); n != 1 {
		t.Fatalf("%d users after duplicate invitations, want 1", n)
	}
	wantProfile(t, v.s, v.s.Sandbox, first.User.Profile, "Practitioner", "Snow")
}

// wantProfile checks, in the store, that ref resolves to a profile of
// the type with the given family name.
func wantProfile(t *testing.T, s *atriumtest.Server, project, ref, typ, family string) {
	t.Helper()
	kind, id, ok := strings.Cut(ref, "/")
	if !ok || kind != typ {
		t.Fatalf("profile reference %q, want %s/<id>", ref, typ)
	}
	p, err := s.DB.Tenant(project).Profiles().Get(context.Background(), id)
	if err != nil {
		t.Fatalf("profile %s: %v", ref, err)
	}
	if p.ResourceType != typ || p.Resource["resourceType"] != typ || p.Resource["id"] != id {
		t.Fatalf("profile %s is %s: %v", ref, p.ResourceType, p.Resource)
	}
	if got := fmt.Sprint(p.Resource["name"]); !strings.Contains(got, family) {
		t.Fatalf("profile %s has name %s, want family %q", ref, got, family)
	}
}

func TestInviteDuplicatePhoneLeavesMemberProfileAlone(t *testing.T) {
	t.Parallel()
	v := newIvSetup(t)
	first := inviteView(t, v.op, v.in("", map[string]any{"email": nil, "phoneNumber": "+15555550123"}))
	v.op.Fails(t, "CONFLICT", "", inviteMutation, map[string]any{"in": v.in("", map[string]any{
		"email": nil, "phoneNumber": "+15555550123",
		"resource": map[string]any{"resourceType": "Patient", "name": []any{map[string]any{"family": "Intruder"}}},
	})})
	if n := countUsers(t, v.op); n != 1 {
		t.Fatalf("%d users after a duplicate phone invitation, want 1", n)
	}
	// The member's profile keeps its type and content, and its reference
	// still resolves through the API.
	wantProfile(t, v.s, v.s.Sandbox, first.User.Profile, "Practitioner", "Snow")
	inviteView(t, v.op, v.in("colleague@example.com", map[string]any{"resource": nil, "profile": first.User.Profile}))
}

func TestInviteSameEmailInTwoProjects(t *testing.T) {
	t.Parallel()
	v := newIvSetup(t)
	other := v.s.CreateProject(t, "Other")
	op2 := v.s.Operator(other)
	app2, role2 := createApplication(t, op2, "EHR 2"), createRole(t, op2, "Staff 2")

	a := inviteView(t, v.op, v.in("twice@example.com", nil))
	b := inviteView(t, op2, map[string]any{"email": "Twice@Example.com", "applicationId": app2, "roles": []string{role2}, "resource": practitioner("Other")})
	if a.User.ID == b.User.ID || a.User.Profile == b.User.Profile {
		t.Fatalf("the same email in two projects is one user or shares a profile: %+v / %+v", a.User, b.User)
	}
	if *b.User.Email != "twice@example.com" {
		t.Fatalf("email not normalised: %q", *b.User.Email)
	}
	wantProfile(t, v.s, v.s.Sandbox, a.User.Profile, "Practitioner", "Snow")
	wantProfile(t, v.s, other, b.User.Profile, "Practitioner", "Other")
	if countUsers(t, v.op) != 1 || countUsers(t, op2) != 1 {
		t.Fatal("each project should hold exactly its own user")
	}
	// Each is visible only in its own project.
	v.op.Fails(t, "NOT_FOUND", "", `query($id: ID!) { user(id: $id) { id } }`, map[string]any{"id": b.User.ID})
}

func TestInviteRoleMustBelongToProject(t *testing.T) {
	t.Parallel()
	v := newIvSetup(t)
	foreign := createRole(t, v.s.Operator(v.s.CreateProject(t, "Other")), "Foreign")
	for _, tc := range []struct {
		name  string
		roles []string
		field string
	}{
		{"role of another project", []string{foreign}, "input.roles[0]"},
		{"unknown role", []string{"00000000-0000-0000-0000-000000000000"}, "input.roles[0]"},
		{"second role foreign", []string{v.role, foreign}, "input.roles[1]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v.op.Fails(t, "NOT_FOUND", tc.field, inviteMutation, map[string]any{"in": v.in("r@example.com", map[string]any{"roles": tc.roles})})
		})
	}
	t.Run("field names the input position after a repeated role", func(t *testing.T) {
		t.Parallel()
		v.op.Fails(t, "NOT_FOUND", "input.roles[2]", inviteMutation, map[string]any{"in": v.in("r@example.com", map[string]any{"roles": []string{v.role, v.role, foreign}})})
	})
	t.Cleanup(func() {
		if n := countUsers(t, v.op); n != 0 {
			t.Errorf("%d users created by refused invitations", n)
		}
	})
}

func TestInviteApplicationMustBelongToProject(t *testing.T) {
	t.Parallel()
	v := newIvSetup(t)
	foreign := createApplication(t, v.s.Operator(v.s.CreateProject(t, "Other")), "Foreign")
	for name, app := range map[string]string{"unknown": "00000000-0000-0000-0000-000000000000", "of another project": foreign} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			v.op.Fails(t, "NOT_FOUND", "input.applicationId", inviteMutation, map[string]any{"in": v.in("a@example.com", map[string]any{"applicationId": app})})
		})
	}
}

func TestInviteAccessPolicyIsValidated(t *testing.T) {
	t.Parallel()
	v := newIvSetup(t)
	rule := func(resource, action []string, effect string) map[string]any {
		return map[string]any{"resource": resource, "action": action, "effect": effect}
	}
	good := rule([]string{"App:User"}, []string{"App:GetUser"}, "Allow")
	for _, tc := range []struct {
		name  string
		rules []any
		field string
	}{
		{"unknown resource type", []any{rule([]string{"App:Bogus"}, []string{"App:GetUser"}, "Allow")}, "input.accessPolicy.rule[0].resource"},
		{"miscased service", []any{rule([]string{"iam:Role"}, []string{"IAM:GetRole"}, "Allow")}, "input.accessPolicy.rule[0].resource"},
		{"no resource", []any{rule([]string{}, []string{"App:GetUser"}, "Allow")}, "input.accessPolicy.rule[0].resource"},
		{"unknown action", []any{rule([]string{"App:User"}, []string{"App:NoSuchAction"}, "Allow")}, "input.accessPolicy.rule[0].action"},
		{"second rule bad", []any{good, rule([]string{"App:Bogus"}, []string{"App:GetUser"}, "Allow")}, "input.accessPolicy.rule[1].resource"},
		{"condition on Deny", []any{good, map[string]any{"resource": []string{"FHIR:Patient:*"}, "action": []string{"FHIR:Read"}, "effect": "Deny", "condition": []string{"name=x"}}}, "input.accessPolicy.rule[1].condition"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := v.in("p@example.com", map[string]any{"roles": nil, "accessPolicy": map[string]any{"rule": tc.rules}})
			v.op.Fails(t, "BAD_USER_INPUT", tc.field, inviteMutation, map[string]any{"in": in})
			// With a valid role as well the policy is still checked.
			in["roles"] = []string{v.role}
			v.op.Fails(t, "BAD_USER_INPUT", tc.field, inviteMutation, map[string]any{"in": in})
		})
	}
	t.Run("unknown effect", func(t *testing.T) {
		t.Parallel()
		r := v.op.Do(t, inviteMutation, map[string]any{"in": v.in("p@example.com", map[string]any{
			"accessPolicy": map[string]any{"rule": []any{rule([]string{"App:User"}, []string{"App:GetUser"}, "Maybe")}},
		})})
		// gqlgen refuses a bad enum in variables before any resolver runs.
		if code := r.Code(); code != "GRAPHQL_VALIDATION_FAILED" && code != "BAD_USER_INPUT" {
			t.Fatalf("effect Maybe: %+v", r.Errors)
		}
	})
	t.Cleanup(func() {
		if n := countUsers(t, v.op); n != 0 {
			t.Errorf("%d users created by refused invitations", n)
		}
	})
}

func TestInviteNeedsRolesOrPolicy(t *testing.T) {
	t.Parallel()
	v := newIvSetup(t)
	// The role lets its holder list roles; the inline policy lets it list
	// applications. Neither lets it read the project.
	var role struct {
		CreateRole struct{ Role struct{ ID string } }
	}
	v.op.MustDo(t, `mutation { createRole(input: {name: "Role reader", accessPolicy: {rule: [{resource: "IAM:Role", action: "IAM:ListAllRoles", effect: Allow}]}}) { role { id } } }`, nil, &role)
	readRoles := role.CreateRole.Role.ID
	listApps := map[string]any{"rule": []any{map[string]any{"resource": []string{"App:Application"}, "action": []string{"App:ListAllApplications"}, "effect": "Allow"}}}

	t.Run("neither", func(t *testing.T) {
		t.Parallel()
		v.op.Fails(t, "BAD_USER_INPUT", "input.roles", inviteMutation, map[string]any{"in": v.in("n@example.com", map[string]any{"roles": nil})})
	})
	t.Run("empty roles and no policy", func(t *testing.T) {
		t.Parallel()
		v.op.Fails(t, "BAD_USER_INPUT", "input.roles", inviteMutation, map[string]any{"in": v.in("n@example.com", map[string]any{"roles": []string{}})})
	})
	t.Run("policy only", func(t *testing.T) {
		t.Parallel()
		got := inviteView(t, v.op, v.in("policy@example.com", map[string]any{"roles": nil, "accessPolicy": listApps}))
		if len(got.User.Roles) != 0 || got.User.AccessPolicy == nil || len(got.User.AccessPolicy.Rule) != 1 ||
			got.User.AccessPolicy.Rule[0].Action[0] != "App:ListAllApplications" {
			t.Fatalf("policy-only user: %+v", got.User)
		}
	})
	t.Run("policy and empty roles", func(t *testing.T) {
		t.Parallel()
		inviteView(t, v.op, v.in("policy2@example.com", map[string]any{"roles": []string{}, "accessPolicy": listApps}))
	})
	t.Run("both are merged", func(t *testing.T) {
		t.Parallel()
		got := inviteView(t, v.op, v.in("both@example.com", map[string]any{"roles": []string{readRoles}, "accessPolicy": listApps}))
		if u := getUser(t, v.op, got.User.ID); len(u.Roles) != 1 || u.Roles[0].ID != readRoles || u.AccessPolicy == nil || len(u.AccessPolicy.Rule) != 1 {
			t.Fatalf("user with roles and policy: %+v", u)
		}
		const password = "merged-access-1"
		v.s.Client("", "").MustDo(t, acceptMutation, map[string]any{"t": atriumtest.Ticket(t, got.InvitationURL), "p": password}, nil)
		user := v.s.Client(v.s.SignIn(t, v.app, "both@example.com", password), "")
		user.MustDo(t, `{ roles { id } }`, nil, nil)        // from the role
		user.MustDo(t, `{ applications { id } }`, nil, nil) // from the inline policy
		user.Fails(t, "FORBIDDEN", "", `{ project { id } }`, nil)
	})
}

func TestInvitePhoneUser(t *testing.T) {
	t.Parallel()
	v := newIvSetup(t)
	got := inviteView(t, v.op, v.in("", map[string]any{"email": nil, "phoneNumber": " +15555550123 "}))
	u := got.User
	if u.Email != nil || u.PhoneNumber == nil || *u.PhoneNumber != "+15555550123" || u.AuthenticationMethod != "sms" || u.Name != "+15555550123" {
		t.Fatalf("phone user: %+v", u)
	}
	// An empty email counts as none.
	got = inviteView(t, v.op, v.in("", map[string]any{"email": "", "phoneNumber": "+15555550124", "username": "Arya"}))
	if got.User.Email != nil || got.User.AuthenticationMethod != "sms" || got.User.Name != "Arya" {
		t.Fatalf("phone user with empty email: %+v", got.User)
	}
	// Email and phone: signs in by email, keeps the phone.
	got = inviteView(t, v.op, v.in("both@example.com", map[string]any{"phoneNumber": "+15555550125"}))
	if got.User.AuthenticationMethod != "email" || got.User.PhoneNumber == nil || *got.User.PhoneNumber != "+15555550125" {
		t.Fatalf("user with email and phone: %+v", got.User)
	}
}

func TestInviteRejectsBadContact(t *testing.T) {
	t.Parallel()
	v := newIvSetup(t)
	for _, tc := range []struct {
		name  string
		extra map[string]any
		field string
	}{
		{"not an email", map[string]any{"email": "not-an-email"}, "input.email"},
		{"two at signs", map[string]any{"email": "a@b@example.com"}, "input.email"},
		{"display name", map[string]any{"email": "Jon <jon@example.com>"}, "input.email"},
		{"neither email nor phone", map[string]any{"email": nil}, "input.email"},
		{"blank email, no phone", map[string]any{"email": "   "}, "input.email"},
		{"phone without plus", map[string]any{"email": nil, "phoneNumber": "15555550123"}, "input.phoneNumber"},
		{"phone with letters", map[string]any{"email": nil, "phoneNumber": "+1555CALLME"}, "input.phoneNumber"},
		{"phone too short", map[string]any{"email": nil, "phoneNumber": "+12345"}, "input.phoneNumber"},
		{"bad phone next to good email", map[string]any{"phoneNumber": "555-0123"}, "input.phoneNumber"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v.op.Fails(t, "BAD_USER_INPUT", tc.field, inviteMutation, map[string]any{"in": v.in("ok@example.com", tc.extra)})
		})
	}
}

func TestInviteUsernameBecomesName(t *testing.T) {
	t.Parallel()
	v := newIvSetup(t)
	got := inviteView(t, v.op, v.in("Jon.Snow@Example.com", map[string]any{"username": "  Dr. Jon Snow "}))
	if got.User.Name != "Dr. Jon Snow" {
		t.Fatalf("name = %q, want the trimmed username", got.User.Name)
	}
	got = inviteView(t, v.op, v.in(" Arya@Example.com ", nil))
	if got.User.Name != "arya@example.com" {
		t.Fatalf("name = %q, want the normalised email", got.User.Name)
	}
	v.op.Fails(t, "BAD_USER_INPUT", "input.username", inviteMutation, map[string]any{"in": v.in("long@example.com", map[string]any{"username": strings.Repeat("n", 101)})})
}

func TestInviteProfileRules(t *testing.T) {
	t.Parallel()
	v := newIvSetup(t)
	existing := inviteView(t, v.op, v.in("first@example.com", nil)).User.Profile
	otherOp := v.s.Operator(v.s.CreateProject(t, "Other"))
	foreign := inviteView(t, otherOp, map[string]any{
		"email": "foreign@example.com", "applicationId": createApplication(t, otherOp, "App"),
		"roles": []string{createRole(t, otherOp, "Role")}, "resource": practitioner("Foreign"),
	}).User.Profile
	_, existingID, _ := strings.Cut(existing, "/")

	for _, tc := range []struct {
		name, code, field string
		extra             map[string]any
	}{
		{"Observation", "BAD_USER_INPUT", "input.resource.resourceType", map[string]any{"resource": map[string]any{"resourceType": "Observation"}}},
		{"no resourceType", "BAD_USER_INPUT", "input.resource.resourceType", map[string]any{"resource": map[string]any{"name": "x"}}},
		{"resource and profile", "BAD_USER_INPUT", "", map[string]any{"profile": existing}},
		{"neither resource nor profile", "BAD_USER_INPUT", "", map[string]any{"resource": nil}},
		{"profile of another project", "NOT_FOUND", "input.profile", map[string]any{"resource": nil, "profile": foreign}},
		{"profile with the wrong type", "NOT_FOUND", "input.profile", map[string]any{"resource": nil, "profile": "Patient/" + existingID}},
		{"unknown profile", "NOT_FOUND", "input.profile", map[string]any{"resource": nil, "profile": "Practitioner/00000000-0000-0000-0000-000000000000"}},
		{"malformed profile", "BAD_USER_INPUT", "input.profile", map[string]any{"resource": nil, "profile": "Observation/" + existingID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := v.op.Fails(t, tc.code, tc.field, inviteMutation, map[string]any{"in": v.in("second@example.com", tc.extra)})
			if tc.field == "" && !strings.HasPrefix(r.Errors[0].Extensions.Field, "input.") {
				t.Fatalf("error field %q does not name the input", r.Errors[0].Extensions.Field)
			}
		})
	}
	t.Run("existing profile", func(t *testing.T) {
		t.Parallel()
		got := inviteView(t, v.op, v.in("colleague@example.com", map[string]any{"resource": nil, "profile": existing}))
		if got.User.Profile != existing {
			t.Fatalf("profile = %q, want %q", got.User.Profile, existing)
		}
	})
	t.Run("Patient resource", func(t *testing.T) {
		t.Parallel()
		got := inviteView(t, v.op, v.in("patient@example.com", map[string]any{"resource": map[string]any{"resourceType": "Patient", "name": []any{map[string]any{"family": "Stark"}}}}))
		wantProfile(t, v.s, v.s.Sandbox, got.User.Profile, "Patient", "Stark")
	})
}

func TestInviteUsersBatch(t *testing.T) {
	t.Parallel()
	v := newIvSetup(t)
	const batch = `mutation($in: [InviteUserInput!]!) { inviteUsers(input: $in) { results { user { id email status } invitationUrl error { code message field } } } }`
	type result struct {
		User *struct {
			ID, Status string
			Email      *string
		}
		InvitationURL *string
		Error         *struct {
			Code, Message string
			Field         *string
		}
	}
	var out struct{ InviteUsers struct{ Results []result } }
	v.op.MustDo(t, batch, map[string]any{"in": []any{
		v.in("row0@example.com", nil),
		v.in("not an email", nil),
		v.in("row2@example.com", nil),
		v.in("ROW0@example.com", nil), // a duplicate of row 0
	}}, &out)
	res := out.InviteUsers.Results
	if len(res) != 4 {
		t.Fatalf("%d results, want 4", len(res))
	}
	for i, want := range map[int]string{0: "row0@example.com", 2: "row2@example.com"} {
		r := res[i]
		if r.Error != nil || r.User == nil || r.User.Email == nil || *r.User.Email != want || r.User.Status != "INVITED" || r.InvitationURL == nil {
			t.Fatalf("row %d: %+v", i, r)
		}
		atriumtest.Ticket(t, *r.InvitationURL)
	}
	if *res[0].InvitationURL == *res[2].InvitationURL {
		t.Fatal("two rows share an invitation link")
	}
	if r := res[1]; r.User != nil || r.InvitationURL != nil || r.Error == nil || r.Error.Code != "BAD_USER_INPUT" ||
		r.Error.Message == "" || r.Error.Field == nil || *r.Error.Field != "input[1].email" {
		t.Fatalf("row 1: %+v (error %+v)", r, r.Error)
	}
	if r := res[3]; r.User != nil || r.Error == nil || r.Error.Code != "CONFLICT" || !strings.Contains(r.Error.Message, "already a member") {
		t.Fatalf("row 3: %+v (error %+v)", r, r.Error)
	}
	if n := countUsers(t, v.op); n != 2 {
		t.Fatalf("%d users after the batch, want 2", n)
	}

	rows := make([]any, 101)
	for i := range rows {
		rows[i] = v.in(fmt.Sprintf("bulk%03d@example.com", i), nil)
	}
	v.op.Fails(t, "BAD_USER_INPUT", "", batch, map[string]any{"in": rows})
	v.op.Fails(t, "BAD_USER_INPUT", "", batch, map[string]any{"in": []any{}})
	if n := countUsers(t, v.op); n != 2 {
		t.Fatalf("%d users after refused batches, want 2", n)
	}
}

// profileWrites records the profile ids the server's driver inserts and
// deletes.
type profileWrites struct {
	armed    atomic.Bool // set once the test's own setup is done
	mu       sync.Mutex
	inserted []string
	deletes  int
}

func (p *profileWrites) monitor() *event.CommandMonitor {
	return &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		if !p.armed.Load() {
			return
		}
		switch e.CommandName {
		case "insert":
			if coll, _ := e.Command.Lookup("insert").StringValueOK(); collKind(coll) != "profiles" {
				return
			}
			docs, _ := e.Command.Lookup("documents").ArrayOK()
			vals, _ := docs.Values()
			p.mu.Lock()
			defer p.mu.Unlock()
			for _, d := range vals {
				id, _ := d.Document().Lookup("_id").StringValueOK()
				p.inserted = append(p.inserted, id)
			}
		case "delete":
			if coll, _ := e.Command.Lookup("delete").StringValueOK(); collKind(coll) == "profiles" {
				p.mu.Lock()
				p.deletes++
				p.mu.Unlock()
			}
		}
	}}
}

func TestInviteConcurrentDuplicates(t *testing.T) {
	t.Parallel()
	writes := &profileWrites{}
	v := newIvSetup(t, atriumtest.WithMonitor(writes.monitor()))
	writes.armed.Store(true)
	const n = 10
	results := make([]*atriumtest.Response, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			results[i], errs[i] = v.s.Client(atriumtest.AdminSecret, v.s.Sandbox).Try(inviteMutation, map[string]any{"in": v.in("race@example.com", nil)})
		})
	}
	close(start)
	wg.Wait()

	var winner struct{ InviteUser invitedView }
	wins := 0
	var others []string
	for i, r := range results {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		switch {
		case len(r.Errors) == 0:
			wins++
			if err := json.Unmarshal(r.Data, &winner); err != nil {
				t.Fatal(err)
			}
		case r.Code() != "CONFLICT" || !strings.Contains(r.Errors[0].Message, "already a member"):
			others = append(others, fmt.Sprintf("invitation %d: %+v", i, r.Errors))
		}
	}
	if wins != 1 {
		t.Fatalf("%d of %d concurrent invitations of one email succeeded, want 1", wins, n)
	}
	if c := countUsers(t, v.op); c != 1 {
		t.Fatalf("%d users, want 1", c)
	}
	ref := winner.InviteUser.User.Profile
	_, id, _ := strings.Cut(ref, "/")
	// Every profile write targeted the one deterministic id, so at most one
	// profile document exists.
	writes.mu.Lock()
	inserted, deletes := append([]string(nil), writes.inserted...), writes.deletes
	writes.mu.Unlock()
	if len(inserted) == 0 {
		t.Fatal("the monitor saw no profile insert: it does not observe the server's commands")
	}
	for _, got := range inserted {
		if got != id {
			t.Fatalf("a profile with id %q was inserted; every attempt should use %q (inserted: %v)", got, id, inserted)
		}
	}

	// What follows fails now and then: TestInviteLosingRaceKeepsWinnersProfile
	// shows the cause deterministically.
	t.Logf("%d profile deletes by losing invitations", deletes)
	if len(others) > 0 {
		t.Fatalf("invitations that failed other than with CONFLICT: %v", others)
	}
	if _, err := v.s.DB.Tenant(v.s.Sandbox).Profiles().Get(context.Background(), id); err != nil {
		t.Fatalf("the member's profile %s is gone: %v", ref, err)
	}
	wantProfile(t, v.s, v.s.Sandbox, ref, "Practitioner", "Snow")
	// The reference resolves through the API as well.
	inviteView(t, v.op, v.in("colleague@example.com", map[string]any{"resource": nil, "profile": ref}))
}

// TestInviteLosingRaceKeepsWinnersProfile makes the interleaving of two
// invitations of one email deterministic: A writes the profile, then its
// user insert is held (inside the driver's command monitor) while B writes
// the same profile and goes on as far as it can. On MongoDB B then wins and
// A's user insert fails on the unique email; on the embedded engine A has
// claimed the email in the directory before its insert, so B waits for A
// and loses. Either way exactly one wins, the other is a CONFLICT, and the
// loser must not remove the profile that the winner's user references.
func TestInviteLosingRaceKeepsWinnersProfile(t *testing.T) {
	t.Parallel()
	var (
		armed    atomic.Bool
		once     sync.Once
		held     = make(chan struct{})
		release  = make(chan struct{})
		released sync.Once
		bProfile = make(chan struct{})
		bOnce    sync.Once
	)
	mon := &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		if !armed.Load() || e.CommandName != "insert" {
			return
		}
		coll, _ := e.Command.Lookup("insert").StringValueOK()
		switch collKind(coll) {
		case "profiles":
			select {
			case <-held: // the profile write of B
				bOnce.Do(func() { close(bProfile) })
			default:
			}
		case "users":
			first := false
			once.Do(func() { first = true })
			if first {
				close(held)
				<-release
			}
		}
	}}
	v := newIvSetup(t, atriumtest.WithMonitor(mon))
	t.Cleanup(func() { released.Do(func() { close(release) }) })
	armed.Store(true)

	type outcome struct {
		r   *atriumtest.Response
		err error
	}
	invite := func(out chan<- outcome) {
		r, err := v.s.Client(atriumtest.AdminSecret, v.s.Sandbox).Try(inviteMutation, map[string]any{"in": v.in("race@example.com", nil)})
		out <- outcome{r, err}
	}
	a, b := make(chan outcome, 1), make(chan outcome, 1)
	go invite(a)
	<-held // A has written the profile and waits to insert its user
	go invite(b)
	var bGot *outcome
	select {
	case got := <-b: // B ran to completion past A
		bGot = &got
	case <-bProfile: // B has written the profile; it may now wait for A
	}
	released.Do(func() { close(release) })
	aGot := <-a
	if bGot == nil {
		got := <-b
		bGot = &got
	}
	var winner struct{ InviteUser invitedView }
	wins := 0
	for name, got := range map[string]outcome{"A": aGot, "B": *bGot} {
		switch {
		case got.err != nil:
			t.Fatal(got.err)
		case len(got.r.Errors) == 0:
			wins++
			if err := json.Unmarshal(got.r.Data, &winner); err != nil {
				t.Fatal(err)
			}
		case got.r.Code() != "CONFLICT":
			t.Fatalf("invitation %s: %+v", name, got.r.Errors)
		}
	}
	if wins != 1 {
		t.Fatalf("%d of the two invitations won", wins)
	}
	wantProfile(t, v.s, v.s.Sandbox, winner.InviteUser.User.Profile, "Practitioner", "Snow")
}

// TestInviteResponseListsRoles: the user in the invite response shows the
// roles it was given, as a later read does.
func TestInviteResponseListsRoles(t *testing.T) {
	t.Parallel()
	v := newIvSetup(t)
	got := inviteView(t, v.op, v.in("roles@example.com", nil))
	if u := getUser(t, v.op, got.User.ID); len(u.Roles) != 1 || u.Roles[0].ID != v.role {
		t.Fatalf("stored user's roles: %+v", u.Roles)
	}
	var batch struct {
		InviteUsers struct {
			Results []struct {
				User struct{ Roles []struct{ ID string } }
			}
		}
	}
	v.op.MustDo(t, `mutation($in: [InviteUserInput!]!) { inviteUsers(input: $in) { results { user { roles { id } } } } }`,
		map[string]any{"in": []any{v.in("roles2@example.com", nil)}}, &batch)
	if len(got.User.Roles) != 1 || got.User.Roles[0].ID != v.role || got.User.Roles[0].Name != "Staff" {
		t.Fatalf("inviteUser response roles: %+v, want [Staff]", got.User.Roles)
	}
	if r := batch.InviteUsers.Results; len(r) != 1 || len(r[0].User.Roles) != 1 || r[0].User.Roles[0].ID != v.role {
		t.Fatalf("inviteUsers response roles: %+v", r)
	}
}
