package graph_test

import (
	"context"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"atrium/graph"
)

// A schema that nests without end, which Atrium's own does not (yet).
const recursiveSchema = `type Query { node: Node } type Node { id: ID child: Node }`

// nested returns a query whose selections nest depth levels deep.
func nested(depth int) string {
	return "{ node " + strings.Repeat("{ child ", depth-1) + "{ id }" + strings.Repeat(" }", depth)
}

func depthError(t *testing.T, limit int, query string) string {
	t.Helper()
	s := gqlparser.MustLoadSchema(&ast.Source{Input: recursiveSchema})
	doc, errs := gqlparser.LoadQuery(s, query)
	if errs != nil {
		t.Fatalf("query %s: %v", query, errs)
	}
	oc := &graphql.OperationContext{Operation: doc.Operations[0]}
	if err := (graph.DepthLimit{Max: limit}).MutateOperationContext(context.Background(), oc); err != nil {
		if err.Extensions["code"] != "BAD_USER_INPUT" {
			t.Errorf("depth error code %v", err.Extensions["code"])
		}
		return err.Message
	}
	return ""
}

func TestDepthLimit(t *testing.T) {
	t.Parallel()
	// node { child ... { id } }: depth counts the fields, the leaf included.
	if msg := depthError(t, 10, nested(9)); msg != "" {
		t.Errorf("depth 10 refused: %s", msg)
	}
	msg := depthError(t, 10, nested(10))
	if !strings.Contains(msg, "11 levels") || !strings.Contains(msg, "limit is 10") {
		t.Errorf("depth 11: message %q, want one naming the depth and the limit", msg)
	}
	// Fragments do not hide depth.
	const viaFragments = `query { node { ...A } } fragment A on Node { child { ... on Node { child { ...B } } } } fragment B on Node { child { id } }`
	if msg := depthError(t, 4, viaFragments); !strings.Contains(msg, "5 levels") {
		t.Errorf("depth through fragments: %q", msg)
	}
	if msg := depthError(t, 5, viaFragments); msg != "" {
		t.Errorf("depth 5 through fragments refused at limit 5: %s", msg)
	}
	// Introspection does not count, so tools keep working.
	const introspection = `{ __schema { types { fields { type { ofType { ofType { ofType { name } } } } } } } }`
	if msg := depthError(t, 2, introspection); msg != "" {
		t.Errorf("introspection refused: %s", msg)
	}
}
