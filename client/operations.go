package client

import _ "embed"

// Operations is the source of operations.graphql: the operations this client
// sends. The server counts its metrics by these operation names.
//
//go:embed operations.graphql
var Operations string
