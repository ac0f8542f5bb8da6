package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"atrium/atriumtest"
	"atrium/client"
	"atrium/iam"
	"atrium/persisted"
)

// trustedManifest runs the command the README names to make the manifest of
// the typed client's operations, and reads what it wrote.
func trustedManifest(t *testing.T) *persisted.Manifest {
	t.Helper()
	out := filepath.Join(t.TempDir(), "trusted-documents.json")
	cmd := exec.CommandContext(t.Context(), "go", "run", "./client/trusteddocs", "-o", out)
	cmd.Dir = ".."
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run ./client/trusteddocs: %v\n%s", err, b)
	}
	m, err := persisted.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// With ATRIUM_TRUSTED_DOCUMENTS made from client/operations.graphql, every
// operation of the typed client runs, by its text or by its hash alone,
// and any other document (an ad-hoc query, introspection, a hash that is
// not the text's) is refused with PERSISTED_QUERY_NOT_FOUND.
func TestTrustedDocuments(t *testing.T) {
	t.Parallel()
	m := trustedManifest(t)

	// The manifest holds exactly the documents the generated client sends.
	src, err := os.ReadFile("../client/generated.go")
	if err != nil {
		t.Fatal(err)
	}
	sent := regexp.MustCompile("(?s)const (\\w+)_Operation = `(.*?)`").FindAllStringSubmatch(string(src), -1)
	if len(sent) < 20 || len(sent) != len(m.Operations) {
		t.Fatalf("%d operations in client/generated.go, %d in the manifest", len(sent), len(m.Operations))
	}
	for _, op := range sent {
		if _, ok := m.Body(persisted.Hash(op[2])); !ok {
			t.Errorf("the manifest lacks the client's %s as it sends it", op[1])
		}
	}

	s := atriumtest.NewServer(t, atriumtest.WithTrustedDocuments(m))
	op := s.Operator(s.Sandbox)
	ctx := t.Context()
	role := atriumtest.CreateRole(t, op, "Staff", atriumtest.Allow("*", "*"))
	app := atriumtest.CreateApplication(t, op, client.CreateApplicationInput{Name: "Portal", AllowedCallbackUrls: []string{}})
	atriumtest.Invite(t, op, client.InviteUserInput{Email: ptr("trusted@example.com"), ApplicationId: app, Roles: []string{role}})
	for name, call := range map[string]func() error{
		"Project":      func() error { _, err := client.Project(ctx, op); return err },
		"Roles":        func() error { _, err := client.Roles(ctx, op, ptr(10), nil); return err },
		"Applications": func() error { _, err := client.Applications(ctx, op, nil, nil); return err },
		"Users":        func() error { _, err := client.Users(ctx, op, nil, nil, nil); return err },
		"Developers":   func() error { _, err := client.Developers(ctx, op, nil, nil, nil); return err },
		"M2MClients":   func() error { _, err := client.M2MClients(ctx, op, nil, nil, nil); return err },
		"AuditEvents":  func() error { _, err := client.AuditEvents(ctx, op, nil, nil, nil); return err },
		"Node": func() error {
			res, err := client.Node(ctx, op, iam.GlobalID("Role", role))
			if err == nil && (res.Node == nil || (*res.Node).GetGlobalId() != iam.GlobalID("Role", role)) {
				t.Errorf("Node: %+v", res.Node)
			}
			return err
		},
	} {
		if err := call(); err != nil {
			t.Errorf("the client's %s, a trusted document: %v", name, err)
		}
	}

	// By hash alone (Apollo's persisted queries): the trusted text runs.
	project := operationNamed(t, m, "Project")
	_, r := rawPost(t, s, operatorHeaders(s), "", nil)
	expectError(t, r, "BAD_USER_INPUT", "no query")
	r = postExtensions(t, s, "", map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": project.ID}})
	if len(r.Errors) != 0 || !strings.Contains(string(r.Data), s.Sandbox) {
		t.Fatalf("Project by hash: %s", r.Raw)
	}
	r = postExtensions(t, s, project.Body, map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": project.ID}})
	if len(r.Errors) != 0 {
		t.Fatalf("Project by text and hash: %s", r.Raw)
	}

	for name, refused := range map[string]*atriumtest.Response{
		"an ad-hoc query":                 op.Do(t, `{ project { id name } }`, nil),
		"a trusted text, reflowed":        op.Do(t, strings.ReplaceAll(project.Body, "\t", "  "), nil),
		"introspection":                   op.Do(t, `{ __schema { queryType { name } } }`, nil),
		"an unknown hash":                 postExtensions(t, s, "", map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": persisted.Hash("{ project { id } }")}}),
		"a hash of another text":          postExtensions(t, s, `{ project { id } }`, map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": project.ID}}),
		"a persistedQuery without a hash": postExtensions(t, s, "", map[string]any{"persistedQuery": map[string]any{"version": 1}}),
	} {
		if r := refused; r.Code() != persistedQueryNotFound || string(r.Data) != "null" && len(r.Data) != 0 {
			t.Errorf("%s: want %s and no data, got %s", name, persistedQueryNotFound, r.Raw)
		}
	}
}

// persistedQueryNotFound is the code of a refused document.
const persistedQueryNotFound = "PERSISTED_QUERY_NOT_FOUND"

func operationNamed(t *testing.T, m *persisted.Manifest, name string) persisted.Operation {
	t.Helper()
	for _, op := range m.Operations {
		if op.Name == name {
			return op
		}
	}
	t.Fatalf("the manifest has no operation %s", name)
	return persisted.Operation{}
}

func operatorHeaders(s *atriumtest.Server) map[string]string {
	return map[string]string{"Authorization": "Bearer " + atriumtest.AdminSecret, "X-Oystehr-Project-Id": s.Sandbox}
}

// postExtensions posts a request with extensions (and a query, unless
// empty) as the operator.
func postExtensions(t *testing.T, s *atriumtest.Server, query string, extensions map[string]any) *atriumtest.Response {
	t.Helper()
	body := map[string]any{"extensions": extensions}
	if query != "" {
		body["query"] = query
	}
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, s.URL+"/graphql", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range operatorHeaders(s) {
		req.Header.Set(k, v)
	}
	_, r := send(t, s, req)
	return r
}
