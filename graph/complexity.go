package graph

import (
	"atrium/graph/model"
	"atrium/service"
)

// PageItemsPerCost is how many items of a page cost as much as one
// selection: a connection field costs its selection once for every
// PageItemsPerCost items it may return (first, or the default page size),
// at least once. users(first: 100) { edges { node { id } } } therefore
// costs 10 × 3 = 30, so a query can no longer fetch an unbounded number of
// nodes by repeating cheap aliases under the complexity limit.
const PageItemsPerCost = 10

// Complexity returns the cost of the fields whose answer grows with a page
// size; every other field costs 1 plus its selection (gqlgen's default).
func Complexity() ComplexityRoot {
	var c ComplexityRoot
	c.Query.Users = func(child int, first *int64, _ *string, last *int64, _ *string, _ *model.UserFilter, _ *model.UserOrder) int {
		return pageCost(child, first, last)
	}
	c.Query.Developers = func(child int, first *int64, _ *string, last *int64, _ *string, _ *model.DeveloperFilter, _ *model.UserOrder) int {
		return pageCost(child, first, last)
	}
	c.Query.M2mClients = func(child int, first *int64, _ *string, last *int64, _ *string, _ *model.M2MClientFilter, _ *model.UserOrder) int {
		return pageCost(child, first, last)
	}
	c.Query.AuditEvents = func(child int, first *int64, _ *string, last *int64, _ *string, _ *model.AuditEventFilter) int {
		return pageCost(child, first, last)
	}
	c.Query.RolesConnection = func(child int, first *int64, _ *string, last *int64, _ *string) int {
		return pageCost(child, first, last)
	}
	c.Query.ApplicationsConnection = func(child int, first *int64, _ *string, last *int64, _ *string) int {
		return pageCost(child, first, last)
	}
	c.Query.Nodes = func(child int, ids []string) int {
		n := int64(max(len(ids), 1))
		return pageCost(child, &n, nil)
	}
	return c
}

// pageCost is 1 for the field itself plus its selection once per
// PageItemsPerCost items (first, or last). A size out of range is costed at
// the nearest bound: the resolver refuses it with a message naming the
// field, which the complexity limit must not pre-empt.
func pageCost(child int, first, last *int64) int {
	n := int64(service.DefaultPageSize)
	for _, size := range []*int64{first, last} {
		if size != nil {
			n = min(max(*size, 1), service.MaxPageSize)
		}
	}
	times := int((n + PageItemsPerCost - 1) / PageItemsPerCost)
	return 1 + child*times
}
