package graph

import (
	"github.com/99designs/gqlgen/graphql"

	"atrium/service"
)

// deref returns the value of an optional argument, or its zero value.
func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// optional converts gqlgen's absent/null/value input to the service's.
func optional[T any](o graphql.Omittable[T]) service.Optional[T] {
	v, set := o.ValueOK()
	return service.Optional[T]{Set: set, Value: v}
}
