package api_test

// Application secrets: rotateApplicationSecret (GraphQL) and
// POST /v1/application/{id}/rotate-secret answer a new secret once, keep
// only its hash, and the service checks a confidential client's secret
// with VerifyApplicationSecret.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"atrium/atriumtest"
	"atrium/service"
)

func TestApplicationSecrets(t *testing.T) {
	s, raw := rawServer(t)
	op := s.Operator(s.Sandbox)
	ctx := t.Context()
	var created struct {
		CreateApplication struct{ Application struct{ ID, ClientID string } }
	}
	op.MustDo(t, `mutation { createApplication(input: {name: "SPA", allowedCallbackUrls: ["https://spa.example.com/cb"]}) { application { id clientId } } }`, nil, &created)
	app := created.CreateApplication.Application
	verify := func(projectID, clientID, secret string) error {
		return s.Service.VerifyApplicationSecret(ctx, projectID, clientID, secret)
	}
	// A new application is a public client: no secret passes.
	for _, secret := range []string{"", "guess"} {
		if err := verify(s.Sandbox, app.ClientID, secret); !errors.Is(err, service.ErrInvalidApplicationClient) {
			t.Fatalf("public client with secret %q: %v", secret, err)
		}
	}

	var rotated struct{ RotateApplicationSecret struct{ Secret string } }
	op.MustDo(t, `mutation($id: ID!) { rotateApplicationSecret(input: {id: $id}) { secret } }`, map[string]any{"id": app.ID}, &rotated)
	first := rotated.RotateApplicationSecret.Secret
	if len(first) < 40 {
		t.Fatalf("secret %q", first)
	}
	if err := verify(s.Sandbox, app.ClientID, first); err != nil {
		t.Fatalf("the rotated secret: %v", err)
	}

	// The REST twin, as the SDK calls it.
	status, body := restRotate(t, s, app.ID, s.Sandbox)
	var out map[string]any
	if err := json.Unmarshal([]byte(body), &out); status != http.StatusOK || err != nil || len(out) != 1 {
		t.Fatalf("POST rotate-secret: %d %s", status, body)
	}
	second, _ := out["secret"].(string)
	if second == "" || second == first {
		t.Fatalf("REST rotation gave %q (first %q)", second, first)
	}
	for secret, want := range map[string]error{first: service.ErrInvalidApplicationClient, second: nil, second + "x": service.ErrInvalidApplicationClient} {
		if err := verify(s.Sandbox, app.ClientID, secret); !errors.Is(err, want) {
			t.Errorf("secret %.8s…: %v, want %v", secret, err, want)
		}
	}

	// Only the hash rests in the store, and no read shows it.
	var doc bson.M
	if err := raw.Collection("applications").FindOne(ctx, bson.D{{Key: "_id", Value: app.ID}}).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(second))
	if doc["secretHash"] != hex.EncodeToString(sum[:]) {
		t.Errorf("stored secretHash %v", doc["secretHash"])
	}
	dump, _ := bson.MarshalExtJSON(doc, false, false)
	_, get := restGet(t, s, "/v1/application/"+app.ID, s.Sandbox)
	for where, text := range map[string]string{"the stored document": string(dump), "GET /v1/application": get, "the log": s.Log.String()} {
		if strings.Contains(text, second) || strings.Contains(text, first) {
			t.Errorf("%s holds a secret", where)
		}
	}
	if strings.Contains(get, "secretHash") || strings.Contains(get, doc["secretHash"].(string)) {
		t.Errorf("GET /v1/application shows the hash: %s", get)
	}

	// Another project neither rotates nor verifies it.
	other := s.CreateProject(t, "Other")
	if status, body := restRotate(t, s, app.ID, other); status != http.StatusNotFound {
		t.Errorf("rotate from another project: %d %s", status, body)
	}
	r := s.Operator(other).Do(t, `mutation($id: ID!) { rotateApplicationSecret(input: {id: $id}) { secret } }`, map[string]any{"id": app.ID})
	expectError(t, r, "NOT_FOUND")
	if err := verify(other, app.ClientID, second); !errors.Is(err, service.ErrInvalidApplicationClient) {
		t.Errorf("verify in another project: %v", err)
	}
	if err := verify(s.Sandbox, app.ClientID, second); err != nil {
		t.Errorf("a failed rotation elsewhere changed the secret: %v", err)
	}
}

// restRotate posts rotate-secret as the operator in project.
func restRotate(t *testing.T, s *atriumtest.Server, id, project string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/v1/application/"+id+"/rotate-secret", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	return restDo(t, s, req, project)
}

// restGet gets path as the operator in project.
func restGet(t *testing.T, s *atriumtest.Server, path, project string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL+path, nil)
	return restDo(t, s, req, project)
}

func restDo(t *testing.T, s *atriumtest.Server, req *http.Request, project string) (int, string) {
	t.Helper()
	req.Header.Set("Authorization", "Bearer "+atriumtest.AdminSecret)
	req.Header.Set("X-Oystehr-Project-Id", project)
	res, err := s.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}
