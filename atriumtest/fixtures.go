package atriumtest

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/Khan/genqlient/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"atrium/client"
)

// The fixtures every test builds on: projects, roles, applications,
// invitations (with their tickets), accepted invitations, signed-in users
// and developers, and machine tokens. They drive the server through the
// typed client (atrium/client) as a caller would, and fail the test on any
// error. Each takes the caller as a graphql.Client, so a test decides who
// acts (Server.Client, Server.Operator).

// UUID is the shape of every generated id.
var UUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// Must fails the test on err.
func Must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// graphQLErrorOf returns the first GraphQL error carried by err (a response
// with errors, or an HTTP error with a GraphQL body), nil when there is none.
func graphQLErrorOf(err error) *gqlerror.Error {
	var list gqlerror.List
	if errors.As(err, &list) && len(list) > 0 {
		return list[0]
	}
	var he *graphql.HTTPError
	if errors.As(err, &he) && len(he.Response.Errors) > 0 {
		return he.Response.Errors[0]
	}
	return nil
}

// ErrorCode returns the extensions.code of err's first GraphQL error.
func ErrorCode(err error) string {
	c, _ := extension(err, "code")
	return c
}

// ErrorField returns the extensions.field of err's first GraphQL error.
func ErrorField(err error) string {
	f, _ := extension(err, "field")
	return f
}

func extension(err error, name string) (string, bool) {
	if e := graphQLErrorOf(err); e != nil {
		v, ok := e.Extensions[name].(string)
		return v, ok
	}
	return "", false
}

// FailsWith checks that err is a GraphQL error with code and returns its
// message.
func FailsWith(t testing.TB, err error, code string) string {
	t.Helper()
	if err == nil {
		t.Fatalf("expected %s, got success", code)
	}
	e := graphQLErrorOf(err)
	if e == nil {
		t.Fatalf("expected %s, got a non-GraphQL error: %v", code, err)
	}
	if got := ErrorCode(err); got != code {
		t.Fatalf("expected %s, got %s: %s", code, got, e.Message)
	}
	return e.Message
}

// Rule is one access-policy rule. It is also a valid GraphQL variable value
// for the untyped Client.
func Rule(effect client.Effect, resources []string, actions ...string) client.AccessPolicyRuleInput {
	return client.AccessPolicyRuleInput{Resource: resources, Action: actions, Effect: effect}
}

// Allow allows actions on one resource.
func Allow(resource string, actions ...string) client.AccessPolicyRuleInput {
	return Rule(client.EffectAllow, []string{resource}, actions...)
}

// Policy is an access policy of rules (none: a policy that allows nothing).
func Policy(rules ...client.AccessPolicyRuleInput) *client.AccessPolicyInput {
	return &client.AccessPolicyInput{Rule: append([]client.AccessPolicyRuleInput{}, rules...)}
}

// FullAccess allows everything.
func FullAccess() *client.AccessPolicyInput { return Policy(Allow("*", "*")) }

// DenyAll is the policy of an "Inactive" role: deny everything.
func DenyAll() *client.AccessPolicyInput {
	return Policy(Rule(client.EffectDeny, []string{"*"}, "*"))
}

// CreateProject creates an R4 project as the operator and returns its id.
func (s *Server) CreateProject(t testing.TB, name string) string {
	t.Helper()
	res, err := client.CreateProject(t.Context(), s.Operator(""), client.CreateProjectInput{Name: name, FhirVersion: client.FhirVersionR4})
	Must(t, err)
	if id := res.CreateProject.Project.Id; !UUID.MatchString(id) {
		t.Fatalf("createProject returned id %q", id)
	}
	return res.CreateProject.Project.Id
}

// CreateRole creates a role with rules through c and returns its id.
func CreateRole(t testing.TB, c graphql.Client, name string, rules ...client.AccessPolicyRuleInput) string {
	t.Helper()
	return CreateRoleWith(t, c, client.CreateRoleInput{Name: name, AccessPolicy: Policy(rules...)})
}

// CreateRoleWith creates the role in through c and returns its id.
func CreateRoleWith(t testing.TB, c graphql.Client, in client.CreateRoleInput) string {
	t.Helper()
	res, err := client.CreateRole(t.Context(), c, in)
	Must(t, err)
	return res.CreateRole.Role.Id
}

// CreateFullAccessRole creates a role that allows everything through c and
// returns its id.
func CreateFullAccessRole(t testing.TB, c graphql.Client, name string) string {
	t.Helper()
	return CreateRole(t, c, name, Allow("*", "*"))
}

// CreateNamedApplication creates an application with a callback and a login
// page through c and returns its id.
func CreateNamedApplication(t testing.TB, c graphql.Client, name string) string {
	t.Helper()
	login := "https://app.example.com/login"
	return CreateApplication(t, c, client.CreateApplicationInput{Name: name, LoginRedirectUri: &login})
}

// CreateApplication creates an application through c, with a callback URL
// when in has none, and returns its id.
func CreateApplication(t testing.TB, c graphql.Client, in client.CreateApplicationInput) string {
	t.Helper()
	if in.AllowedCallbackUrls == nil {
		in.AllowedCallbackUrls = []string{"https://app.example.com/callback"}
	}
	res, err := client.CreateApplication(t.Context(), c, in)
	Must(t, err)
	return res.CreateApplication.Application.Id
}

// Invitation is an invited user and the link of its invitation.
type Invitation struct {
	UserID  string
	Profile string // the user's FHIR profile reference
	URL     string
	Ticket  string
}

// Invite invites a user through c (a Practitioner when in names neither a
// resource nor a profile) and returns it with its ticket.
func Invite(t testing.TB, c graphql.Client, in client.InviteUserInput) Invitation {
	t.Helper()
	if in.Resource == nil && in.Profile == nil {
		in.Resource = &map[string]any{"resourceType": "Practitioner"}
	}
	res, err := client.InviteUser(t.Context(), c, in)
	Must(t, err)
	link := res.InviteUser.InvitationUrl
	return Invitation{UserID: res.InviteUser.User.Id, Profile: res.InviteUser.User.Profile, URL: link, Ticket: Ticket(t, link)}
}

// Ticket returns the ticket of an invitation link, failing the test when it
// is not one.
func Ticket(t testing.TB, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	tk := u.Query().Get("ticket")
	if tk == "" || u.Path != "/invitation" {
		t.Fatalf("invitation link %q has no ticket", link)
	}
	return tk
}

// Accept accepts an invitation (of a user or a developer) with password.
func (s *Server) Accept(t testing.TB, ticket, password string) {
	t.Helper()
	_, err := client.AcceptInvitation(t.Context(), s.Client("", ""), client.AcceptInvitationInput{Ticket: ticket, Password: password})
	Must(t, err)
}

// SignIn signs a user of app in and returns its access token.
func (s *Server) SignIn(t testing.TB, app, email, password string) string {
	t.Helper()
	res, err := client.SignIn(t.Context(), s.Client("", ""), client.SignInInput{ApplicationId: app, Email: email, Password: password})
	Must(t, err)
	if res.SignIn.AccessToken == "" {
		t.Fatal("signIn returned an empty access token")
	}
	return res.SignIn.AccessToken
}

// User is an active, signed-in user.
type User struct {
	ID, Email, Token string
}

// SignedInUser invites a user through c (in names its application, email,
// roles and policy), accepts the invitation with password and signs in.
func (s *Server) SignedInUser(t testing.TB, c graphql.Client, in client.InviteUserInput, password string) User {
	t.Helper()
	if in.Email == nil {
		t.Fatal("SignedInUser needs an email")
	}
	inv := Invite(t, c, in)
	s.Accept(t, inv.Ticket, password)
	return User{ID: inv.UserID, Email: *in.Email, Token: s.SignIn(t, in.ApplicationId, *in.Email, password)}
}

// Developer is a developer who accepted its invitation and signed in.
type Developer struct {
	ID, Email, Token string
}

// SignedInDeveloper invites a developer through c, accepts the invitation
// with password and signs in. The token is not bound to a project.
func (s *Server) SignedInDeveloper(t testing.TB, c graphql.Client, in client.InviteDeveloperInput, password string) Developer {
	t.Helper()
	res, err := client.InviteDeveloper(t.Context(), c, in)
	Must(t, err)
	if res.InviteDeveloper.InvitationUrl == nil {
		t.Fatalf("inviteDeveloper %s returned no invitation link (an account that exists already)", in.Email)
	}
	s.Accept(t, Ticket(t, *res.InviteDeveloper.InvitationUrl), password)
	return Developer{ID: res.InviteDeveloper.Developer.Id, Email: in.Email, Token: s.SignInDeveloper(t, in.Email, password)}
}

// SignInDeveloper signs a developer in and returns its access token.
func (s *Server) SignInDeveloper(t testing.TB, email, password string) string {
	t.Helper()
	res, err := client.SignInDeveloper(t.Context(), s.Client("", ""), client.SignInDeveloperInput{Email: email, Password: password})
	Must(t, err)
	if res.SignInDeveloper.AccessToken == "" {
		t.Fatal("signInDeveloper returned an empty access token")
	}
	return res.SignInDeveloper.AccessToken
}

// RotateSecret gives a machine client a new secret through c and returns it.
func RotateSecret(t testing.TB, c graphql.Client, id string) string {
	t.Helper()
	res, err := client.RotateM2MClientSecret(t.Context(), c, client.RotateM2MClientSecretInput{Id: id})
	Must(t, err)
	if len(res.RotateM2MClientSecret.Secret) < 32 {
		t.Fatalf("rotated secret %q is short", res.RotateM2MClientSecret.Secret)
	}
	return res.RotateM2MClientSecret.Secret
}

// TokenResponse is the outcome of one POST /oauth/token.
type TokenResponse struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

// TokenRequest posts body with contentType (none when empty) to the token
// endpoint, with HTTP Basic credentials when basicID is not empty.
func (s *Server) TokenRequest(t testing.TB, contentType, body, basicID, basicSecret string) TokenResponse {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/oauth/token", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if basicID != "" {
		req.SetBasicAuth(basicID, basicSecret)
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
	out := TokenResponse{Status: res.StatusCode, Header: res.Header, Raw: string(raw)}
	if err := json.Unmarshal(raw, &out.Body); err != nil {
		t.Fatalf("token endpoint answered %d with non-JSON %q", res.StatusCode, raw)
	}
	return out
}

// ClientCredentials runs the client-credentials grant form-encoded, as the
// platform's SDK sends it.
func (s *Server) ClientCredentials(t testing.TB, clientID, secret string) TokenResponse {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}}
	return s.TokenRequest(t, "application/x-www-form-urlencoded", form.Encode(), "", "")
}

// M2MToken gets a machine token, failing the test unless it is issued.
func (s *Server) M2MToken(t testing.TB, clientID, secret string) string {
	t.Helper()
	r := s.ClientCredentials(t, clientID, secret)
	tok, _ := r.Body["access_token"].(string)
	if r.Status != http.StatusOK || tok == "" {
		t.Fatalf("token endpoint: %d %s", r.Status, r.Raw)
	}
	return tok
}

// Machine is a machine client with a secret and a token.
type Machine struct {
	ID, ClientID, Secret, Token string
}

// MachineToken creates a machine client through c, gives it a secret and
// gets it a token.
func (s *Server) MachineToken(t testing.TB, c graphql.Client, in client.CreateM2MClientInput) Machine {
	t.Helper()
	res, err := client.CreateM2MClient(t.Context(), c, in)
	Must(t, err)
	m := Machine{ID: res.CreateM2MClient.M2mClient.Id, ClientID: res.CreateM2MClient.M2mClient.ClientId}
	m.Secret = RotateSecret(t, c, m.ID)
	m.Token = s.M2MToken(t, m.ClientID, m.Secret)
	return m
}
