package graph

import (
	"context"
	"regexp"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"atrium/requestlog"
)

// Label values of operations that are not named one by one, so that a
// client cannot grow the metrics without bound.
const (
	OtherOperation     = "other"       // a name Atrium does not know
	AnonymousOperation = "(anonymous)" // no operation name
	UnknownType        = "unknown"     // the document did not parse
	OutcomeOK          = "ok"          // no error in the response
	otherOutcome       = "OTHER"       // an error code that is not a plain code
)

var (
	operationsTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "atrium_graphql_operations_total",
		Help: "GraphQL operations, by operation name (known names only; the rest are \"other\"), type and outcome (\"ok\" or the first error's extensions.code).",
	}, []string{"operation", "type", "outcome"})
	operationSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "atrium_graphql_operation_duration_seconds",
		Help:    "Time from reading a GraphQL request to its response, by operation name, type and outcome.",
		Buckets: prometheus.DefBuckets,
	}, []string{"operation", "type", "outcome"})
)

// plainCode is what an outcome label may be; anything else is otherOutcome.
var plainCode = regexp.MustCompile(`^[A-Z][A-Z_]{0,39}$`)

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
	outcome := OutcomeOK
	if resp != nil && len(resp.Errors) > 0 {
		outcome = otherOutcome
		if code, ok := resp.Errors[0].Extensions["code"].(string); ok && plainCode.MatchString(code) {
			outcome = code
		}
	}
	operationsTotal.WithLabelValues(name, typ, outcome).Inc()
	operationSeconds.WithLabelValues(name, typ, outcome).Observe(time.Since(start).Seconds())
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
