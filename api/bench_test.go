package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"atrium/atriumtest"
	"atrium/iam"
)

// BenchmarkProjectQuery is `{ project { id name } }` through the real HTTP
// handler: request id, access log, CORS, body limit, authentication, the
// guard (which reads the project) and the GraphQL executor.
func BenchmarkProjectQuery(b *testing.B) {
	s := atriumtest.NewServer(b)
	benchmarkQuery(b, s, s.Sandbox)
}

func benchmarkQuery(b *testing.B, s *atriumtest.Server, project string) {
	body := []byte(`{"query":"{ project { id name } }"}`)
	client := s.Server.Client()
	post := func() []byte {
		req, err := http.NewRequest(http.MethodPost, s.URL+"/graphql", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+atriumtest.AdminSecret)
		req.Header.Set("X-Oystehr-Project-Id", project)
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		out, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK {
			b.Fatalf("%d %v %s", res.StatusCode, err, out)
		}
		return out
	}
	if out := post(); !strings.Contains(string(out), project) || strings.Contains(string(out), "errors") {
		b.Fatalf("unexpected response %s", out)
	}
	for b.Loop() {
		post()
	}
}

// BenchmarkProjectFindOne reads the same project document through the store:
// one FindOne on {projectId, _id} and a decode into iam.Project.
func BenchmarkProjectFindOne(b *testing.B) {
	s := atriumtest.NewServer(b)
	benchmarkFindOne(b, s, s.Sandbox)
}

func benchmarkFindOne(b *testing.B, s *atriumtest.Server, project string) {
	ctx := context.Background()
	t := s.DB.Tenant(project)
	if p, err := t.Project(ctx); err != nil || p.ID != project {
		b.Fatalf("%+v %v", p, err)
	}
	for b.Loop() {
		if _, err := t.Project(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProjectFindOneRaw is the bare driver call on a separate client to
// the same engine: FindOne by _id, decoded into a bson.Raw.
func BenchmarkProjectFindOneRaw(b *testing.B) {
	s, raw := rawServer(b)
	benchmarkFindOneRaw(b, raw, s.Sandbox)
}

func benchmarkFindOneRaw(b *testing.B, raw *mongo.Database, project string) {
	ctx := context.Background()
	coll := raw.Collection("projects")
	filter := bson.D{{Key: "_id", Value: project}}
	if doc, err := coll.FindOne(ctx, filter).Raw(); err != nil || !strings.Contains(doc.String(), project) {
		b.Fatalf("%v %v", doc, err)
	}
	for b.Loop() {
		if _, err := coll.FindOne(ctx, filter).Raw(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProjectLookupAmongManyProjects repeats the three measurements for
// a project stored after 2000 others. The embedded engine pushes only a
// filter of exactly {_id: x} down to SQLite; any other filter, such as the
// store's tenant-scoped {projectId, _id}, is evaluated by reading the
// collection in storage order until the first match.
func BenchmarkProjectLookupAmongManyProjects(b *testing.B) {
	const others = 2000
	s, raw := rawServer(b)
	ctx := context.Background()
	var last string
	for i := range others + 1 {
		p := &iam.Project{ID: uuid.NewString(), Name: fmt.Sprint("Project ", i), FHIRVersion: iam.R4}
		if err := s.DB.Tenant(p.ID).Projects().Insert(ctx, p); err != nil {
			b.Fatal(err)
		}
		last = p.ID
	}
	b.Run("handler", func(b *testing.B) { benchmarkQuery(b, s, last) })
	b.Run("store", func(b *testing.B) { benchmarkFindOne(b, s, last) })
	b.Run("raw", func(b *testing.B) { benchmarkFindOneRaw(b, raw, last) })
}
