package api_test

import (
	"net/url"
	"testing"

	"atrium/atriumtest"
)

// Shared helpers of the sign-in, user access, user management, listing,
// round-trip and application tests. Names carry an "su" prefix (or read as
// signedInUser) so they do not clash with helpers of other test files.

// suPassword is the password every user of these tests sets.
const suPassword = "correct-horse-battery-staple"

// suRule is one access-policy rule in GraphQL input form.
func suRule(effect string, resources []string, actions []string) map[string]any {
	return map[string]any{"resource": resources, "action": actions, "effect": effect}
}

// suPolicy is an AccessPolicyInput holding rules.
func suPolicy(rules ...map[string]any) map[string]any {
	return map[string]any{"rule": rules}
}

// suAllow allows one action on one resource.
func suAllow(resource, action string) map[string]any {
	return suRule("Allow", []string{resource}, []string{action})
}

// suDenyAll is the policy of an "Inactive" role: deny everything.
func suDenyAll() map[string]any {
	return suPolicy(suRule("Deny", []string{"*"}, []string{"*"}))
}

// suCreateProject creates a project as the operator and returns its id.
func suCreateProject(t testing.TB, s *atriumtest.Server, name string) string {
	t.Helper()
	var out struct {
		CreateProject struct{ Project struct{ ID string } }
	}
	s.Operator("").MustDo(t, `mutation($n: String!) { createProject(input: {name: $n, fhirVersion: R4}) { project { id } } }`,
		map[string]any{"n": name}, &out)
	return out.CreateProject.Project.ID
}

// suCreateRole creates a role with the given policy and returns its id.
func suCreateRole(t testing.TB, c *atriumtest.Client, name string, policy map[string]any) string {
	t.Helper()
	var out struct {
		CreateRole struct{ Role struct{ ID string } }
	}
	c.MustDo(t, `mutation($n: String!, $p: AccessPolicyInput) { createRole(input: {name: $n, accessPolicy: $p}) { role { id } } }`,
		map[string]any{"n": name, "p": policy}, &out)
	return out.CreateRole.Role.ID
}

// suInvite invites a user with the given InviteUserInput (a Practitioner
// resource is added when neither resource nor profile is given) and returns
// its id and the ticket of its invitation link.
func suInvite(t testing.TB, c *atriumtest.Client, in map[string]any) (id, ticket string) {
	t.Helper()
	if _, ok := in["resource"]; !ok {
		if _, ok := in["profile"]; !ok {
			in["resource"] = map[string]any{"resourceType": "Practitioner"}
		}
	}
	var out struct {
		InviteUser struct {
			User          struct{ ID string }
			InvitationURL string
		}
	}
	c.MustDo(t, `mutation($in: InviteUserInput!) { inviteUser(input: $in) { user { id } invitationUrl } }`,
		map[string]any{"in": in}, &out)
	u, err := url.Parse(out.InviteUser.InvitationURL)
	if err != nil {
		t.Fatal(err)
	}
	return out.InviteUser.User.ID, u.Query().Get("ticket")
}

// suAccept sets the password of an invited user (one argon2id hash).
func suAccept(t testing.TB, s *atriumtest.Server, ticket, password string) {
	t.Helper()
	s.Client("", "").MustDo(t, `mutation($t: String!, $p: String!) { acceptInvitation(input: {ticket: $t, password: $p}) { user { id } } }`,
		map[string]any{"t": ticket, "p": password}, nil)
}

const suSignInMutation = `mutation($a: ID!, $e: String!, $p: String!) {
	signIn(input: {applicationId: $a, email: $e, password: $p}) { accessToken expiresAt user { id status } }
}`

// suSignInResponse runs signIn and returns the raw response.
func suSignInResponse(t testing.TB, s *atriumtest.Server, app, email, password string) *atriumtest.Response {
	t.Helper()
	return s.Client("", "").Do(t, suSignInMutation, map[string]any{"a": app, "e": email, "p": password})
}

// suSignIn signs a user in and returns its access token.
func suSignIn(t testing.TB, s *atriumtest.Server, app, email, password string) string {
	t.Helper()
	var out struct{ SignIn struct{ AccessToken string } }
	s.Client("", "").MustDo(t, suSignInMutation, map[string]any{"a": app, "e": email, "p": password}, &out)
	if out.SignIn.AccessToken == "" {
		t.Fatal("signIn returned an empty access token")
	}
	return out.SignIn.AccessToken
}

// suUser is an active, signed-in user.
type suUser struct {
	ID, Email, Token string
}

// signedInUser invites a user of app with roles and/or an inline policy,
// accepts the invitation with suPassword and signs in (two argon2id hashes).
func signedInUser(t testing.TB, s *atriumtest.Server, op *atriumtest.Client, app, email string, roles []string, policy map[string]any) suUser {
	t.Helper()
	in := map[string]any{"email": email, "applicationId": app}
	if roles != nil {
		in["roles"] = roles
	}
	if policy != nil {
		in["accessPolicy"] = policy
	}
	id, ticket := suInvite(t, op, in)
	suAccept(t, s, ticket, suPassword)
	return suUser{ID: id, Email: email, Token: suSignIn(t, s, app, email, suPassword)}
}

// suUpdateUser runs updateUser with input in and fails the test on error.
func suUpdateUser(t testing.TB, c *atriumtest.Client, in map[string]any) {
	t.Helper()
	c.MustDo(t, `mutation($in: UpdateUserInput!) { updateUser(input: $in) { user { id } } }`, map[string]any{"in": in}, nil)
}
