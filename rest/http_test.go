package rest_test

// What the SDK cannot produce: malformed bodies, wrong verbs, unknown paths,
// missing credentials, another project's ids, retried POSTs; and the API
// description against the routes. (A store that does not answer: see
// api/unavailable_test.go, which cuts it for every transport.)

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"atrium/atriumtest"
)

// call sends one request to /v1 as the operator in the sandbox (unless
// headers say otherwise) and decodes the JSON answer.
func call(t *testing.T, s *atriumtest.Server, method, path, contentType, body string, headers ...string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+"/v1"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+atriumtest.AdminSecret)
	req.Header.Set("X-Oystehr-Project-Id", s.Sandbox)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	res, err := s.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	if len(bytes.TrimSpace(raw)) > 0 {
		if ct := res.Header.Get("Content-Type"); ct != "application/json" {
			t.Fatalf("%s %s: %d with Content-Type %q: %s", method, path, res.StatusCode, ct, raw)
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			var list []any
			if json.Unmarshal(raw, &list) != nil {
				t.Fatalf("%s %s: %d, not JSON: %s", method, path, res.StatusCode, raw)
			}
		}
	}
	return res.StatusCode, res.Header, out
}

// problem checks an error answer: status, code equal to it, the Atrium code
// and words of the message.
func problem(t *testing.T, status int, body map[string]any, wantStatus int, atriumCode string, words ...string) {
	t.Helper()
	if status != wantStatus || body["code"] != float64(wantStatus) || body["atriumCode"] != atriumCode {
		t.Fatalf("got %d %v, want %d with code %d and atriumCode %s", status, body, wantStatus, wantStatus, atriumCode)
	}
	msg, _ := body["message"].(string)
	for _, w := range words {
		if !strings.Contains(msg, w) {
			t.Errorf("message %q lacks %q", msg, w)
		}
	}
}

const jsonType = "application/json"

func TestMalformedBodies(t *testing.T) {
	s := atriumtest.NewServer(t)
	for _, c := range []struct {
		name, contentType, body string
		words                   []string
	}{
		{"not JSON", jsonType, `{oops`, []string{"not valid JSON"}},
		{"cut short", jsonType, `{"name": "x"`, []string{"not valid JSON"}},
		{"JSON sent as text", "text/plain", `{"name": "Staff"}`, []string{"Content-Type: application/json"}},
		{"form-encoded", "application/x-www-form-urlencoded", `name=Staff`, []string{"Content-Type: application/json"}},
		{"an array", jsonType, `[{"name": "Staff"}]`, []string{"JSON object"}},
		{"a string", jsonType, `"Staff"`, []string{"JSON object"}},
		{"wrong type", jsonType, `{"name": 5}`, []string{"name", "a string"}},
		{"wrong type deep", jsonType, `{"name": "x", "accessPolicy": {"rule": 3}}`, []string{"accessPolicy"}},
		{"rule of the wrong shape", jsonType, `{"name": "x", "accessPolicy": {"rule": [{"resource": 5, "action": "*", "effect": "Allow"}]}}`, []string{"resource", "string or an array of strings"}},
		{"unknown field", jsonType, `{"name": "x", "colour": "red"}`, []string{"colour"}},
		{"two objects", jsonType, `{"name": "x"} {"name": "y"}`, []string{"one JSON object"}},
		{"missing name", jsonType, `{}`, []string{"name"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, _, body := call(t, s, http.MethodPost, "/iam/role", c.contentType, c.body)
			problem(t, status, body, http.StatusBadRequest, "BAD_USER_INPUT", c.words...)
		})
	}
	// A body over the 1 MiB limit is 413, coded like every other answer,
	// on a POST (read by the retry memory first) and a PATCH alike.
	big := `{"name": "` + strings.Repeat("x", 1<<20) + `"}`
	for _, method := range []string{http.MethodPost, http.MethodPatch} {
		path := map[string]string{http.MethodPost: "/iam/role", http.MethodPatch: "/project"}[method]
		status, _, body := call(t, s, method, path, jsonType, big)
		problem(t, status, body, http.StatusRequestEntityTooLarge, "BAD_USER_INPUT", "too large")
	}
	// A PATCH with no body at all changes nothing (the SDK sends none when
	// there are no params).
	if status, _, body := call(t, s, http.MethodPatch, "/project", jsonType, ""); status != http.StatusOK || body["id"] != s.Sandbox {
		t.Fatalf("empty PATCH: %d %v", status, body)
	}
	// Fields of PATCH semantics (absent, null or a value) are named too.
	status, _, body := call(t, s, http.MethodPatch, "/project", jsonType, `{"signupEnabled": "yes"}`)
	problem(t, status, body, http.StatusBadRequest, "BAD_USER_INPUT", "signupEnabled", "true or false")
	// Field names in nested input.
	status, _, body = call(t, s, http.MethodPost, "/iam/role", jsonType,
		`{"name": "x", "accessPolicy": {"rule": [{"resource": "*", "action": "Nope", "effect": "Allow"}]}}`)
	problem(t, status, body, http.StatusBadRequest, "BAD_USER_INPUT", "accessPolicy.rule[0].action")
	if body["field"] != "accessPolicy.rule[0].action" {
		t.Errorf("field = %v", body["field"])
	}
}

func TestMissesAndVerbs(t *testing.T) {
	s := atriumtest.NewServer(t)
	status, _, body := call(t, s, http.MethodGet, "/nothing/here", "", "")
	problem(t, status, body, http.StatusNotFound, "NOT_FOUND", "/v1/nothing/here")
	status, _, body = call(t, s, http.MethodGet, "/iam/roles", "", "") // an old typo of the platform's
	problem(t, status, body, http.StatusNotFound, "NOT_FOUND")

	status, h, body := call(t, s, http.MethodPut, "/iam/role", jsonType, `{}`)
	problem(t, status, body, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "PUT")
	if allow := h.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") {
		t.Errorf("Allow = %q", allow)
	}
	status, _, body = call(t, s, http.MethodDelete, "/project", "", "")
	problem(t, status, body, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
	status, _, body = call(t, s, http.MethodGet, "/user/invite", "", "")
	problem(t, status, body, http.StatusNotFound, "NOT_FOUND") // GET /user/{id} with id "invite"
}

func TestCredentialsAndProjects(t *testing.T) {
	s := atriumtest.NewServer(t)
	status, _, body := call(t, s, http.MethodGet, "/project", "", "", "Authorization", "")
	problem(t, status, body, http.StatusUnauthorized, "UNAUTHENTICATED")
	status, _, body = call(t, s, http.MethodGet, "/project", "", "", "Authorization", "Bearer not-a-token")
	problem(t, status, body, http.StatusUnauthorized, "UNAUTHENTICATED")
	// The legacy header alone names the project too.
	status, _, body = call(t, s, http.MethodGet, "/project", "", "", "X-Oystehr-Project-Id", "", "X-Zapehr-Project-Id", s.Sandbox)
	if status != http.StatusOK || body["id"] != s.Sandbox || body["fhirVersion"] != "r4" {
		t.Fatalf("legacy header: %d %v", status, body)
	}
	status, _, body = call(t, s, http.MethodGet, "/project", "", "", "X-Oystehr-Project-Id", "")
	problem(t, status, body, http.StatusBadRequest, "BAD_USER_INPUT", "x-oystehr-project-id")
	// The public version needs nothing.
	if status, _, body := call(t, s, http.MethodGet, "/version", "", "", "Authorization", "", "X-Oystehr-Project-Id", ""); status != http.StatusOK || body["api"] != "project" {
		t.Fatalf("version: %d %v", status, body)
	}

	// Another project's ids are not found, never forbidden.
	var other struct {
		CreateProject struct{ Project struct{ ID string } }
	}
	s.Operator("").MustDo(t, `mutation { createProject(input: {name: "Other", fhirVersion: R4}) { project { id } } }`, nil, &other)
	otherID := other.CreateProject.Project.ID
	status, _, role := call(t, s, http.MethodPost, "/iam/role", jsonType, `{"name": "Theirs"}`, "X-Oystehr-Project-Id", otherID)
	if status != http.StatusOK {
		t.Fatalf("create in other: %d %v", status, role)
	}
	id := role["id"].(string)
	for _, m := range []string{http.MethodGet, http.MethodPatch, http.MethodDelete} {
		status, _, body := call(t, s, m, "/iam/role/"+id, jsonType, `{"name": "Mine"}`)
		problem(t, status, body, http.StatusNotFound, "NOT_FOUND")
	}
	if status, _, body := call(t, s, http.MethodGet, "/iam/role/"+id, "", "", "X-Oystehr-Project-Id", otherID); status != http.StatusOK || body["name"] != "Theirs" {
		t.Fatalf("the role changed: %d %v", status, body)
	}
}

func TestListingParameters(t *testing.T) {
	s := atriumtest.NewServer(t)
	for _, c := range []struct{ query, field string }{
		{"limit=0", "limit"}, {"limit=101", "limit"}, {"limit=ten", "limit"},
		{"sortOrder=up", "sortOrder"}, {"sort=colour", "sort"}, {"cursor=bogus", "cursor"},
		{"roleId=a&roleId=b", "roleId"}, {"projectId=x", "projectId"},
	} {
		status, _, body := call(t, s, http.MethodGet, "/user/v2/list?"+c.query, "", "")
		problem(t, status, body, http.StatusBadRequest, "BAD_USER_INPUT", c.field)
		if body["field"] != c.field {
			t.Errorf("%s: field %v", c.query, body["field"])
		}
	}
	for _, q := range []string{"", "cursor=undefined", "cursor=", "limit=100&sort=name&sortOrder=desc", "roleId=a&roleId=a"} {
		status, _, body := call(t, s, http.MethodGet, "/user/v2/list?"+q, "", "")
		md, _ := body["metadata"].(map[string]any)
		if status != http.StatusOK || md == nil || md["nextCursor"] != nil {
			t.Fatalf("%q: %d %v", q, status, body)
		}
		if data, ok := body["data"].([]any); !ok || len(data) != 0 {
			t.Fatalf("%q: data %v", q, body["data"])
		}
	}
}

// TestRetriedInvite sends the same invitation twice with one request id,
// as the SDK does when it retries: one user, the same answer twice.
func TestRetriedInvite(t *testing.T) {
	s := atriumtest.NewServer(t)
	_, _, role := call(t, s, http.MethodPost, "/iam/role", jsonType, `{"name": "Staff"}`)
	_, _, app := call(t, s, http.MethodPost, "/application", jsonType, `{"name": "EHR", "allowedCallbackUrls": []}`)
	invite := `{"email": "arya@example.com", "applicationId": "` + app["id"].(string) + `", "roles": ["` + role["id"].(string) + `"], "resource": {"resourceType": "Patient"}}`
	const rid = "3f1e2d6c-0b7a-4c1e-9a55-0d6b1c2e9f01"
	status, _, first := call(t, s, http.MethodPost, "/user/invite", jsonType, invite, "X-Oystehr-Request-Id", rid)
	if status != http.StatusOK || first["invitationUrl"] == nil {
		t.Fatalf("invite: %d %v", status, first)
	}
	status, h, again := call(t, s, http.MethodPost, "/user/invite", jsonType, invite, "X-Oystehr-Request-Id", rid)
	if status != http.StatusOK || again["id"] != first["id"] || again["invitationUrl"] != first["invitationUrl"] || h.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: %d %v (first %v)", status, again, first)
	}
	// The same id for another request is refused; a new id is a new request.
	status, _, body := call(t, s, http.MethodPost, "/user/invite", jsonType, strings.Replace(invite, "arya", "sansa", 1), "X-Oystehr-Request-Id", rid)
	problem(t, status, body, http.StatusConflict, "CONFLICT", "already used")
	status, _, body = call(t, s, http.MethodPost, "/user/invite", jsonType, invite, "X-Oystehr-Request-Id", "a-new-request-id-0001")
	problem(t, status, body, http.StatusConflict, "CONFLICT", "arya@example.com")
	// Another caller with the same id is not answered from the first one's.
	_, _, list := call(t, s, http.MethodGet, "/user/v2/list", "", "")
	if data := list["data"].([]any); len(data) != 1 {
		t.Fatalf("users after the retries: %v", data)
	}
}

func TestCORSPreflight(t *testing.T) {
	s := atriumtest.NewServer(t)
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete} {
		req, _ := http.NewRequest(http.MethodOptions, s.URL+"/v1/iam/role/x", nil)
		req.Header.Set("Origin", "https://app.example.com")
		req.Header.Set("Access-Control-Request-Method", m)
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type,x-oystehr-project-id,x-oystehr-request-id,x-zapehr-project-id") // sorted, as browsers send them
		res, err := s.Server.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
			!strings.Contains(strings.ToLower(res.Header.Get("Access-Control-Allow-Headers")), "x-oystehr-request-id") {
			t.Errorf("preflight %s: %d %v", m, res.StatusCode, res.Header)
		}
	}
}

// TestOpenAPI checks the served description against what is routed: every
// documented operation answers something other than 404/405, and every
// route of the table is documented (rest's internal test compares the
// table itself).
func TestOpenAPI(t *testing.T) {
	s := atriumtest.NewServer(t)
	status, _, doc := call(t, s, http.MethodGet, "/openapi.json", "", "")
	if status != http.StatusOK || doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi.json: %d %v", status, doc["openapi"])
	}
	paths := doc["paths"].(map[string]any)
	n := 0
	for path, ops := range paths {
		for method := range ops.(map[string]any) {
			n++
			p := strings.NewReplacer("{id}", "00000000-0000-4000-8000-000000000000", "{roleId}", "00000000-0000-4000-8000-000000000000").Replace(path)
			st, _, _ := call(t, s, strings.ToUpper(method), p, jsonType, "")
			if st == http.StatusMethodNotAllowed || (st == http.StatusNotFound && !strings.Contains(path, "{")) {
				t.Errorf("documented %s %s answers %d", method, path, st)
			}
		}
	}
	if n == 0 {
		t.Error("no operation documented")
	}
}

// TestChangesAreAudited: a change over REST leaves the same audit event as
// over GraphQL (written by the use case), with the SDK's request id; a
// denied one too.
func TestChangesAreAudited(t *testing.T) {
	s := atriumtest.NewServer(t)
	const rid = "sdk-request-id-0001"
	status, _, role := call(t, s, http.MethodPost, "/iam/role", jsonType, `{"name": "Staff", "description": "desk"}`, "X-Oystehr-Request-Id", rid)
	if status != http.StatusOK {
		t.Fatalf("create: %d %v", status, role)
	}
	if status, _, _ := call(t, s, http.MethodDelete, "/iam/role/"+role["id"].(string), "", ""); status != http.StatusNoContent {
		t.Fatalf("delete: %d", status)
	}
	var out struct {
		AuditEvents struct {
			Edges []struct {
				Node struct {
					Action, Outcome, RequestID string
					Target                     struct{ Type, ID string }
					ChangedFields              []string
				}
			}
		}
	}
	s.Operator(s.Sandbox).MustDo(t, `query($id: ID!) { auditEvents(filter: {targetId: $id}) { edges { node {
		action outcome requestId target { type id } changedFields } } } }`, map[string]any{"id": role["id"]}, &out)
	var got []string
	for _, e := range out.AuditEvents.Edges {
		n := e.Node
		got = append(got, n.Action+" "+n.Outcome+" "+n.Target.Type+" "+strings.Join(n.ChangedFields, ","))
		if n.Action == "IAM:CreateRole" && n.RequestID != rid {
			t.Errorf("create recorded request id %q, want the SDK's %q", n.RequestID, rid)
		}
	}
	want := []string{"IAM:DeleteRole success Role id", "IAM:CreateRole success Role description,name"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("audit events %q, want %q", got, want)
	}
}
