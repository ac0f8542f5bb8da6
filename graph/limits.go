package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"atrium/iam"
)

// DocumentLimits bounds the work a document can cause before gqlgen
// validates it. Validation is where small documents get expensive: gqlparser's
// OverlappingFieldsCanBeMerged rule compares fields with the same response
// name pairwise (n² for `{ __typename __typename … }`) and walks every
// fragment spread again at every place it is used (2ⁿ for fragments that
// spread the next one twice). The complexity and depth limits run only after
// validation, so they come too late for either.
//
// The check parses the document once with the parser's own token limit
// (gqlparser stops at the limit, so a 1 MiB document costs no more than one
// at the limit) and counts, without expanding anything twice, the fields
// the operations reach once every fragment is expanded, the fragment spreads
// and the aliases. Anything over a limit is refused with BAD_USER_INPUT
// before gqlgen parses or validates it. A zero limit is no limit.
type DocumentLimits struct {
	Tokens  int // lexical tokens in the document
	Fields  int // fields the operations select, fragments expanded
	Spreads int // fragment spreads written in the document
	Aliases int // aliased fields written in the document
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = DocumentLimits{}

// ExtensionName implements graphql.HandlerExtension.
func (DocumentLimits) ExtensionName() string { return "DocumentLimits" }

// Validate implements graphql.HandlerExtension.
func (DocumentLimits) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationParameters implements graphql.OperationParameterMutator: it
// runs before gqlgen parses the query (and after automatic persisted
// queries have put the query text in place, when that extension is added
// first).
func (l DocumentLimits) MutateOperationParameters(_ context.Context, params *graphql.RawParams) *gqlerror.Error {
	if params.Query == "" {
		return nil // gqlgen answers a missing query itself
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: params.Query}, l.Tokens)
	if err != nil {
		if l.Tokens > 0 && isTokenLimit(err, l.Tokens) {
			return refuse("the document has more than %d tokens, the limit", l.Tokens)
		}
		return nil // a syntax error: gqlgen's own parse reports it with its position
	}
	c := count(doc, l.Fields)
	switch {
	case l.Spreads > 0 && c.spreads > l.Spreads:
		return refuse("the document has %d fragment spreads; the limit is %d", c.spreads, l.Spreads)
	case l.Aliases > 0 && c.aliases > l.Aliases:
		return refuse("the document has %d aliases; the limit is %d", c.aliases, l.Aliases)
	case c.cycle:
		return refuse("fragment %q spreads itself", c.cycleAt)
	case l.Fields > 0 && c.fields > l.Fields:
		return refuse("the document selects more than %d fields once its fragments are expanded, the limit", l.Fields)
	}
	return nil
}

func isTokenLimit(err error, limit int) bool {
	g, ok := err.(*gqlerror.Error)
	return ok && g.Message == gqlerror.Errorf("exceeded token limit of %d", limit).Message
}

func refuse(format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	err.Extensions = map[string]any{"code": iam.BadUserInput.GraphQL()}
	return err
}

// counts is what count finds in a document.
type counts struct {
	fields, spreads, aliases int
	cycle                    bool
	cycleAt                  string
}

// count walks every selection set written in the document once. The number
// of fields a fragment expands to is computed once and remembered, and sums
// saturate just above cap, so a document whose expansion doubles at every
// level costs linear time here and never overflows.
func count(doc *ast.QueryDocument, cap int) counts {
	var c counts
	fragments := make(map[string]*ast.FragmentDefinition, len(doc.Fragments))
	for _, f := range doc.Fragments {
		fragments[f.Name] = f
	}
	expanded := make(map[string]int, len(doc.Fragments)) // fields a fragment expands to
	visiting := map[string]bool{}
	add := func(a, b int) int {
		if cap > 0 && a+b > cap {
			return cap + 1
		}
		return a + b
	}
	var fieldsIn func(set ast.SelectionSet) int
	fieldsIn = func(set ast.SelectionSet) int {
		n := 0
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				n = add(n, add(1, fieldsIn(s.SelectionSet)))
			case *ast.InlineFragment:
				n = add(n, fieldsIn(s.SelectionSet))
			case *ast.FragmentSpread:
				n = add(n, fragmentFields(s.Name, fragments, expanded, visiting, &c, fieldsIn))
			}
			if c.cycle {
				return n
			}
		}
		return n
	}
	for _, op := range doc.Operations {
		c.fields = add(c.fields, fieldsIn(op.SelectionSet))
	}
	// Spreads and aliases as written: every selection set of the document,
	// operations and fragments alike, each read once.
	var written func(set ast.SelectionSet)
	written = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				if s.Alias != "" && s.Alias != s.Name {
					c.aliases++
				}
				written(s.SelectionSet)
			case *ast.InlineFragment:
				written(s.SelectionSet)
			case *ast.FragmentSpread:
				c.spreads++
			}
		}
	}
	for _, op := range doc.Operations {
		written(op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		written(f.SelectionSet)
	}
	return c
}

// fragmentFields is the number of fields the named fragment expands to,
// remembered in expanded. A fragment that reaches itself is a cycle; an
// unknown fragment counts nothing (the validator reports it).
func fragmentFields(name string, fragments map[string]*ast.FragmentDefinition, expanded map[string]int, visiting map[string]bool, c *counts, fieldsIn func(ast.SelectionSet) int) int {
	if n, ok := expanded[name]; ok {
		return n
	}
	f, ok := fragments[name]
	if !ok {
		return 0
	}
	if visiting[name] {
		c.cycle, c.cycleAt = true, name
		return 0
	}
	visiting[name] = true
	n := fieldsIn(f.SelectionSet)
	delete(visiting, name)
	expanded[name] = n
	return n
}
