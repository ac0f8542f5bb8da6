package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"atrium/api"
	"atrium/atriumtest"
	"atrium/auth"
	"atrium/config"
)

// get performs a GET and returns the response with its body read.
func get(t *testing.T, s *atriumtest.Server, path string, headers map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return do(t, s.Server.Client(), req)
}

func do(t *testing.T, c *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	if res, _ := get(t, s, "/healthz", nil); res.StatusCode != http.StatusOK {
		t.Errorf("/healthz = %d", res.StatusCode)
	}
	if res, _ := get(t, s, "/readyz", nil); res.StatusCode != http.StatusOK {
		t.Errorf("/readyz = %d", res.StatusCode)
	}

	// With the store gone: not ready, but alive. (The cleanup's second Close
	// is harmless: disconnecting a disconnected client only returns an
	// error, which Close ignores.)
	s.DB.Close(context.Background())
	if res, body := get(t, s, "/readyz", nil); res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz with the store closed = %d %s", res.StatusCode, body)
	}
	if res, _ := get(t, s, "/healthz", nil); res.StatusCode != http.StatusOK {
		t.Errorf("/healthz with the store closed = %d", res.StatusCode)
	}

	// And a GraphQL operation fails as an internal error that reveals nothing.
	r := s.Operator(s.Sandbox).Do(t, projectIDQ, nil)
	expectError(t, r, "INTERNAL_SERVER_ERROR")
	if msg := r.Errors[0].Message; msg != "internal server error" {
		t.Errorf("internal error message %q reveals detail", msg)
	}
	if !strings.Contains(s.Log.String(), "internal error") {
		t.Errorf("the internal error was not logged: %s", s.Log.String())
	}
}

func TestGraphiQLPage(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	res, body := get(t, s, "/", nil)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if !strings.Contains(body, "GraphiQL") { // web/graphiql_test.go drives the page itself
		t.Errorf("GET / is not the GraphiQL page:\n%s", body)
	}
	if res, _ := get(t, s, "/nope", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /nope = %d, want 404", res.StatusCode)
	}
}

func TestGraphQLOverGET(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	headers := map[string]string{"Authorization": "Bearer " + atriumtest.AdminSecret, "X-Oystehr-Project-Id": s.Sandbox}
	req, err := http.NewRequest(http.MethodGet, s.URL+"/graphql?query="+url.QueryEscape("{project{id}}"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, r := send(t, s, req)
	if res.StatusCode != http.StatusOK || len(r.Errors) != 0 || !strings.Contains(string(r.Data), s.Sandbox) {
		t.Fatalf("GET /graphql = %d %+v %s", res.StatusCode, r.Errors, r.Data)
	}
	// GET never runs a mutation.
	req, _ = http.NewRequest(http.MethodGet, s.URL+"/graphql?query="+url.QueryEscape(`mutation{createRole(input:{name:"ViaGet"}){role{id}}}`), nil)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if _, r := send(t, s, req); len(r.Errors) == 0 {
		t.Fatalf("a mutation ran over GET: %s", r.Data)
	}
	if rs := listRoles(t, s.Operator(s.Sandbox)); len(rs) != 0 {
		t.Fatalf("a mutation over GET created %q", roleNames(rs))
	}
}

func preflight(t *testing.T, s *httptest.Server, origin string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodOptions, s.URL+"/graphql", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization,content-type,x-oystehr-project-id,x-zapehr-project-id")
	res, _ := do(t, s.Client(), req)
	return res
}

func TestCORS(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	const origin = "https://app.example.com" // configured by atriumtest

	res := preflight(t, s.Server, origin)
	if res.StatusCode >= 300 || res.Header.Get("Access-Control-Allow-Origin") != origin {
		t.Fatalf("preflight from %s: %d, allow-origin %q", origin, res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
	}
	allowed := strings.ToLower(strings.Join(res.Header.Values("Access-Control-Allow-Headers"), ","))
	for _, h := range []string{"authorization", "content-type", "x-oystehr-project-id", "x-zapehr-project-id"} {
		if !strings.Contains(allowed, h) {
			t.Errorf("preflight does not allow header %s (allowed: %q)", h, allowed)
		}
	}
	if m := res.Header.Get("Access-Control-Allow-Methods"); !strings.Contains(m, "POST") {
		t.Errorf("preflight allows methods %q", m)
	}

	// The actual request: allowed, and the request id is readable by the page.
	_, r := rawPost(t, s, map[string]string{"Origin": origin, "Authorization": "Bearer " + atriumtest.AdminSecret, "X-Oystehr-Project-Id": s.Sandbox}, projectIDQ, nil)
	if len(r.Errors) != 0 {
		t.Fatal(r.Errors)
	}
	res2, _ := rawPost(t, s, map[string]string{"Origin": origin}, `{ __typename }`, nil)
	if res2.Header.Get("Access-Control-Allow-Origin") != origin || !strings.Contains(strings.ToLower(res2.Header.Get("Access-Control-Expose-Headers")), "x-request-id") {
		t.Errorf("cross-origin POST: allow-origin %q, expose %q", res2.Header.Get("Access-Control-Allow-Origin"), res2.Header.Get("Access-Control-Expose-Headers"))
	}

	// Other origins get no grant.
	for _, other := range []string{"https://evil.example.com", "http://app.example.com", "https://app.example.com.evil.com"} {
		if got := preflight(t, s.Server, other).Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("preflight from %s: allow-origin %q", other, got)
		}
		res, _ := rawPost(t, s, map[string]string{"Origin": other}, `{ __typename }`, nil)
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("POST from %s: allow-origin %q", other, got)
		}
	}
}

// newHandler builds the real handler around a test server's service with
// other options (no credential is sent to it).
func newHandler(t *testing.T, s *atriumtest.Server, o api.Options) *httptest.Server {
	t.Helper()
	o.Service = s.Service
	o.Authenticator = &auth.Authenticator{}
	o.Log = slog.New(slog.DiscardHandler)
	o.Ready = s.DB.Ping
	h := httptest.NewServer(api.New(o))
	t.Cleanup(h.Close)
	return h
}

// With ATRIUM_CORS_ORIGINS unset no browser origin is granted access.
func TestCORSNoOriginsConfigured(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	h := newHandler(t, s, api.Options{CORSOrigins: nil})
	if got := preflight(t, h, "https://evil.example.com").Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("preflight with no origins configured: allow-origin %q", got)
	}
}

// Every spelling of an origin that the configuration accepts works from a
// browser, which sends it as scheme://host[:port] in lower case.
func TestCORSConfiguredOriginSpellings(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	for _, configured := range []string{"https://app.example.com/", "HTTPS://App.Example.com"} {
		c, err := config.Load(func(k string) string {
			if k == "ATRIUM_CORS_ORIGINS" {
				return configured
			}
			return ""
		})
		if err != nil {
			t.Fatalf("ATRIUM_CORS_ORIGINS=%q refused: %v (config's tests say it is accepted)", configured, err)
		}
		h := newHandler(t, s, api.Options{CORSOrigins: c.CORSOrigins})
		if got := preflight(t, h, "https://app.example.com").Header.Get("Access-Control-Allow-Origin"); got != "https://app.example.com" {
			t.Errorf("configured %q: preflight from https://app.example.com got allow-origin %q", configured, got)
		}
	}
}

func TestIntrospection(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	const q = `{ __schema { queryType { name } mutationType { name } } }`
	var out struct {
		Schema struct{ QueryType, MutationType struct{ Name string } } `json:"__schema"`
	}
	s.Client("", "").MustDo(t, q, nil, &out) // no credential needed
	if out.Schema.QueryType.Name != "Query" || out.Schema.MutationType.Name != "Mutation" {
		t.Fatalf("introspection: %+v", out)
	}

	// ATRIUM_INTROSPECTION=false turns it off.
	h := newHandler(t, s, api.Options{Introspection: false})
	req, _ := http.NewRequest(http.MethodPost, h.URL+"/graphql", strings.NewReader(`{"query":"`+q+`"}`))
	req.Header.Set("Content-Type", "application/json")
	_, body := do(t, h.Client(), req)
	if !strings.Contains(body, `"errors"`) || strings.Contains(body, `"Query"`) {
		t.Fatalf("introspection with Introspection false: %s", body)
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	big := `{"query":"{ project { id } }","variables":{"pad":"` + strings.Repeat("x", api.MaxBodyBytes) + `"}}`

	// Declared length over the limit.
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql", strings.NewReader(big))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+atriumtest.AdminSecret)
	res, _ := do(t, s.Server.Client(), req)
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("body of %d bytes: status %d, want 413", len(big), res.StatusCode)
	}
	if res.Header.Get("X-Request-Id") == "" {
		t.Error("413 response without X-Request-Id")
	}

	// Just under the limit is fine, both ways.
	ok := `{"query":"{ project { id } }","variables":{"pad":"` + strings.Repeat("x", api.MaxBodyBytes-100) + `"}}`
	if len(ok) > api.MaxBodyBytes {
		t.Fatalf("test body of %d bytes is over the limit", len(ok))
	}
	req, _ = http.NewRequest(http.MethodPost, s.URL+"/graphql", bytes.NewReader([]byte(ok)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+atriumtest.AdminSecret)
	req.Header.Set("X-Oystehr-Project-Id", s.Sandbox)
	for _, req := range []*http.Request{req, chunkedPost(t, s, ok)} {
		res, r := send(t, s, req)
		if res.StatusCode != http.StatusOK || len(r.Errors) != 0 || !strings.Contains(string(r.Data), s.Sandbox) {
			t.Errorf("body of %d bytes (length %d): %d %+v", len(ok), req.ContentLength, res.StatusCode, r.Errors)
		}
	}
}

// chunkedPost is a POST of body as the operator in the sandbox, without a
// declared length.
func chunkedPost(t *testing.T, s *atriumtest.Server, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/graphql", io.MultiReader(strings.NewReader(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+atriumtest.AdminSecret)
	req.Header.Set("X-Oystehr-Project-Id", s.Sandbox)
	return req
}

func TestBodyLimitChunkedIs413(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	big := `{"query":"{ project { id } }","variables":{"pad":"` + strings.Repeat("x", api.MaxBodyBytes) + `"}}`
	res, body := do(t, s.Server.Client(), chunkedPost(t, s, big))
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked body of %d bytes: %d %.200s", len(big), res.StatusCode, body)
	}
}

// The limit is not reachable with today's schema (its deepest selection
// nests 5 levels), so this checks that legitimate deep queries pass; the
// rejection itself is tested in graph/depth_test.go.
func TestDepthLimitAllowsDeepestQuery(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	c := s.Operator(s.Sandbox)
	id := createRole(t, c, "Deep")
	c.MustDo(t, `mutation($id: ID) { updateProject(input: {defaultPatientRoleId: $id}) { project { id } } }`, map[string]any{"id": id}, nil)
	var out struct {
		Project struct {
			DefaultPatientRole struct {
				AccessPolicy struct{ Rule []struct{ Resource []string } }
			}
		}
	}
	c.MustDo(t, `{ project { defaultPatientRole { accessPolicy { rule { resource } } } } }`, nil, &out)
	if rules := out.Project.DefaultPatientRole.AccessPolicy.Rule; len(rules) != 1 || rules[0].Resource[0] != "*" {
		t.Fatalf("deep query: %+v", out)
	}
}

func TestComplexityLimit(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	c := s.Operator(s.Sandbox)
	var q strings.Builder
	q.WriteString("{")
	// 167 aliases of 6 fields cost 1002. Every field costs 1 today, so a
	// document over the complexity limit is also over the document limit
	// of 1000 fields, which refuses it before validation; either refusal
	// must name the limit.
	for i := range api.ComplexityLimit/6 + 1 {
		fmt.Fprintf(&q, " p%d: project { id name description signupEnabled sandbox }", i)
	}
	q.WriteString(" }")
	r := c.Do(t, q.String(), nil)
	if len(r.Errors) == 0 || string(r.Data) != "null" && r.Data != nil {
		t.Fatalf("over-complex query: errors %+v, data %.100s", r.Errors, r.Data)
	}
	if msg := r.Errors[0].Message; !strings.Contains(msg, "complexity") && !strings.Contains(msg, "more than 1000 fields") {
		t.Errorf("message %q names neither the complexity nor the field limit", msg)
	}
}

// Every error code a client sees comes from the closed set documented in
// DESIGN.md, plus gqlgen's own codes for malformed documents.
func TestLimitErrorsUseTheClosedSetOfCodes(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	var q strings.Builder
	q.WriteString("{")
	// 167 aliases of 6 fields cost 1002. Every field costs 1 today, so a
	// document over the complexity limit is also over the document limit
	// of 1000 fields, which refuses it before validation; either refusal
	// must name the limit.
	for i := range api.ComplexityLimit/6 + 1 {
		fmt.Fprintf(&q, " p%d: project { id name description signupEnabled sandbox }", i)
	}
	q.WriteString(" }")
	r := s.Operator(s.Sandbox).Do(t, q.String(), nil)
	switch code := r.Code(); code {
	case "BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED":
	default:
		t.Errorf("complexity limit: code %q", code)
	}
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	seen := map[string]bool{}
	check := func(what string, res *http.Response) {
		t.Helper()
		id := res.Header.Get("X-Request-Id")
		if id == "" {
			t.Errorf("%s: no X-Request-Id", what)
		} else if seen[id] {
			t.Errorf("%s: X-Request-Id %q repeated", what, id)
		}
		seen[id] = true
	}
	for _, path := range []string{"/healthz", "/readyz", "/", "/nope", "/graphql?query=%7B__typename%7D"} {
		res, _ := get(t, s, path, nil)
		check("GET "+path, res)
	}
	res, _ := rawPost(t, s, nil, projectIDQ, nil)
	check("anonymous POST", res)
	res, _ = rawPost(t, s, map[string]string{"Authorization": "Bearer " + atriumtest.AdminSecret, "X-Oystehr-Project-Id": s.Sandbox}, projectIDQ, nil)
	check("POST", res)
	res, _ = rawPost(t, s, nil, "{ nope", nil)
	check("parse error", res)
	check("preflight", preflight(t, s.Server, "https://app.example.com"))

	// A sane id from the caller (or the platform SDK's header) is echoed;
	// anything else is replaced.
	for hdr, want := range map[string]string{"X-Request-Id": "caller-id-12345", "X-Oystehr-Request-Id": "sdk.id_678-90"} {
		res, _ := get(t, s, "/healthz", map[string]string{hdr: want})
		if got := res.Header.Get("X-Request-Id"); got != want {
			t.Errorf("%s %q echoed as %q", hdr, want, got)
		}
	}
	for _, bad := range []string{"short", "has space in it", strings.Repeat("a", 65), "new\u2028line-xxxxxxx"} {
		res, _ := get(t, s, "/healthz", map[string]string{"X-Request-Id": bad})
		if got := res.Header.Get("X-Request-Id"); got == bad || got == "" {
			t.Errorf("X-Request-Id %q: answered %q", bad, got)
		}
	}
}

func TestSecretsNotLogged(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	c := s.Operator(s.Sandbox)
	c.MustDo(t, projectIDQ, nil, nil)
	createRole(t, c, "Logged")
	c.Fails(t, "CONFLICT", "", `mutation { createRole(input: {name: "Logged"}) { role { id } } }`, nil)
	c.Fails(t, "NOT_FOUND", "", `{ role(id: "nope") { id } }`, nil)
	const wrong = "wrong-secret-that-must-not-be-logged"
	s.Client(wrong, s.Sandbox).Fails(t, "UNAUTHENTICATED", "", projectIDQ, nil)
	get(t, s, "/graphql?query="+url.QueryEscape("{project{id}}"), map[string]string{"Authorization": "Bearer " + atriumtest.AdminSecret, "X-Oystehr-Project-Id": s.Sandbox})
	s.DB.Close(context.Background()) // and an internal error
	c.Fails(t, "INTERNAL_SERVER_ERROR", "", projectIDQ, nil)

	logs := s.Log.String()
	if !strings.Contains(logs, `"path":"/graphql"`) {
		t.Fatalf("the requests were not logged: %s", logs)
	}
	for _, secret := range []string{atriumtest.AdminSecret, wrong} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log contains %q:\n%s", secret, logs)
		}
	}
}
