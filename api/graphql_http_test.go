package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"atrium/api"
	"atrium/atriumtest"
)

// Tests of GraphQL over HTTP (https://graphql.github.io/graphql-over-http/):
// status codes and the "data" entry under both response media types, what
// an undecodable request gets back, introspection turned off, and the
// documented limits pinned at their exact edges.

// gqlAnswer is one raw answer of /graphql.
type gqlAnswer struct {
	status int
	media  string
	raw    string
	body   map[string]json.RawMessage
	errors []atriumtest.GraphQLError
}

// hasData reports whether the answer has a "data" entry (null included).
func (a gqlAnswer) hasData() bool { _, ok := a.body["data"]; return ok }

// code is the extensions.code of the first error.
func (a gqlAnswer) code() string {
	if len(a.errors) == 0 {
		return ""
	}
	return a.errors[0].Extensions.Code
}

// postGraphQL posts body (sent as is) with contentType and accept (none
// when empty), as the operator in the sandbox.
func postGraphQL(t *testing.T, s *atriumtest.Server, contentType, accept, body string) gqlAnswer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/graphql", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	req.Header.Set("Authorization", "Bearer "+atriumtest.AdminSecret)
	req.Header.Set("X-Oystehr-Project-Id", s.Sandbox)
	return answer(t, s, req)
}

func answer(t *testing.T, s *atriumtest.Server, req *http.Request) gqlAnswer {
	t.Helper()
	res, raw := do(t, s.Server.Client(), req)
	a := gqlAnswer{status: res.StatusCode, media: res.Header.Get("Content-Type"), raw: raw}
	if err := json.Unmarshal([]byte(raw), &a.body); err != nil {
		t.Fatalf("answer %d is not JSON: %.300s", res.StatusCode, raw)
	}
	if e, ok := a.body["errors"]; ok {
		if err := json.Unmarshal(e, &a.errors); err != nil {
			t.Fatalf("errors entry: %v: %s", err, e)
		}
	}
	return a
}

// query is the JSON body of a GraphQL request.
func query(q string, vars map[string]any) string {
	b, _ := json.Marshal(map[string]any{"query": q, "variables": vars})
	return string(b)
}

// Parse, validation and variable-coercion failures answer 200 under
// application/json (also when no Accept is sent) and 400 without a "data"
// entry under application/graphql-response+json; field errors answer 200
// with data under both.
func TestRequestErrorStatusByMediaType(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	failures := []struct{ name, body, code string }{
		{"parse", query("{ project { id }", nil), "GRAPHQL_PARSE_FAILED"},
		{"validation", query("{ project { nope } }", nil), "GRAPHQL_VALIDATION_FAILED"},
		{"variable coercion", query("query($n: Int) { users(first: $n) { totalCount } }", map[string]any{"n": "ten"}), "GRAPHQL_VALIDATION_FAILED"},
		{"missing variable", query("query($id: ID!) { role(id: $id) { id } }", nil), "GRAPHQL_VALIDATION_FAILED"},
		{"unknown operation", `{"query":"query A { project { id } }","operationName":"B"}`, "GRAPHQL_VALIDATION_FAILED"},
	}
	for _, f := range failures {
		for _, accept := range []string{"", "application/json", "*/*", "application/graphql-response+json", "application/graphql-response+json, application/json;q=0.9"} {
			a := postGraphQL(t, s, "application/json", accept, f.body)
			wantStatus, wantMedia := http.StatusOK, "application/json"
			if strings.HasPrefix(accept, "application/graphql-response+json") {
				wantStatus, wantMedia = http.StatusBadRequest, "application/graphql-response+json"
			}
			if a.status != wantStatus || !strings.HasPrefix(a.media, wantMedia) {
				t.Errorf("%s, Accept %q: %d %s, want %d %s", f.name, accept, a.status, a.media, wantStatus, wantMedia)
			}
			if a.hasData() {
				t.Errorf("%s, Accept %q: a request error carries a data entry: %s", f.name, accept, a.raw)
			}
			if a.code() != f.code {
				t.Errorf("%s, Accept %q: code %q, want %s: %s", f.name, accept, a.code(), f.code, a.raw)
			}
		}
	}
	for _, accept := range []string{"application/json", "application/graphql-response+json"} {
		ok := postGraphQL(t, s, "application/json", accept, query("{ project { id } }", nil))
		if ok.status != http.StatusOK || !ok.hasData() || len(ok.errors) != 0 || !strings.HasPrefix(ok.media, accept) {
			t.Errorf("Accept %s: a good query answered %d %s %s", accept, ok.status, ok.media, ok.raw)
		}
		field := postGraphQL(t, s, "application/json", accept, query(`{ role(id: "nope") { id } }`, nil))
		if field.status != http.StatusOK || !field.hasData() || field.code() != "NOT_FOUND" {
			t.Errorf("Accept %s: a field error answered %d %s", accept, field.status, field.raw)
		}
	}
}

// A body that is not a GraphQL request gets a fixed, coded message: none of
// what was sent (here a password) and none of the server's Go types.
func TestUndecodableRequestIsNotEchoed(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	const secret = "Secret-Password-4d1f0c"
	bodies := []string{
		`{"query":"mutation($p: String!) { signIn(input: {applicationId: \"a\", email: \"e@x.org\", password: $p}) { accessToken } }","variables":{"password":"` + secret + `"`,
		`{"query": 42, "variables": {"password": "` + secret + `"}}`,
		`{"query": "{ project { id } }", "variables": ["` + secret + `"]}`,
		`{"query": "{ project { id } }"} {"password": "` + secret + `"}`,
		`password=` + secret,
		`{"qeury": "{ project { id } }", "variables": {"password": "` + secret + `"}}`,
	}
	for _, body := range bodies {
		for _, accept := range []string{"application/json", "application/graphql-response+json"} {
			a := postGraphQL(t, s, "application/json", accept, body)
			if a.status != http.StatusBadRequest || a.code() != "BAD_USER_INPUT" || a.hasData() {
				t.Errorf("body %.40q: %d %s, want 400 BAD_USER_INPUT without data", body, a.status, a.raw)
			}
			for _, leak := range []string{secret, "RawParams", "graphql.", "body:", "json:"} {
				if strings.Contains(a.raw, leak) {
					t.Errorf("body %.40q: the answer contains %q: %s", body, leak, a.raw)
				}
			}
		}
	}
	// A body of another type is refused the same way, with 415.
	a := postGraphQL(t, s, "text/plain", "", `{"query":"{ project { id } }"}`)
	if a.status != http.StatusUnsupportedMediaType || a.code() != "BAD_USER_INPUT" || !strings.Contains(a.errors[0].Message, "application/json") {
		t.Errorf("text/plain body: %d %s", a.status, a.raw)
	}
	// So is a GET whose variables are not JSON.
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/graphql?query="+url.QueryEscape("{__typename}")+"&variables="+url.QueryEscape(`{"password":"`+secret), nil)
	if a := answer(t, s, req); a.status != http.StatusBadRequest || a.code() != "BAD_USER_INPUT" || strings.Contains(a.raw, secret) {
		t.Errorf("GET with broken variables: %d %s", a.status, a.raw)
	}
}

// A mutation over GET is refused with 405 and Allow: POST, and does not run.
func TestMutationOverGETIs405(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/graphql?query="+url.QueryEscape(`mutation { createRole(input: {name: "ViaGet"}) { role { id } } }`), nil)
	req.Header.Set("Authorization", "Bearer "+atriumtest.AdminSecret)
	req.Header.Set("X-Oystehr-Project-Id", s.Sandbox)
	res, raw := do(t, s.Server.Client(), req)
	if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "POST" || !strings.Contains(raw, "BAD_USER_INPUT") {
		t.Fatalf("mutation over GET: %d Allow %q %s", res.StatusCode, res.Header.Get("Allow"), raw)
	}
	if rs := listRoles(t, s.Operator(s.Sandbox)); len(rs) != 0 {
		t.Fatalf("a mutation over GET created %q", roleNames(rs))
	}
}

// With ATRIUM_INTROSPECTION=false, __schema and __type (also inside a
// fragment) are refused with a coded error before anything runs, and
// nothing is logged as an error; __typename still works.
func TestIntrospectionOffIsACodedRefusal(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t, atriumtest.WithoutIntrospection())
	c := s.Client("", "")
	for _, q := range []string{
		`{ __schema { queryType { name } } }`,
		`{ __type(name: "Query") { name } }`,
		`query { ...F } fragment F on Query { __schema { types { name } } }`,
	} {
		r := c.Fails(t, "BAD_USER_INPUT", "", q, nil)
		if !strings.Contains(r.Errors[0].Message, "introspection is turned off") {
			t.Errorf("%s: message %q", q, r.Errors[0].Message)
		}
		if len(r.Data) != 0 {
			t.Errorf("%s: data %s", q, r.Data)
		}
	}
	var out struct {
		Typename string `json:"__typename"`
	}
	c.MustDo(t, `{ __typename }`, nil, &out)
	if out.Typename != "Query" {
		t.Errorf("__typename = %q", out.Typename)
	}
	if logs := s.Log.String(); strings.Contains(logs, `"level":"ERROR"`) {
		t.Errorf("a refused introspection logged an error:\n%s", logs)
	}
}

// aliases repeats field under n aliases named prefix0, prefix1, ….
func aliases(prefix string, n int, field string) string {
	var q strings.Builder
	for i := range n {
		fmt.Fprintf(&q, " %s%d: %s", prefix, i, field)
	}
	return q.String()
}

// The documented limits, pinned at their edges with the documented
// numbers: complexity 1000, and a page costs by its size; the body limit of
// 1 MiB is pinned in TestBodyLimitEdges.
func TestComplexityLimitEdges(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	c := s.Operator(s.Sandbox)
	passes := func(what, q string) {
		t.Helper()
		if r := c.Do(t, q, nil); len(r.Errors) != 0 {
			t.Errorf("%s: %+v", what, r.Errors)
		}
	}
	fails := func(what, q string, cost int) {
		t.Helper()
		r := c.Fails(t, "BAD_USER_INPUT", "", q, nil)
		if want := fmt.Sprintf("complexity %d, which exceeds the limit of 1000", cost); !strings.Contains(r.Errors[0].Message, want) {
			t.Errorf("%s: message %q, want one with %q", what, r.Errors[0].Message, want)
		}
	}
	// project with six scalars costs 7, __typename 1: 142 × 7 + 6 = 1000.
	const project = "project { id name description signupEnabled sandbox fhirVersion }"
	passes("complexity 1000", "{"+aliases("p", 142, project)+strings.Repeat(" __typename", 6)+" }")
	// Every field costs at least 1, so one field more is also over the
	// document limit of 1000 fields, which speaks first, before validation.
	over := c.Fails(t, "BAD_USER_INPUT", "", "{"+aliases("p", 142, project)+strings.Repeat(" __typename", 7)+" }", nil)
	if msg := over.Errors[0].Message; !strings.Contains(msg, "more than 1000 fields") {
		t.Errorf("complexity 1001 with fixed costs: message %q, want the document limit of 1000 fields", msg)
	}

	// A page costs 1 plus its selection once per 10 items: 31 at first: 100.
	const page = "users(first: 100) { edges { node { id } } }"
	passes("32 pages of 100 and 4 projects (1000)", "{"+aliases("u", 32, page)+aliases("p", 4, "project { id }")+" }")
	fails("32 pages of 100, 4 projects and __typename (1001)", "{"+aliases("u", 32, page)+aliases("p", 4, "project { id }")+" __typename }", 1001)
	fails("100 pages of 100", "{"+aliases("u", 100, page)+" }", 3100)
	passes("100 pages of 5", "{"+aliases("u", 100, "users(first: 5) { edges { node { id } } }")+" }")
	// The default page (25) costs as three tens.
	passes("100 default pages (1000)", "{"+aliases("u", 100, "users { edges { node { id } } }")+" }")
	fails("101 default pages", "{"+aliases("u", 101, "users { edges { node { id } } }")+" }", 1010)
	for _, list := range []string{"developers", "m2mClients", "auditEvents"} {
		fails("100 pages of 100 "+list, "{"+aliases("l", 100, list+"(first: 100) { edges { node { id } } }")+" }", 3100)
	}
	// A first out of range is refused by the resolver, naming the field.
	c.Fails(t, "BAD_USER_INPUT", "first", `{ users(first: 1000) { edges { node { id name email profile status } } } }`, nil)
}

// The body limit is 1 MiB: a body of exactly 1,048,576 bytes is read, one
// byte more is refused with 413, with or without a declared length.
func TestBodyLimitEdges(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	body := func(size int) string {
		head, tail := `{"query":"{ project { id } }","variables":{"pad":"`, `"}}`
		return head + strings.Repeat("x", size-len(head)-len(tail)) + tail
	}
	for _, chunked := range []bool{false, true} {
		for size, want := range map[int]int{1048576: http.StatusOK, 1048577: http.StatusRequestEntityTooLarge} {
			b := body(size)
			if len(b) != size {
				t.Fatalf("built %d bytes, want %d", len(b), size)
			}
			req := chunkedPost(t, s, b)
			if !chunked {
				req.Body, req.ContentLength = io.NopCloser(strings.NewReader(b)), int64(size)
			}
			res, raw := do(t, s.Server.Client(), req)
			if res.StatusCode != want {
				t.Errorf("body of %d bytes (chunked %v): %d %.200s, want %d", size, chunked, res.StatusCode, raw, want)
			}
			if want == http.StatusOK && !strings.Contains(raw, s.Sandbox) {
				t.Errorf("body of %d bytes: %.200s", size, raw)
			}
		}
	}
}

// The depth limit is 10. Atrium's schema nests at most 5 levels (see
// TestDepthLimitAllowsDeepestQuery), so no request can reach the edge; the
// edge itself, 10 passing and 11 refused, is pinned in graph's
// TestDepthLimit, and this pins the number the handler gives it.
func TestDepthLimitIsTen(t *testing.T) {
	t.Parallel()
	if api.DepthLimit != 10 {
		t.Fatalf("the depth limit is %d; the README documents 10", api.DepthLimit)
	}
}
