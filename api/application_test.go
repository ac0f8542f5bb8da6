package api_test

import (
	"net/http"
	"reflect"
	"slices"
	"testing"
	"time"

	"atrium/atriumtest"
)

const appFields = `id name clientId description loginRedirectUri loginWithEmailEnabled
	allowedCallbackUrls allowedCORSOriginsUrls shouldSendInviteEmail createdAt updatedAt`

type appView struct {
	ID, Name, ClientID, Description string
	LoginRedirectURI                *string `json:"loginRedirectUri"`
	LoginWithEmailEnabled           bool
	AllowedCallbackUrls             []string
	AllowedCORSOriginsUrls          []string `json:"allowedCORSOriginsUrls"`
	ShouldSendInviteEmail           bool
	CreatedAt, UpdatedAt            time.Time
}

const (
	createAppMutation = `mutation($in: CreateApplicationInput!) { createApplication(input: $in) { application { ` + appFields + ` } } }`
	updateAppMutation = `mutation($in: UpdateApplicationInput!) { updateApplication(input: $in) { application { ` + appFields + ` } } }`
	deleteAppMutation = `mutation($id: ID!) { deleteApplication(input: {id: $id}) { deletedApplicationId } }`
	getAppQuery       = `query($id: ID!) { application(id: $id) { ` + appFields + ` } }`
)

func createApp(t *testing.T, c *atriumtest.Client, in map[string]any) appView {
	t.Helper()
	var out struct{ CreateApplication struct{ Application appView } }
	c.MustDo(t, createAppMutation, map[string]any{"in": in}, &out)
	return out.CreateApplication.Application
}

func getApp(t *testing.T, c *atriumtest.Client, id string) appView {
	t.Helper()
	var out struct{ Application appView }
	c.MustDo(t, getAppQuery, map[string]any{"id": id}, &out)
	return out.Application
}

func listApplications(t *testing.T, c *atriumtest.Client) []appView {
	t.Helper()
	var out struct{ Applications []appView }
	c.MustDo(t, `{ applications { `+appFields+` } }`, nil, &out)
	return out.Applications
}

func TestApplicationCreate(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	op := s.Operator(s.Sandbox)

	start := time.Now().Add(-time.Second)
	a := createApp(t, op, map[string]any{"name": "  Minimal  ", "allowedCallbackUrls": []string{}})
	if a.ID == "" || a.Name != "Minimal" || a.ClientID == "" || a.Description != "" || a.LoginRedirectURI != nil ||
		!a.LoginWithEmailEnabled || a.ShouldSendInviteEmail || a.AllowedCallbackUrls == nil || len(a.AllowedCallbackUrls) != 0 ||
		a.AllowedCORSOriginsUrls == nil || len(a.AllowedCORSOriginsUrls) != 0 || a.CreatedAt.Before(start) || !a.UpdatedAt.Equal(a.CreatedAt) {
		t.Fatalf("minimal application: %+v", a)
	}
	full := createApp(t, op, map[string]any{
		"name": "Full", "description": "Patient portal", "loginRedirectUri": "https://portal.example.org/login",
		"loginWithEmailEnabled": false, "shouldSendInviteEmail": true,
		"allowedCallbackUrls":    []string{"https://portal.example.org/cb", "http://localhost:3000/cb"},
		"allowedCORSOriginsUrls": []string{"https://portal.example.org", "http://localhost:3000"},
	})
	if full.Description != "Patient portal" || full.LoginRedirectURI == nil || *full.LoginRedirectURI != "https://portal.example.org/login" ||
		full.LoginWithEmailEnabled || !full.ShouldSendInviteEmail ||
		!slices.Equal(full.AllowedCallbackUrls, []string{"https://portal.example.org/cb", "http://localhost:3000/cb"}) ||
		!slices.Equal(full.AllowedCORSOriginsUrls, []string{"https://portal.example.org", "http://localhost:3000"}) {
		t.Fatalf("full application: %+v", full)
	}
	if got := getApp(t, op, full.ID); !reflect.DeepEqual(got, full) {
		t.Fatalf("application(id) %+v, created %+v", got, full)
	}

	// clientId: generated, distinct, not the id.
	clientIDs := map[string]bool{a.ClientID: true, full.ClientID: true}
	for _, name := range []string{"Charlie", "Bravo", "Delta"} {
		c := createApp(t, op, map[string]any{"name": name, "allowedCallbackUrls": []string{}})
		if c.ClientID == "" || c.ClientID == c.ID || len(c.ClientID) < 16 || clientIDs[c.ClientID] {
			t.Fatalf("clientId %q of %s (id %s, seen %v)", c.ClientID, name, c.ID, clientIDs)
		}
		clientIDs[c.ClientID] = true
	}
	var names []string
	for _, a := range listApplications(t, op) {
		names = append(names, a.Name)
	}
	if !slices.Equal(names, []string{"Bravo", "Charlie", "Delta", "Full", "Minimal"}) {
		t.Fatalf("applications (by name): %v", names)
	}
}

func TestApplicationCreateRejects(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	op := s.Operator(s.Sandbox)
	app := func(extra map[string]any) map[string]any {
		in := map[string]any{"name": "App", "allowedCallbackUrls": []string{"https://ok.example.org/cb"}}
		for k, v := range extra {
			in[k] = v
		}
		return map[string]any{"in": in}
	}
	for _, tc := range []struct {
		name, code, field string
		vars              map[string]any
	}{
		{"no name", "GRAPHQL_VALIDATION_FAILED", "", map[string]any{"in": map[string]any{"allowedCallbackUrls": []string{}}}},
		{"no allowedCallbackUrls", "GRAPHQL_VALIDATION_FAILED", "", map[string]any{"in": map[string]any{"name": "App"}}},
		{"null allowedCallbackUrls", "GRAPHQL_VALIDATION_FAILED", "", map[string]any{"in": map[string]any{"name": "App", "allowedCallbackUrls": nil}}},
		{"empty name", "BAD_USER_INPUT", "input.name", app(map[string]any{"name": "  "})},
		{"callback not a URL", "BAD_USER_INPUT", "input.allowedCallbackUrls[0]", app(map[string]any{"allowedCallbackUrls": []string{"not a url"}})},
		{"callback relative", "BAD_USER_INPUT", "input.allowedCallbackUrls[0]", app(map[string]any{"allowedCallbackUrls": []string{"/callback"}})},
		{"callback ftp", "BAD_USER_INPUT", "input.allowedCallbackUrls[0]", app(map[string]any{"allowedCallbackUrls": []string{"ftp://files.example.org/cb"}})},
		{"callback with credentials", "BAD_USER_INPUT", "input.allowedCallbackUrls[0]", app(map[string]any{"allowedCallbackUrls": []string{"https://u:p@example.org/cb"}})},
		{"second callback bad", "BAD_USER_INPUT", "input.allowedCallbackUrls[1]", app(map[string]any{"allowedCallbackUrls": []string{"https://ok.example.org/cb", "javascript:alert(1)"}})},
		{"origin with a path", "BAD_USER_INPUT", "input.allowedCORSOriginsUrls[0]", app(map[string]any{"allowedCORSOriginsUrls": []string{"https://portal.example.org/app"}})},
		{"origin with a query", "BAD_USER_INPUT", "input.allowedCORSOriginsUrls[0]", app(map[string]any{"allowedCORSOriginsUrls": []string{"https://portal.example.org?x=1"}})},
		{"origin without scheme", "BAD_USER_INPUT", "input.allowedCORSOriginsUrls[0]", app(map[string]any{"allowedCORSOriginsUrls": []string{"portal.example.org"}})},
		{"origin wildcard", "BAD_USER_INPUT", "input.allowedCORSOriginsUrls[0]", app(map[string]any{"allowedCORSOriginsUrls": []string{"*"}})},
		{"second origin with a path", "BAD_USER_INPUT", "input.allowedCORSOriginsUrls[1]", app(map[string]any{"allowedCORSOriginsUrls": []string{"https://ok.example.org", "https://portal.example.org/app"}})},
		{"bad loginRedirectUri", "BAD_USER_INPUT", "input.loginRedirectUri", app(map[string]any{"loginRedirectUri": "portal/login"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			op.Fails(t, tc.code, tc.field, createAppMutation, tc.vars)
		})
	}
	if apps := listApplications(t, op); len(apps) != 0 {
		t.Fatalf("refused creations left applications: %+v", apps)
	}
}

func TestApplicationUpdate(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	op := s.Operator(s.Sandbox)
	a := createApp(t, op, map[string]any{
		"name": "Portal", "description": "First", "loginRedirectUri": "https://portal.example.org/login",
		"allowedCallbackUrls": []string{"https://portal.example.org/cb"}, "allowedCORSOriginsUrls": []string{"https://portal.example.org"},
	})
	update := func(in map[string]any) appView {
		t.Helper()
		in["id"] = a.ID
		var out struct{ UpdateApplication struct{ Application appView } }
		op.MustDo(t, updateAppMutation, map[string]any{"in": in}, &out)
		return out.UpdateApplication.Application
	}
	same := func(t *testing.T, got, want appView) {
		t.Helper()
		got.UpdatedAt, want.UpdatedAt = time.Time{}, time.Time{}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got  %+v\nwant %+v", got, want)
		}
	}

	// Only the name: every other field stays.
	b := update(map[string]any{"name": "Renamed"})
	want := a
	want.Name = "Renamed"
	same(t, b, want)
	if b.UpdatedAt.Before(a.UpdatedAt) || !b.CreatedAt.Equal(a.CreatedAt) {
		t.Fatalf("timestamps: %v/%v after %v/%v", b.CreatedAt, b.UpdatedAt, a.CreatedAt, a.UpdatedAt)
	}
	// Flags, description and lists; lists replace.
	c := update(map[string]any{"description": "Second", "loginWithEmailEnabled": false, "shouldSendInviteEmail": true,
		"allowedCallbackUrls": []string{"https://new.example.org/cb"}, "allowedCORSOriginsUrls": []string{}})
	want.Description, want.LoginWithEmailEnabled, want.ShouldSendInviteEmail = "Second", false, true
	want.AllowedCallbackUrls, want.AllowedCORSOriginsUrls = []string{"https://new.example.org/cb"}, []string{}
	same(t, c, want)
	// An empty loginRedirectUri removes it; a null list leaves it.
	d := update(map[string]any{"loginRedirectUri": "", "allowedCallbackUrls": nil})
	want.LoginRedirectURI = nil
	same(t, d, want)
	same(t, getApp(t, op, a.ID), want)

	// Refused updates change nothing.
	for _, tc := range []struct {
		name, code, field string
		in                map[string]any
	}{
		{"bad callback", "BAD_USER_INPUT", "input.allowedCallbackUrls[0]", map[string]any{"name": "Never", "allowedCallbackUrls": []string{"nope"}}},
		{"origin with a path", "BAD_USER_INPUT", "input.allowedCORSOriginsUrls[0]", map[string]any{"name": "Never", "allowedCORSOriginsUrls": []string{"https://x.example.org/p"}}},
		{"empty name", "BAD_USER_INPUT", "input.name", map[string]any{"name": ""}},
		{"bad loginRedirectUri", "BAD_USER_INPUT", "input.loginRedirectUri", map[string]any{"loginRedirectUri": "login"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.in["id"] = a.ID
			op.Fails(t, tc.code, tc.field, updateAppMutation, map[string]any{"in": tc.in})
			same(t, getApp(t, op, a.ID), want)
		})
	}
	op.Fails(t, "NOT_FOUND", "input.id", updateAppMutation, map[string]any{"in": map[string]any{"id": "no-such-app", "name": "x"}})
}

func TestApplicationDelete(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	op := s.Operator(s.Sandbox)
	a := createApp(t, op, map[string]any{"name": "Doomed", "allowedCallbackUrls": []string{}})
	keep := createApp(t, op, map[string]any{"name": "Kept", "allowedCallbackUrls": []string{}})
	var out struct {
		DeleteApplication struct{ DeletedApplicationID string }
	}
	op.MustDo(t, deleteAppMutation, map[string]any{"id": a.ID}, &out)
	if out.DeleteApplication.DeletedApplicationID != a.ID {
		t.Fatalf("deleteApplication: %+v", out)
	}
	op.Fails(t, "NOT_FOUND", "id", getAppQuery, map[string]any{"id": a.ID})
	op.Fails(t, "NOT_FOUND", "input.id", deleteAppMutation, map[string]any{"id": a.ID})
	op.Fails(t, "NOT_FOUND", "input.id", updateAppMutation, map[string]any{"in": map[string]any{"id": a.ID, "name": "Back"}})
	// Nobody signs in through it any more.
	s.Client("", "").Fails(t, "NOT_FOUND", "input.applicationId", signInMutation, map[string]any{"a": a.ID, "e": "x@example.com", "p": testPassword})
	if apps := listApplications(t, op); len(apps) != 1 || apps[0].ID != keep.ID {
		t.Fatalf("applications after delete: %+v", apps)
	}
}

// Another project's application is not found, and stays as it was.
func TestApplicationOfAnotherProject(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	op := s.Operator(s.Sandbox)
	other := s.Operator(s.CreateProject(t, "Other"))
	theirs := createApp(t, other, map[string]any{"name": "Theirs", "allowedCallbackUrls": []string{}, "allowedCORSOriginsUrls": []string{"https://theirs.example.org"}})
	createApp(t, op, map[string]any{"name": "Ours", "allowedCallbackUrls": []string{}})

	op.Fails(t, "NOT_FOUND", "id", getAppQuery, map[string]any{"id": theirs.ID})
	op.Fails(t, "NOT_FOUND", "input.id", updateAppMutation, map[string]any{"in": map[string]any{"id": theirs.ID, "name": "Hijacked", "allowedCORSOriginsUrls": []string{"https://evil.example.org"}}})
	op.Fails(t, "NOT_FOUND", "input.id", deleteAppMutation, map[string]any{"id": theirs.ID})
	if apps := listApplications(t, op); len(apps) != 1 || apps[0].Name != "Ours" {
		t.Fatalf("our applications: %+v", apps)
	}
	if got := getApp(t, other, theirs.ID); !reflect.DeepEqual(got, theirs) {
		t.Fatalf("their application changed: %+v, was %+v", got, theirs)
	}
}

// corsPreflight sends a CORS preflight for a POST to /graphql from origin and
// returns the Access-Control-Allow-Origin it gets.
func corsPreflight(t *testing.T, s *atriumtest.Server, origin string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodOptions, s.URL+"/graphql", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", http.MethodPost)
	req.Header.Set("Access-Control-Request-Headers", "authorization,content-type,x-oystehr-project-id")
	res, err := s.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode >= 300 {
		t.Fatalf("preflight from %s: status %d", origin, res.StatusCode)
	}
	return res.Header.Get("Access-Control-Allow-Origin")
}

// An application's CORS origins are allowed as soon as it is saved, and no
// longer once they are removed.
func TestApplicationCORSOrigins(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	op := s.Operator(s.Sandbox)
	const portal, other = "https://portal.example.org", "https://other.example.org"
	allowed := func(origin string) bool {
		t.Helper()
		got := corsPreflight(t, s, origin)
		if got != "" && got != origin {
			t.Fatalf("preflight from %s allowed %q", origin, got)
		}
		return got == origin
	}
	if !allowed("https://app.example.com") {
		t.Fatal("the configured origin is not allowed")
	}
	if allowed(portal) || allowed(other) {
		t.Fatal("an origin no application names is allowed")
	}

	a := createApp(t, op, map[string]any{"name": "Portal", "allowedCallbackUrls": []string{}, "allowedCORSOriginsUrls": []string{portal}})
	if !allowed(portal) {
		t.Fatal("the origin of a new application is not allowed")
	}
	if allowed(other) || allowed("https://portal.example.org:8443") || allowed("http://portal.example.org") {
		t.Fatal("an origin close to the application's is allowed")
	}
	// An actual request from the origin gets the header too.
	req, err := http.NewRequest(http.MethodPost, s.URL+"/graphql", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", portal)
	req.Header.Set("Content-Type", "application/json")
	res, err := s.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := res.Header.Get("Access-Control-Allow-Origin"); got != portal {
		t.Fatalf("POST from %s: Access-Control-Allow-Origin %q", portal, got)
	}

	op.MustDo(t, updateAppMutation, map[string]any{"in": map[string]any{"id": a.ID, "allowedCORSOriginsUrls": []string{other}}}, nil)
	if allowed(portal) || !allowed(other) {
		t.Fatalf("after replacing the origins: portal %v, other %v", allowed(portal), allowed(other))
	}
	op.MustDo(t, deleteAppMutation, map[string]any{"id": a.ID}, nil)
	if allowed(other) {
		t.Fatal("the origin of a deleted application is still allowed")
	}

	// Origins are stored as browsers send them.
	n := createApp(t, op, map[string]any{"name": "Spelled", "allowedCallbackUrls": []string{}, "allowedCORSOriginsUrls": []string{"HTTPS://Portal2.Example.ORG/"}})
	if !slices.Equal(n.AllowedCORSOriginsUrls, []string{"https://portal2.example.org"}) || !allowed("https://portal2.example.org") {
		t.Fatalf("origin spelled differently: stored %q, allowed %v", n.AllowedCORSOriginsUrls, allowed("https://portal2.example.org"))
	}
	t.Run("default port", func(t *testing.T) {
		p := createApp(t, op, map[string]any{"name": "Port", "allowedCallbackUrls": []string{}, "allowedCORSOriginsUrls": []string{"https://portal3.example.org:443"}})
		if !allowed("https://portal3.example.org") {
			t.Fatalf("BUG: an origin saved with its default port (%q) never matches: browsers send https://portal3.example.org; "+
				"iam/url.go NormalOrigin keeps \":443\" (and \":80\" for http); drop the scheme's default port", p.AllowedCORSOriginsUrls)
		}
	})
}
