package graph_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"

	"atrium/atriumtest"
	"atrium/graph"
)

// limits are small literal numbers, so each case can sit exactly at a limit
// and one past it.
var limits = graph.DocumentLimits{Tokens: 60, Fields: 10, Spreads: 4, Aliases: 3}

func refusal(t *testing.T, query string) string {
	t.Helper()
	err := limits.MutateOperationParameters(context.Background(), &graphql.RawParams{Query: query})
	if err == nil {
		return ""
	}
	if err.Extensions["code"] != "BAD_USER_INPUT" {
		t.Errorf("%s: code %v, want BAD_USER_INPUT", query, err.Extensions["code"])
	}
	return err.Message
}

func TestDocumentLimits(t *testing.T) {
	for _, c := range []struct {
		name, query, refused string // refused: a part of the message, "" when accepted
	}{
		{"fields at the limit", atriumtest.Repeat("__typename", 10), ""},
		{"fields over the limit", atriumtest.Repeat("__typename", 11), "more than 10 fields"},
		{"nested fields count", "{ a { b { c { d { e } } } } f g h i j }", ""},
		{"nested fields over", "{ a { b { c { d { e } } } } f g h i j k }", "more than 10 fields"},
		{"aliases at the limit", "{ a: __typename b: __typename c: __typename }", ""},
		{"aliases over the limit", "{ a: __typename b: __typename c: __typename d: __typename }", "4 aliases; the limit is 3"},
		{"spreads at the limit", "{ ...A ...A ...A ...A } fragment A on Query { x }", ""},
		{"spreads over the limit", "{ ...A ...A ...A ...A ...A } fragment A on Query { x }", "5 fragment spreads; the limit is 4"},
		{"fragment cycle", "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }", "spreads itself"},
		{"a syntax error is left to gqlgen", "{ x ", ""},
		{"unknown fragment is left to the validator", "{ ...Nope }", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := refusal(t, c.query)
			switch {
			case c.refused == "" && got != "":
				t.Errorf("refused %q: %s", c.query, got)
			case c.refused != "" && !strings.Contains(got, c.refused):
				t.Errorf("%q: refusal %q, want one containing %q", c.query, got, c.refused)
			}
		})
	}
}

// The token limit is gqlparser's own: "{" + n names + "}" is n+2 tokens.
func TestDocumentTokenLimit(t *testing.T) {
	l := graph.DocumentLimits{Tokens: 12}
	for n, want := range map[int]bool{10: true, 11: false} {
		err := l.MutateOperationParameters(context.Background(), &graphql.RawParams{Query: atriumtest.Repeat("x", n)})
		if (err == nil) != want || (err != nil && err.Message != "the document has more than 12 tokens, the limit") {
			t.Errorf("%d tokens: err = %v, want accepted = %v", n+2, err, want)
		}
	}
}

// Expansion is counted, not performed: a document that expands to 2⁶⁰
// fields is refused as over the field limit, and fast (the benchmark in
// api/ times it against the real handler).
func TestFragmentFanOutIsCountedNotExpanded(t *testing.T) {
	l := graph.DocumentLimits{Fields: 1000}
	for n, want := range map[int]bool{9: true, 10: false, 60: false} { // 2⁹ = 512 fields, 2¹⁰ = 1024
		err := l.MutateOperationParameters(context.Background(), &graphql.RawParams{Query: atriumtest.FanOut(n)})
		if (err == nil) != want {
			t.Errorf("fan-out of %d levels (%d fields): accepted = %v, want %v (%v)", n, 1<<min(n, 62), err == nil, want, err)
		}
	}
}

// GraphiQL's introspection query (graphql-js 16 getIntrospectionQuery with
// every option on) is well inside the limits Atrium uses; this prints what
// it costs, so the limits' comment in api can be checked.
func TestIntrospectionQueryFitsTheLimits(t *testing.T) {
	q, err := os.ReadFile("testdata/introspection.graphql")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []graph.DocumentLimits{{Tokens: 10_000}, {Fields: 500}, {Spreads: 100}, {Aliases: 200}} {
		if err := l.MutateOperationParameters(context.Background(), &graphql.RawParams{Query: string(q)}); err != nil {
			t.Errorf("limits %+v refuse the introspection query: %v", l, err)
		}
	}
	for _, l := range []graph.DocumentLimits{{Tokens: 500}, {Fields: 150}, {Spreads: 10}} {
		if err := l.MutateOperationParameters(context.Background(), &graphql.RawParams{Query: string(q)}); err != nil {
			t.Logf("introspection query over %+v: %s", l, err.Message)
		} else {
			t.Logf("introspection query within %+v", l)
		}
	}
}
