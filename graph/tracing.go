package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/ravilushqa/otelgqlgen"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"go.opentelemetry.io/otel/trace"
)

// Tracing returns the gqlgen extensions that trace every operation and the
// resolvers of queries in OpenTelemetry (otelgqlgen), so that the store's
// spans nest under the field that asked for them. Nothing secret reaches a
// span: variables are not recorded, a mutation's text is replaced (its
// literals may hold a password or a ticket), and the root fields of
// mutations get no span of their own, since otelgqlgen records a field's
// arguments.
func Tracing(tp trace.TracerProvider) []graphql.HandlerExtension {
	return []graphql.HandlerExtension{
		redactMutations{},
		otelgqlgen.Middleware(
			otelgqlgen.WithTracerProvider(tp),
			otelgqlgen.WithoutVariables(),
			otelgqlgen.WithSpanKindSelector(func(string) trace.SpanKind { return trace.SpanKindInternal }),
			otelgqlgen.WithCreateSpanFromFields(func(fc *graphql.FieldContext) bool {
				return fc.IsResolver && fc.Object != "Mutation"
			}),
		),
	}
}

// RedactedMutation stands for a mutation's text in traces.
const RedactedMutation = "mutation (text not recorded: it may hold secrets)"

// redactMutations replaces the text of a mutation, which otelgqlgen records,
// once it has been parsed and validated; nothing else reads it afterwards.
type redactMutations struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = redactMutations{}

func (redactMutations) ExtensionName() string                   { return "RedactMutations" }
func (redactMutations) Validate(graphql.ExecutableSchema) error { return nil }

func (redactMutations) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation != nil && oc.Operation.Operation == ast.Mutation {
		oc.RawQuery = RedactedMutation
	}
	return nil
}
