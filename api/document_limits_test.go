package api_test

import (
	"fmt"
	"strings"
	"testing"

	"atrium/atriumtest"
)

// hostile is a document and how Atrium refuses it.
type hostile struct{ query, code, message string }

// hostileDocuments are documents of each shape that used to cost seconds to
// minutes in validation, at a size close to the 1 MiB body limit (the JSON
// envelope stays under it). Deep nesting is refused by gqlparser's own
// nesting limit while parsing, which comes first.
func hostileDocuments() map[string]hostile {
	const size = 1<<20 - 4<<10
	fill := func(prefix, unit, suffix string) string {
		return prefix + strings.Repeat(unit, (size-len(prefix)-len(suffix))/len(unit)) + suffix
	}
	var fan strings.Builder
	fan.WriteString("query { ...F0 }")
	for i := 0; fan.Len() < size-64; i++ {
		fmt.Fprintf(&fan, " fragment F%d on Query { ...F%d ...F%d }", i, i+1, i+1)
	}
	tokens := "the document has more than 10000 tokens"
	return map[string]hostile{
		"repeated-field":   {fill("{", " __typename", " }"), "BAD_USER_INPUT", tokens},
		"fragment-fan-out": {fan.String(), "BAD_USER_INPUT", tokens},
		"aliases":          {fill("{", " a: __typename", " }"), "BAD_USER_INPUT", tokens},
		"nesting":          {fill("", "{ __typename ", ""), "GRAPHQL_PARSE_FAILED", "exceeded maximum nesting depth of 1000"},
	}
}

// Each hostile shape is refused with a code before validation. How fast is
// BenchmarkHostileDocuments' business; here the point is the answer.
func TestHostileDocumentsAreRefusedBeforeValidation(t *testing.T) {
	s := atriumtest.NewServer(t)
	c := s.Operator(s.Sandbox)
	// Under the token limit, each limit speaks for itself.
	for _, c2 := range []struct{ name, query, want string }{
		{"fields", atriumtest.Repeat("__typename", 1001), "more than 1000 fields"},
		{"fan-out", atriumtest.FanOut(10), "more than 1000 fields"},
		{"aliases", atriumtest.Repeat("a: __typename", 201), "201 aliases; the limit is 200"},
		{"spreads", "{" + strings.Repeat(" ...A", 101) + " } fragment A on Query { __typename }", "101 fragment spreads; the limit is 100"},
	} {
		t.Run(c2.name, func(t *testing.T) {
			r := c.Fails(t, "BAD_USER_INPUT", "", c2.query, nil)
			if msg := r.Errors[0].Message; !strings.Contains(msg, c2.want) {
				t.Errorf("refusal %q, want %q", msg, c2.want)
			}
		})
	}
	// The 1 MiB documents come only once the limits are known to work:
	// without them each would take minutes, and this test would hang
	// instead of failing.
	if t.Failed() {
		t.FailNow()
	}
	for name, h := range hostileDocuments() {
		t.Run(name, func(t *testing.T) {
			r := c.Fails(t, h.code, "", h.query, nil)
			if msg := r.Errors[0].Message; !strings.Contains(msg, h.message) {
				t.Errorf("refusal %q, want %q", msg, h.message)
			}
		})
	}
	// Exactly at each limit the document is accepted (and answered).
	for name, q := range map[string]string{
		"fields":  atriumtest.Repeat("__typename", 1000),
		"aliases": atriumtest.Repeat("a: __typename", 200),
		"spreads": "{" + strings.Repeat(" ...A", 100) + " } fragment A on Query { __typename }",
		"fan-out": atriumtest.FanOut(9), // 2⁹ = 512 fields, 17 spreads
	} {
		t.Run("at the limit: "+name, func(t *testing.T) {
			c.MustDo(t, q, nil, nil)
		})
	}
	if strings.Contains(s.Log.String(), `"level":"ERROR"`) {
		t.Errorf("a refused document logged an ERROR:\n%s", s.Log.String())
	}
}

// BenchmarkHostileDocuments posts each hostile shape of about 1 MiB through
// the real handler, next to `{ project { id name } }` as the yardstick of
// the same run (bench/README.md records the ratios).
func BenchmarkHostileDocuments(b *testing.B) {
	s := atriumtest.NewServer(b)
	c := s.Operator(s.Sandbox)
	// Two yardsticks: a small query, and a harmless document of the same
	// size as the hostile ones (one long comment), which costs what reading
	// and decoding any 1 MiB body costs.
	harmless := "{ __typename } #" + strings.Repeat("x", 1<<20-8<<10)
	for name, q := range map[string]string{"yardstick-project-query": "{ project { id name } }", "yardstick-1MiB-comment": harmless} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				c.MustDo(b, q, nil, nil)
			}
		})
	}
	for name, h := range hostileDocuments() {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if r := c.Do(b, h.query, nil); r.Code() != h.code {
					b.Fatalf("not refused: %+v", r.Errors)
				}
			}
		})
	}
}
