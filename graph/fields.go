package graph

import (
	"context"
	"slices"

	"github.com/99designs/gqlgen/graphql"

	"atrium/service"
)

// InputFields tells the domain which input fields each mutation was given
// (their names, never their values), for the audit trail the service writes.
func InputFields(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Object != "Mutation" {
		return next(ctx)
	}
	return next(service.WithInputFields(ctx, inputFields(ctx, fc)))
}

// inputFields lists the names of the input fields the operation was given.
func inputFields(ctx context.Context, fc *graphql.FieldContext) []string {
	args := fc.Field.ArgumentMap(graphql.GetOperationContext(ctx).Variables)
	names := []string{}
	var collect func(v any)
	collect = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k := range x {
				if !slices.Contains(names, k) {
					names = append(names, k)
				}
			}
		case []any:
			for _, e := range x {
				collect(e)
			}
		}
	}
	for _, v := range args {
		collect(v)
	}
	slices.Sort(names)
	return names
}
