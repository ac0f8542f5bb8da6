package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"atrium/atriumtest"
	"atrium/client"
)

// Helpers of the api tests that are not fixtures (those are in atriumtest):
// shorthands over the fixtures, raw HTTP requests, the views of a user the
// invitation and user tests check, and checks of error answers.

// testPassword is the password of every user and developer these tests
// create; it is distinctive so that a test can look for it in what the
// server stores and logs.
const testPassword = "Pass-Phrase-7c1e9a-correct-horse"

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }

// wantOAuthError checks an RFC 6749 §5.2 error answer.
func wantOAuthError(t testing.TB, r atriumtest.TokenResponse, status int, code string) {
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

// rawPost posts a GraphQL query with exactly the given headers (no
// Authorization or project header unless listed) and decodes the response.
func rawPost(t *testing.T, s *atriumtest.Server, headers map[string]string, query string, vars map[string]any) (*http.Response, *atriumtest.Response) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, s.URL+"/graphql", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return send(t, s, req)
}

// send performs req and decodes a GraphQL response from it.
func send(t *testing.T, s *atriumtest.Server, req *http.Request) (*http.Response, *atriumtest.Response) {
	t.Helper()
	res, r, err := atriumtest.Send(s.Server.Client(), req)
	if err != nil {
		t.Fatal(err)
	}
	return res, r
}

// expectError checks that r failed with code, and that its message contains
// every one of words (case-insensitive).
func expectError(t *testing.T, r *atriumtest.Response, code string, words ...string) {
	t.Helper()
	if len(r.Errors) == 0 {
		t.Fatalf("expected %s, got data %s", code, r.Data)
	}
	e := r.Errors[0]
	if e.Extensions.Code != code {
		t.Fatalf("expected %s, got %s: %s", code, e.Extensions.Code, e.Message)
	}
	for _, w := range words {
		if !strings.Contains(strings.ToLower(e.Message), strings.ToLower(w)) {
			t.Errorf("message %q does not mention %q", e.Message, w)
		}
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// rawServer starts a test server and opens a separate driver connection to
// its database on the same engine, for reading stored documents as they are.
// The database's name is taken from the first command the server's driver
// sends.
func rawServer(tb testing.TB) (*atriumtest.Server, *mongo.Database) {
	tb.Helper()
	var (
		mu   sync.Mutex
		name string
	)
	monitor := &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		mu.Lock()
		defer mu.Unlock()
		if name == "" && e.DatabaseName != "admin" {
			name = e.DatabaseName
		}
	}}
	s := atriumtest.NewServer(tb, atriumtest.WithMonitor(monitor))
	mu.Lock()
	defer mu.Unlock()
	if name == "" {
		tb.Fatal("the monitor saw no command")
	}
	client, err := mongo.Connect(options.Client().ApplyURI(atriumtest.EngineURI()))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return s, client.Database(name)
}

// createRole creates a role with full access through c.
func createRole(t testing.TB, c *atriumtest.Client, name string) string {
	t.Helper()
	return atriumtest.CreateFullAccessRole(t, c, name)
}

// createApplication creates an application with a callback and a login
// page through c.
func createApplication(t testing.TB, c *atriumtest.Client, name string) string {
	t.Helper()
	return atriumtest.CreateNamedApplication(t, c, name)
}

// invite invites email into app with one role, as a Practitioner named
// Snow.
func invite(t testing.TB, c *atriumtest.Client, app, role, email string) atriumtest.Invitation {
	t.Helper()
	return atriumtest.Invite(t, c, client.InviteUserInput{Email: &email, ApplicationId: app, Roles: []string{role},
		Resource: &map[string]any{"resourceType": "Practitioner", "name": []any{map[string]any{"family": "Snow"}}}})
}

// userViewFields selects everything a test may check of a User.
const userViewFields = `id name email phoneNumber authenticationMethod profile status version
	roles { id name } accessPolicy { rule { resource action effect } }`

// userView is a decoded User.
type userView struct {
	ID                   string
	Name                 string
	Email                *string
	PhoneNumber          *string
	AuthenticationMethod string
	Profile              string
	Status               string
	Version              int64
	Roles                []struct{ ID, Name string }
	AccessPolicy         *struct {
		Rule []struct {
			Resource, Action []string
			Effect           string
		}
	}
}

const inviteMutation = `mutation($in: InviteUserInput!) { inviteUser(input: $in) { user { ` + userViewFields + ` } invitationUrl } }`

type invitedView struct {
	User          userView
	InvitationURL string
}

// practitioner is a FHIR Practitioner resource with a family name.
func practitioner(family string) map[string]any {
	return map[string]any{"resourceType": "Practitioner", "name": []any{map[string]any{"family": family}}}
}

// inviteView runs inviteUser with in and fails the test on any error.
func inviteView(t *testing.T, c *atriumtest.Client, in map[string]any) invitedView {
	t.Helper()
	var out struct{ InviteUser invitedView }
	c.MustDo(t, inviteMutation, map[string]any{"in": in}, &out)
	return out.InviteUser
}

// getUser reads one user of the client's project.
func getUser(t *testing.T, c *atriumtest.Client, id string) userView {
	t.Helper()
	var out struct{ User userView }
	c.MustDo(t, `query($id: ID!) { user(id: $id) { `+userViewFields+` } }`, map[string]any{"id": id}, &out)
	return out.User
}

// countUsers returns the number of users of the client's project.
func countUsers(t *testing.T, c *atriumtest.Client) int {
	t.Helper()
	var out struct{ Users struct{ TotalCount int } }
	c.MustDo(t, `{ users(first: 1) { totalCount } }`, nil, &out)
	return out.Users.TotalCount
}

const acceptMutation = `mutation($t: String!, $p: String!) { acceptInvitation(input: {ticket: $t, password: $p}) { user { id status email } } }`

const signInMutation = `mutation($a: ID!, $e: String!, $p: String!) {
	signIn(input: {applicationId: $a, email: $e, password: $p}) { accessToken expiresAt user { id status } }
}`

// signInResponse runs signIn and returns the raw response.
func signInResponse(t testing.TB, s *atriumtest.Server, app, email, password string) *atriumtest.Response {
	t.Helper()
	return s.Client("", "").Do(t, signInMutation, map[string]any{"a": app, "e": email, "p": password})
}

// mustUpdateUser runs updateUser with input in and fails the test on error.
func mustUpdateUser(t testing.TB, c *atriumtest.Client, in map[string]any) {
	t.Helper()
	c.MustDo(t, `mutation($in: UpdateUserInput!) { updateUser(input: $in) { user { id } } }`, map[string]any{"in": in}, nil)
}

// wantMessage fails unless the first error's message contains part.
func wantMessage(t *testing.T, r *atriumtest.Response, part string) {
	t.Helper()
	if len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Message, part) {
		t.Fatalf("want an error message containing %q, got %+v", part, r.Errors)
	}
}

// collKind is the kind of documents a collection named in a command holds:
// on the embedded engine a project's users are in "users.<projectId>"
// (store/layout.go), on MongoDB in "users".
func collKind(name string) string {
	kind, _, _ := strings.Cut(name, ".")
	return kind
}

// activeUser creates an application in s's sandbox and a user of it, with
// email, who has accepted its invitation with testPassword but not signed
// in yet; it returns the application's id.
func activeUser(t testing.TB, s *atriumtest.Server, email string) string {
	t.Helper()
	op := s.Operator(s.Sandbox)
	app := createApplication(t, op, "Portal")
	inv := invite(t, op, app, createRole(t, op, "Staff"), email)
	s.Accept(t, inv.Ticket, testPassword)
	return app
}
