package graph

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"atrium/meter"
	"atrium/requestlog"
)

// Label values of operations that are not named one by one, so that a
// client cannot grow the metrics without bound.
const (
	OtherOperation     = "other"       // a name Atrium does not know
	AnonymousOperation = "(anonymous)" // no operation name
	UnknownType        = "unknown"     // the document did not parse
)

// operations are atrium_graphql_operations_total and
// atrium_graphql_operation_duration_seconds; outcome is "ok" or the first
// error's extensions.code.
var operations = meter.New("graphql", "operation", "GraphQL operations (known names only; the rest are \"other\")", "operation", "type", "outcome")

// Operations is a gqlgen extension that counts and times every operation
// in Prometheus and notes its name and type for the request's access-log
// line. Operation names are labels only when Atrium knows them: the names
// of the operations in Known (a GraphQL document, e.g. the typed client's
// operations), the schema's root fields and GraphiQL's introspection query;
// any other name counts as OtherOperation.
type Operations struct {
	Known string
	names map[string]bool
}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = &Operations{}

// ExtensionName implements graphql.HandlerExtension.
func (*Operations) ExtensionName() string { return "Operations" }

// Validate implements graphql.HandlerExtension: it collects the known names.
func (o *Operations) Validate(es graphql.ExecutableSchema) error {
	doc, err := parser.ParseQuery(&ast.Source{Name: "known operations", Input: o.Known})
	if err != nil {
		return err
	}
	o.names = map[string]bool{"IntrospectionQuery": true}
	for _, op := range doc.Operations {
		o.names[op.Name] = true
	}
	s := es.Schema()
	for _, root := range []*ast.Definition{s.Query, s.Mutation, s.Subscription} {
		if root == nil {
			continue
		}
		for _, f := range root.Fields {
			o.names[f.Name] = true
		}
	}
	return nil
}

// InterceptResponse implements graphql.ResponseInterceptor.
func (o *Operations) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	start := time.Now()
	resp := next(ctx)
	name, typ := OtherOperation, UnknownType
	if graphql.HasOperationContext(ctx) {
		oc := graphql.GetOperationContext(ctx)
		if !oc.Stats.OperationStart.IsZero() {
			start = oc.Stats.OperationStart
		}
		if oc.Operation != nil {
			typ = string(oc.Operation.Operation)
			name = o.label(oc.Operation.Name)
			requestlog.From(ctx).SetOperation(logName(oc.Operation.Name), typ)
		}
	}
	outcome := meter.OK
	if resp != nil && len(resp.Errors) > 0 {
		code, _ := resp.Errors[0].Extensions["code"].(string)
		outcome = meter.Failure(code)
	}
	operations.Observe(start, name, typ, outcome)
	return resp
}

// label is the metric label of an operation name.
func (o *Operations) label(name string) string {
	switch {
	case name == "":
		return AnonymousOperation
	case o.names[name]:
		return name
	}
	return OtherOperation
}

// logName is an operation's name as the access log shows it: the name the
// client gave (a GraphQL name, so no spaces or quotes), cut to 100 bytes.
func logName(name string) string {
	if name == "" {
		return AnonymousOperation
	}
	return name[:min(len(name), 100)]
}
