// Package graph is Atrium's GraphQL transport: the gqlgen-generated executor
// (generated.go, model/) and thin resolvers that decode input, call the
// service package and map the result. Regenerate with `go generate ./...`
// after editing schema.graphqls.
package graph

import "atrium/service"

// Resolver is the root resolver; it holds the service every operation calls.
type Resolver struct {
	Service *service.Service
}
