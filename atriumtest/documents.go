package atriumtest

import (
	"fmt"
	"strings"
)

// This file builds GraphQL documents that probe Atrium's document limits.

// FanOut spreads fragment F0 → F1 twice → … → Fn, whose leaf selects
// __typename: a document of n+1 fragments whose operation expands to 2ⁿ
// fields.
func FanOut(n int) string {
	var b strings.Builder
	b.WriteString("query { ...F0 }")
	for i := range n {
		fmt.Fprintf(&b, " fragment F%d on Query { ...F%d ...F%d }", i, i+1, i+1)
	}
	fmt.Fprintf(&b, " fragment F%d on Query { __typename }", n)
	return b.String()
}

// Repeat writes the selection `{ sel sel … }` with n copies of sel.
func Repeat(sel string, n int) string {
	return "{" + strings.Repeat(" "+sel, n) + " }"
}
