package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"atrium/atriumtest"
	"atrium/auth"
)

// ivUserFields selects everything a test may check of a User.
const ivUserFields = `id name email phoneNumber authenticationMethod profile status version
	roles { id name } accessPolicy { rule { resource action effect } }`

// ivUser is a decoded User.
type ivUser struct {
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

const ivInviteMutation = `mutation($in: InviteUserInput!) { inviteUser(input: $in) { user { ` + ivUserFields + ` } invitationUrl } }`

type ivInvited struct {
	User          ivUser
	InvitationURL string
}

// ivPractitioner is a FHIR Practitioner resource with a family name.
func ivPractitioner(family string) map[string]any {
	return map[string]any{"resourceType": "Practitioner", "name": []any{map[string]any{"family": family}}}
}

// ivInvite runs inviteUser with in and fails the test on any error.
func ivInvite(t *testing.T, c *atriumtest.Client, in map[string]any) ivInvited {
	t.Helper()
	var out struct{ InviteUser ivInvited }
	c.MustDo(t, ivInviteMutation, map[string]any{"in": in}, &out)
	return out.InviteUser
}

// ivTicket returns the ticket query parameter of an invitation link.
func ivTicket(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	tk := u.Query().Get("ticket")
	if tk == "" {
		t.Fatalf("invitation link %q has no ticket", link)
	}
	return tk
}

// ivProject creates a second project on the server and returns its id.
func ivProject(t *testing.T, s *atriumtest.Server, name string) string {
	t.Helper()
	var out struct {
		CreateProject struct{ Project struct{ ID string } }
	}
	s.Operator("").MustDo(t, `mutation($n: String!) { createProject(input: {name: $n, fhirVersion: R4}) { project { id } } }`,
		map[string]any{"n": name}, &out)
	return out.CreateProject.Project.ID
}

// ivGetUser reads one user of the client's project.
func ivGetUser(t *testing.T, c *atriumtest.Client, id string) ivUser {
	t.Helper()
	var out struct{ User ivUser }
	c.MustDo(t, `query($id: ID!) { user(id: $id) { `+ivUserFields+` } }`, map[string]any{"id": id}, &out)
	return out.User
}

// ivCountUsers returns the number of users of the client's project.
func ivCountUsers(t *testing.T, c *atriumtest.Client) int {
	t.Helper()
	var out struct{ Users struct{ TotalCount int } }
	c.MustDo(t, `{ users(first: 1) { totalCount } }`, nil, &out)
	return out.Users.TotalCount
}

const ivAcceptMutation = `mutation($t: String!, $p: String!) { acceptInvitation(input: {ticket: $t, password: $p}) { user { id status email } } }`

const ivSignInMutation = `mutation($a: ID!, $e: String!, $p: String!) { signIn(input: {applicationId: $a, email: $e, password: $p}) { accessToken user { id status } } }`

// ivSignIn signs a user in and returns its access token.
func ivSignIn(t *testing.T, s *atriumtest.Server, app, email, password string) string {
	t.Helper()
	var out struct{ SignIn struct{ AccessToken string } }
	s.Client("", "").MustDo(t, ivSignInMutation, map[string]any{"a": app, "e": email, "p": password}, &out)
	if out.SignIn.AccessToken == "" {
		t.Fatal("signIn returned no access token")
	}
	return out.SignIn.AccessToken
}

// ivPost sends one GraphQL request without a *testing.T, for goroutines
// (which must not call t.Fatal).
func ivPost(s *atriumtest.Server, token, project, query string, vars map[string]any) (*atriumtest.Response, error) {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, s.URL+"/graphql", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if project != "" {
		req.Header.Set(auth.ProjectHeader, project)
	}
	res, err := s.Server.Client().Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	var out atriumtest.Response
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("response %d is not GraphQL JSON: %s", res.StatusCode, raw)
	}
	return &out, nil
}

// ivWantMessage fails unless the first error's message contains part.
func ivWantMessage(t *testing.T, r *atriumtest.Response, part string) {
	t.Helper()
	if len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Message, part) {
		t.Fatalf("want an error message containing %q, got %+v", part, r.Errors)
	}
}
