package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"atrium/auth"
)

// Directives implements the access directives of schema.graphqls. They only
// document: each operation's service method authorizes itself against its
// entry in the domain's table of use cases (service/usecases.go), and
// TestSchemaAgreesWithUseCases proves the two say the same.
func Directives() DirectiveRoot {
	return DirectiveRoot{
		Guard: func(ctx context.Context, _ any, next graphql.Resolver, _, _ string, _, _, _ *string) (any, error) {
			return next(ctx)
		},
		Authenticated: func(ctx context.Context, _ any, next graphql.Resolver, _ []auth.Kind, _ *string) (any, error) {
			return next(ctx)
		},
		Public: func(ctx context.Context, _ any, next graphql.Resolver, _ string) (any, error) {
			return next(ctx)
		},
	}
}
