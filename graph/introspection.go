package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"atrium/iam"
)

// NoIntrospection refuses, before anything runs, an operation that asks for
// __schema or __type, with a coded error saying that introspection is off.
// Without it gqlgen would fail inside execution with an internal error.
// __typename stays allowed: clients need it to read unions.
type NoIntrospection struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = NoIntrospection{}

// ExtensionName implements graphql.HandlerExtension.
func (NoIntrospection) ExtensionName() string { return "NoIntrospection" }

// Validate implements graphql.HandlerExtension.
func (NoIntrospection) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext implements graphql.OperationContextMutator.
func (NoIntrospection) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	if name, ok := introspects(oc.Operation.SelectionSet); ok {
		e := iam.Errorf(iam.BadUserInput, "introspection is turned off on this server (%s)", name)
		return &gqlerror.Error{Message: e.Message, Err: e}
	}
	return nil
}

// introspects reports the first __schema or __type field of set, looking
// through fragments; the validator has already rejected fragment cycles.
func introspects(set ast.SelectionSet) (string, bool) {
	for _, sel := range set {
		var inner ast.SelectionSet
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__schema" || s.Name == "__type" {
				return s.Name, true
			}
			inner = s.SelectionSet
		case *ast.InlineFragment:
			inner = s.SelectionSet
		case *ast.FragmentSpread:
			if s.Definition != nil {
				inner = s.Definition.SelectionSet
			}
		}
		if name, ok := introspects(inner); ok {
			return name, true
		}
	}
	return "", false
}
