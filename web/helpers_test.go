package web_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"atrium/atriumtest"
	"atrium/client"
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
	acceptMut  = `mutation($t: String!, $p: String!) { acceptInvitation(input: {ticket: $t, password: $p}) { user { id status } } }`
	signInMut  = `mutation($a: ID!, $e: String!, $p: String!) { signIn(input: {applicationId: $a, email: $e, password: $p}) { accessToken user { id } } }`
	userStatus = `query($id: ID!) { user(id: $id) { status } }`
)

func newFixture(t testing.TB, sendMail bool, opts ...atriumtest.Option) fixture {
	t.Helper()
	return newFixtureLogin(t, loginURL, sendMail, opts...)
}

// newFixtureLogin is newFixture with the application's login page as given
// (none when login is empty).
func newFixtureLogin(t testing.TB, login string, sendMail bool, opts ...atriumtest.Option) fixture {
	t.Helper()
	s := atriumtest.NewServer(t, opts...)
	op := s.Operator(s.Sandbox)
	f := fixture{s: s, op: op}
	f.app = f.createApp(t, appName, login, sendMail)
	f.role = atriumtest.CreateRole(t, op, "Staff", atriumtest.Allow("*", "*"))
	return f
}

// createApp creates an application with a login page (none when login is
// empty) and shouldSendInviteEmail as given.
func (f fixture) createApp(t testing.TB, name, login string, sendMail bool) string {
	t.Helper()
	in := client.CreateApplicationInput{Name: name, AllowedCallbackUrls: []string{"https://portal.example.com/callback"}, ShouldSendInviteEmail: &sendMail}
	if login != "" {
		in.LoginRedirectUri = &login
	}
	return atriumtest.CreateApplication(t, f.op, in)
}

// invite invites email to app with the fixture's role, as a Practitioner
// named Snow; edits change the input before it is sent.
func (f fixture) invite(t testing.TB, app, email string, edits ...func(*client.InviteUserInput)) atriumtest.Invitation {
	t.Helper()
	in := client.InviteUserInput{Email: &email, ApplicationId: app, Roles: []string{f.role},
		Resource: &map[string]any{"resourceType": "Practitioner", "name": []any{map[string]any{"family": "Snow"}}}}
	for _, edit := range edits {
		edit(&in)
	}
	return atriumtest.Invite(t, f.op, in)
}

// local rewrites a link's scheme and host (ATRIUM_PUBLIC_URL, which does not
// resolve here) to the test server's, keeping path and query.
func local(t testing.TB, s *atriumtest.Server, link string) string {
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

func (f fixture) status(t testing.TB, userID string) string {
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

// fetch sends req as a browser's first hop: a redirect is the answer, not
// followed.
func fetch(t testing.TB, s *atriumtest.Server, req *http.Request) page {
	t.Helper()
	c := *s.Server.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := c.Do(req)
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

func get(t testing.TB, s *atriumtest.Server, link string) page {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, link, nil)
	if err != nil {
		t.Fatal(err)
	}
	return fetch(t, s, req)
}

// submit posts the invitation form as a browser would.
func submit(t testing.TB, s *atriumtest.Server, form url.Values) page {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/invitation", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return fetch(t, s, req)
}

// wantRedirect checks a 303 See Other to location.
func (p page) wantRedirect(t testing.TB, location string) {
	t.Helper()
	if p.status != http.StatusSeeOther || p.header.Get("Location") != location {
		t.Fatalf("answer %d to %q, want 303 to %q\n%s", p.status, p.header.Get("Location"), location, p.body)
	}
}

func (p page) want(t testing.TB, parts ...string) {
	t.Helper()
	for _, part := range parts {
		if !strings.Contains(p.body, part) {
			t.Fatalf("page (%d) lacks %q:\n%s", p.status, part, p.body)
		}
	}
}

func (p page) wantNot(t testing.TB, parts ...string) {
	t.Helper()
	for _, part := range parts {
		if strings.Contains(p.body, part) {
			t.Fatalf("page (%d) contains %q:\n%s", p.status, part, p.body)
		}
	}
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }
