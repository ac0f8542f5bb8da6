package web_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"atrium/atriumtest"
)

// fixture is a server with an application (shouldSendInviteEmail as given)
// and an allow-all role in the sandbox project.
type fixture struct {
	s         *atriumtest.Server
	op        *atriumtest.Client
	app, role string
}

const (
	appName    = "Clinic Portal"
	loginURL   = "https://portal.example.com/login"
	inviteMut  = `mutation($in: InviteUserInput!) { inviteUser(input: $in) { user { id email status } invitationUrl } }`
	acceptMut  = `mutation($t: String!, $p: String!) { acceptInvitation(input: {ticket: $t, password: $p}) { user { id status } } }`
	signInMut  = `mutation($a: ID!, $e: String!, $p: String!) { signIn(input: {applicationId: $a, email: $e, password: $p}) { accessToken user { id } } }`
	userStatus = `query($id: ID!) { user(id: $id) { status } }`
)

func newFixture(t *testing.T, sendMail bool, opts ...atriumtest.Option) fixture {
	t.Helper()
	s := atriumtest.NewServer(t, opts...)
	op := s.Operator(s.Sandbox)
	f := fixture{s: s, op: op}
	f.app = f.createApp(t, appName, loginURL, sendMail)
	var role struct {
		CreateRole struct{ Role struct{ ID string } }
	}
	op.MustDo(t, `mutation { createRole(input: {name: "Staff", accessPolicy: {rule: [{resource: "*", action: "*", effect: Allow}]}}) { role { id } } }`, nil, &role)
	f.role = role.CreateRole.Role.ID
	return f
}

func (f fixture) createApp(t *testing.T, name, login string, sendMail bool) string {
	t.Helper()
	in := map[string]any{"name": name, "allowedCallbackUrls": []string{"https://portal.example.com/callback"}, "shouldSendInviteEmail": sendMail}
	if login != "" {
		in["loginRedirectUri"] = login
	}
	var out struct {
		CreateApplication struct{ Application struct{ ID string } }
	}
	f.op.MustDo(t, `mutation($in: CreateApplicationInput!) { createApplication(input: $in) { application { id } } }`, map[string]any{"in": in}, &out)
	return out.CreateApplication.Application.ID
}

// invitation is an invited user and its link.
type invitation struct {
	UserID, URL, Ticket string
}

// invite invites email to app; extra fields are merged into the input.
func (f fixture) invite(t *testing.T, app, email string, extra map[string]any) invitation {
	t.Helper()
	in := map[string]any{"email": email, "applicationId": app, "roles": []string{f.role},
		"resource": map[string]any{"resourceType": "Practitioner", "name": []any{map[string]any{"family": "Snow"}}}}
	for k, v := range extra {
		in[k] = v
	}
	var out struct {
		InviteUser struct {
			User          struct{ ID string }
			InvitationURL string
		}
	}
	f.op.MustDo(t, inviteMut, map[string]any{"in": in}, &out)
	u, err := url.Parse(out.InviteUser.InvitationURL)
	if err != nil {
		t.Fatal(err)
	}
	return invitation{UserID: out.InviteUser.User.ID, URL: out.InviteUser.InvitationURL, Ticket: u.Query().Get("ticket")}
}

// local rewrites a link's scheme and host (ATRIUM_PUBLIC_URL, which does not
// resolve here) to the test server's, keeping path and query.
func local(t *testing.T, s *atriumtest.Server, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	base, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	u.Scheme, u.Host = base.Scheme, base.Host
	return u.String()
}

func (f fixture) status(t *testing.T, userID string) string {
	t.Helper()
	var out struct{ User struct{ Status string } }
	f.op.MustDo(t, userStatus, map[string]any{"id": userID}, &out)
	return out.User.Status
}

// page is a fetched web page.
type page struct {
	status int
	header http.Header
	body   string
}

func fetch(t *testing.T, s *atriumtest.Server, req *http.Request) page {
	t.Helper()
	res, err := s.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return page{status: res.StatusCode, header: res.Header, body: string(b)}
}

func get(t *testing.T, s *atriumtest.Server, link string) page {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, link, nil)
	if err != nil {
		t.Fatal(err)
	}
	return fetch(t, s, req)
}

// submit posts the invitation form as a browser would.
func submit(t *testing.T, s *atriumtest.Server, form url.Values) page {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/invitation", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return fetch(t, s, req)
}

func (p page) want(t *testing.T, parts ...string) {
	t.Helper()
	for _, part := range parts {
		if !strings.Contains(p.body, part) {
			t.Fatalf("page (%d) lacks %q:\n%s", p.status, part, p.body)
		}
	}
}

func (p page) wantNot(t *testing.T, parts ...string) {
	t.Helper()
	for _, part := range parts {
		if strings.Contains(p.body, part) {
			t.Fatalf("page (%d) contains %q:\n%s", p.status, part, p.body)
		}
	}
}
