package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"atrium/atriumtest"
)

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
	res, err := s.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out atriumtest.Response
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("response %d is not GraphQL JSON: %s", res.StatusCode, raw)
	}
	return res, &out
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

// createProject creates a project as the operator and returns its id.
func createProject(t *testing.T, s *atriumtest.Server, name string) string {
	t.Helper()
	var out struct {
		CreateProject struct{ Project struct{ ID string } }
	}
	s.Operator("").MustDo(t, `mutation($n: String!) { createProject(input: {name: $n, fhirVersion: R4}) { project { id } } }`,
		map[string]any{"n": name}, &out)
	if out.CreateProject.Project.ID == "" {
		t.Fatal("createProject returned no id")
	}
	return out.CreateProject.Project.ID
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// rawServer starts a test server and opens a separate driver connection to
// its database on the same engine, for reading stored documents as they are.
// atriumtest does not export the engine's URI, so the address and database
// are taken from the first commands the server's driver sends.
func rawServer(tb testing.TB) (*atriumtest.Server, *mongo.Database) {
	tb.Helper()
	var (
		mu       sync.Mutex
		addr, db string
	)
	monitor := &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		mu.Lock()
		defer mu.Unlock()
		if addr == "" {
			addr, _, _ = strings.Cut(e.ConnectionID, "[")
		}
		if db == "" && e.DatabaseName != "admin" {
			db = e.DatabaseName
		}
	}}
	s := atriumtest.NewServer(tb, atriumtest.WithMonitor(monitor))
	mu.Lock()
	uri, name := "mongodb://"+url.PathEscape(addr)+"/", db // the embedded engine's address is a Unix socket path
	mu.Unlock()
	if env := os.Getenv("MONGODB_URI"); env != "" {
		uri = env // a real MongoDB: its URI carries the credentials
	}
	if addr == "" || name == "" {
		tb.Fatalf("the monitor saw no command (address %q, database %q)", addr, name)
	}
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return s, client.Database(name)
}

// collKind is the kind of documents a collection named in a command holds:
// on the embedded engine a project's users are in "users.<projectId>"
// (store/layout.go), on MongoDB in "users".
func collKind(name string) string {
	kind, _, _ := strings.Cut(name, ".")
	return kind
}
