package api_test

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

	"atrium/atriumtest"
	"atrium/client"
)

// Shared helpers of the developer, machine client, simulator and audit tests
// (issue 4). They drive the server through the typed genqlient client
// (atrium/client) wherever it has the operation. Names carry an "i4" prefix.

// i4Password is the password of every developer and user of these tests; it
// is distinctive so that the audit test can look for it.
const i4Password = "i4-Pass-Phrase-7c1e9a"

// i4UUID is the shape of a generated id.
var i4UUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// i4Client is a typed client of s sending token and (when not empty) the
// project header.
func i4Client(s *atriumtest.Server, token, project string) graphql.Client {
	return client.New(s.URL+"/graphql", token, project, s.Server.Client())
}

// i4Operator is a typed client acting as the operator in project.
func i4Operator(s *atriumtest.Server, project string) graphql.Client {
	return i4Client(s, atriumtest.AdminSecret, project)
}

// i4GQLError returns the first GraphQL error carried by err (a response with
// errors, or an HTTP error with a GraphQL body), nil when there is none.
func i4GQLError(err error) *gqlerror.Error {
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

// i4Code returns the extensions.code of err's first GraphQL error.
func i4Code(err error) string {
	if e := i4GQLError(err); e != nil {
		if c, ok := e.Extensions["code"].(string); ok {
			return c
		}
	}
	return ""
}

// i4Fails checks that err is a GraphQL error with code and returns its
// message.
func i4Fails(t testing.TB, err error, code string) string {
	t.Helper()
	if err == nil {
		t.Fatalf("expected %s, got success", code)
	}
	e := i4GQLError(err)
	if e == nil {
		t.Fatalf("expected %s, got a non-GraphQL error: %v", code, err)
	}
	if got := i4Code(err); got != code {
		t.Fatalf("expected %s, got %s: %s", code, got, e.Message)
	}
	return e.Message
}

// i4Field returns the extensions.field of err's first GraphQL error.
func i4Field(err error) string {
	if e := i4GQLError(err); e != nil {
		if f, ok := e.Extensions["field"].(string); ok {
			return f
		}
	}
	return ""
}

// i4Must fails the test on err.
func i4Must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// i4Ptr returns a pointer to v.
func i4Ptr[T any](v T) *T { return &v }

// i4Rule is one access-policy rule.
func i4Rule(effect client.Effect, resources []string, actions ...string) client.AccessPolicyRuleInput {
	return client.AccessPolicyRuleInput{Resource: resources, Action: actions, Effect: effect}
}

// i4Allow allows actions on one resource.
func i4Allow(resource string, actions ...string) client.AccessPolicyRuleInput {
	return i4Rule(client.EffectAllow, []string{resource}, actions...)
}

// i4Policy is an access policy of rules.
func i4Policy(rules ...client.AccessPolicyRuleInput) *client.AccessPolicyInput {
	return &client.AccessPolicyInput{Rule: rules}
}

// i4Project creates a project as the operator and returns its id.
func i4Project(t testing.TB, s *atriumtest.Server, name string) string {
	t.Helper()
	res, err := client.CreateProject(t.Context(), i4Operator(s, ""), client.CreateProjectInput{Name: name, FhirVersion: client.FhirVersionR4})
	i4Must(t, err)
	if !i4UUID.MatchString(res.CreateProject.Project.Id) {
		t.Fatalf("createProject returned id %q", res.CreateProject.Project.Id)
	}
	return res.CreateProject.Project.Id
}

// i4Role creates a role with rules through c and returns its id.
func i4Role(t testing.TB, c graphql.Client, name string, rules ...client.AccessPolicyRuleInput) string {
	t.Helper()
	res, err := client.CreateRole(t.Context(), c, client.CreateRoleInput{Name: name, AccessPolicy: i4Policy(rules...)})
	i4Must(t, err)
	return res.CreateRole.Role.Id
}

// i4App creates an application through c and returns its id.
func i4App(t testing.TB, c graphql.Client, name string) string {
	t.Helper()
	res, err := client.CreateApplication(t.Context(), c, client.CreateApplicationInput{
		Name: name, AllowedCallbackUrls: []string{"https://app.example.com/callback"},
	})
	i4Must(t, err)
	return res.CreateApplication.Application.Id
}

// i4InviteUser invites a Practitioner user of app through c and returns its
// id and invitation ticket.
func i4InviteUser(t testing.TB, c graphql.Client, app, email string, roles []string, policy *client.AccessPolicyInput) (id, ticket string) {
	t.Helper()
	res, err := client.InviteUser(t.Context(), c, client.InviteUserInput{
		Email: &email, ApplicationId: app, Roles: roles, AccessPolicy: policy,
		Resource: &map[string]any{"resourceType": "Practitioner"},
	})
	i4Must(t, err)
	return res.InviteUser.User.Id, i4Ticket(t, res.InviteUser.InvitationUrl)
}

// i4Ticket returns the ticket query parameter of an invitation link.
func i4Ticket(t testing.TB, link string) string {
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

// i4TokenResponse is the outcome of one POST /oauth/token.
type i4TokenResponse struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

// i4TokenRequest posts body with contentType (none when empty) to the token
// endpoint, with HTTP Basic credentials when basicID is not empty.
func i4TokenRequest(t testing.TB, s *atriumtest.Server, contentType, body, basicID, basicSecret string) i4TokenResponse {
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
	out := i4TokenResponse{Status: res.StatusCode, Header: res.Header, Raw: string(raw)}
	if err := json.Unmarshal(raw, &out.Body); err != nil {
		t.Fatalf("token endpoint answered %d with non-JSON %q", res.StatusCode, raw)
	}
	return out
}

// i4FormToken runs the client-credentials grant form-encoded.
func i4FormToken(t testing.TB, s *atriumtest.Server, clientID, secret string) i4TokenResponse {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}}
	return i4TokenRequest(t, s, "application/x-www-form-urlencoded", form.Encode(), "", "")
}

// i4M2MToken gets a machine token, failing the test unless it is issued.
func i4M2MToken(t testing.TB, s *atriumtest.Server, clientID, secret string) string {
	t.Helper()
	r := i4FormToken(t, s, clientID, secret)
	tok, _ := r.Body["access_token"].(string)
	if r.Status != http.StatusOK || tok == "" {
		t.Fatalf("token endpoint: %d %s", r.Status, r.Raw)
	}
	return tok
}

// i4WantOAuthError checks an RFC 6749 §5.2 error answer.
func i4WantOAuthError(t testing.TB, r i4TokenResponse, status int, code string) {
	t.Helper()
	if r.Status != status || r.Body["error"] != code {
		t.Fatalf("want %d %s, got %d %s", status, code, r.Status, r.Raw)
	}
	if _, ok := r.Body["access_token"]; ok {
		t.Fatalf("an error answer carries an access token: %s", r.Raw)
	}
	if got := r.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q", ct)
	}
}

// i4Rotate rotates a machine client's secret through c.
func i4Rotate(t testing.TB, c graphql.Client, id string) string {
	t.Helper()
	res, err := client.RotateM2MClientSecret(t.Context(), c, client.RotateM2MClientSecretInput{Id: id})
	i4Must(t, err)
	if len(res.RotateM2MClientSecret.Secret) < 32 {
		t.Fatalf("rotated secret %q is short", res.RotateM2MClientSecret.Secret)
	}
	return res.RotateM2MClientSecret.Secret
}

// i4MachineToken creates a machine client through c with roles and/or an
// inline policy, gives it a secret and returns its id and a token.
func i4MachineToken(t testing.TB, s *atriumtest.Server, c graphql.Client, name string, roles []string, policy *client.AccessPolicyInput) (id, token string) {
	t.Helper()
	res, err := client.CreateM2MClient(t.Context(), c, client.CreateM2MClientInput{Name: name, Roles: roles, AccessPolicy: policy})
	i4Must(t, err)
	m := res.CreateM2MClient.M2mClient
	return m.Id, i4M2MToken(t, s, m.ClientId, i4Rotate(t, c, m.Id))
}
