package service_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"atrium/atriumtest"
	"atrium/client"
	"atrium/iam"
	"atrium/service"
)

// The first sign-in through an SSO connection, given the claims the
// relying-party leg verified: the project's defaultSSOUserRole (or a clear
// refusal), authenticationMethod and ssoData, the next sign-in finding the
// same user, linking by verified email only, and a connection of another
// project refused.

type ssoFixture struct {
	s         *atriumtest.Server
	app, role string
	conn      string
}

func newSSOFixture(t *testing.T) *ssoFixture {
	t.Helper()
	s := atriumtest.NewServer(t)
	op := s.Operator(s.Sandbox)
	f := &ssoFixture{s: s}
	f.app = atriumtest.CreateApplication(t, op, client.CreateApplicationInput{Name: "Portal"})
	f.role = atriumtest.CreateRole(t, op, "Clinicians", atriumtest.Allow("App:User", "App:GetUser"))
	var c struct {
		CreateSSOConnection struct{ SsoConnection struct{ ID string } }
	}
	op.MustDo(t, `mutation { createSSOConnection(input: {name: "Acme IdP", issuer: "https://idp.acme.example", clientId: "atrium",
		claimMapping: [{claim: "mail", field: "email"}, {claim: "email_verified", field: "email_verified"}, {claim: "name", field: "name"},
		{claim: "given_name", field: "given_name"}]}) { ssoConnection { id } } }`, nil, &c)
	f.conn = c.CreateSSOConnection.SsoConnection.ID
	return f
}

func (f *ssoFixture) signIn(t *testing.T, claims map[string]any) (*service.LoginStep, error) {
	t.Helper()
	return service.SSOSignIn(f.s.Service, context.Background(), f.conn, f.app, claims)
}

func (f *ssoFixture) setDefaultRole(t *testing.T) {
	t.Helper()
	f.s.Operator(f.s.Sandbox).MustDo(t, `mutation($r: ID) { updateProject(input: {defaultSSOUserRoleId: $r}) { project { id } } }`, map[string]any{"r": f.role}, nil)
}

func TestSSOFirstSignInCreatesTheUserWithTheDefaultRole(t *testing.T) {
	t.Parallel()
	f := newSSOFixture(t)
	claims := map[string]any{"sub": "u-1", "mail": "Ada@Acme.example", "email_verified": true, "name": "Ada Lovelace", "given_name": "Ada", "groups": []any{"x"}}
	_, err := f.signIn(t, claims)
	if iam.ErrorCode(err) != iam.Forbidden || !contains(err, "defaultSSOUserRole") {
		t.Fatalf("without a defaultSSOUserRole: %v", err)
	}
	f.setDefaultRole(t)
	st, err := f.signIn(t, claims)
	if err != nil {
		t.Fatal(err)
	}
	u := st.User
	if st.Next != service.SignInDone || st.Session != nil || !slices.Equal(st.AMR, []string{service.AMRFederated}) {
		t.Fatalf("step %+v", st)
	}
	if u.AuthenticationMethod != "Acme IdP" || !slices.Equal(u.RoleIDs, []string{f.role}) || u.Status != iam.Active ||
		u.Email != "ada@acme.example" || u.Name != "Ada Lovelace" {
		t.Fatalf("new user %+v", u)
	}
	want := map[string]any{"email": "Ada@Acme.example", "email_verified": true, "name": "Ada Lovelace", "given_name": "Ada"}
	if len(u.SSOData) != len(want) || u.SSOData["email"] != want["email"] || u.SSOData["given_name"] != "Ada" {
		t.Fatalf("ssoData %v, want %v (unmapped claims left out)", u.SSOData, want)
	}
	p, err := f.s.DB.Tenant(f.s.Sandbox).Profiles().Get(context.Background(), u.Profile[len("Practitioner/"):])
	if err != nil || p.ResourceType != "Practitioner" {
		t.Fatalf("profile %s: %+v %v", u.Profile, p, err)
	}

	// The next sign-in finds the same user and refreshes its ssoData.
	claims["name"] = "Ada King"
	again, err := f.signIn(t, claims)
	if err != nil || again.User.ID != u.ID || again.User.SSOData["name"] != "Ada King" {
		t.Fatalf("second sign-in: %+v %v", again, err)
	}
	if n, _ := f.s.DB.Tenant(f.s.Sandbox).CountUsers(context.Background(), iam.UserFilter{}); n != 1 {
		t.Fatalf("%d users after two sign-ins of one identity", n)
	}
}

func TestSSOLinksAnExistingUserByVerifiedEmailOnly(t *testing.T) {
	t.Parallel()
	f := newSSOFixture(t)
	f.setDefaultRole(t)
	op := f.s.Operator(f.s.Sandbox)
	inv := atriumtest.Invite(t, op, client.InviteUserInput{Email: ptrTo("grace@acme.example"), ApplicationId: f.app, Roles: []string{f.role},
		Resource: &map[string]any{"resourceType": "Practitioner"}})

	_, err := f.signIn(t, map[string]any{"sub": "u-2", "mail": "grace@acme.example", "email_verified": false})
	if iam.ErrorCode(err) != iam.Conflict || !contains(err, "verified") {
		t.Fatalf("an unverified email of an existing user: %v", err)
	}
	_, err = f.signIn(t, map[string]any{"sub": "u-2", "mail": "grace@acme.example"})
	if iam.ErrorCode(err) != iam.Conflict {
		t.Fatalf("no email_verified claim: %v", err)
	}
	st, err := f.signIn(t, map[string]any{"sub": "u-2", "mail": "grace@acme.example", "email_verified": true})
	if err != nil {
		t.Fatal(err)
	}
	if st.User.ID != inv.UserID || st.User.SSOSubject != f.conn+"/u-2" || st.User.Status != iam.Active {
		t.Fatalf("linked user %+v, want the invited %s", st.User, inv.UserID)
	}
	if n, _ := f.s.DB.Tenant(f.s.Sandbox).CountUsers(context.Background(), iam.UserFilter{}); n != 1 {
		t.Fatalf("%d users: linking made a duplicate", n)
	}
	// Another upstream identity with the same email is not linked over it.
	_, err = f.signIn(t, map[string]any{"sub": "u-3", "mail": "grace@acme.example", "email_verified": true})
	if iam.ErrorCode(err) != iam.Conflict {
		t.Fatalf("a second identity for a linked user: %v", err)
	}
}

func TestSSOConnectionOfAnotherProjectIsRefused(t *testing.T) {
	t.Parallel()
	f := newSSOFixture(t)
	f.setDefaultRole(t)
	other := f.s.CreateProject(t, "Other")
	op := f.s.Operator(other)
	otherApp := atriumtest.CreateApplication(t, op, client.CreateApplicationInput{Name: "Elsewhere"})
	_, err := service.SSOSignIn(f.s.Service, context.Background(), f.conn, otherApp, map[string]any{"sub": "u-9", "mail": "eve@acme.example", "email_verified": true})
	if iam.ErrorCode(err) != iam.NotFound {
		t.Fatalf("the sandbox's connection for another project's application: %v", err)
	}
	if _, err := f.signIn(t, map[string]any{"mail": "nosub@acme.example"}); iam.ErrorCode(err) != iam.Unauthenticated {
		t.Fatalf("claims without sub: %v", err)
	}
	for _, p := range []string{f.s.Sandbox, other} {
		if n, _ := f.s.DB.Tenant(p).CountUsers(context.Background(), iam.UserFilter{}); n != 0 {
			t.Fatalf("project %s has %d users after refused sign-ins", p, n)
		}
	}
}

func contains(err error, part string) bool {
	return err != nil && strings.Contains(strings.ToLower(err.Error()), strings.ToLower(part))
}

func ptrTo[T any](v T) *T { return &v }
