package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"atrium/service"
)

// OneCredentialCheck refuses, before any resolver runs, an operation whose
// root selects more than one field of a use case that checks a credential
// (service.UseCase.ChecksCredential: signIn, signInDeveloper, signUp,
// acceptInvitation), aliases and fragments included. Each such field runs
// an argon2id hash, so a single request with a hundred aliased signIns
// would test a hundred passwords at the cost of one request; the sign-in
// throttle counts per account and per address, not per document.
type OneCredentialCheck struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = OneCredentialCheck{}

// credentialFields are the GraphQL fields of those use cases.
var credentialFields = func() map[string]bool {
	m := map[string]bool{}
	for _, uc := range service.UseCases() {
		if uc.ChecksCredential {
			m[uc.Name] = true
		}
	}
	return m
}()

// ExtensionName implements graphql.HandlerExtension.
func (OneCredentialCheck) ExtensionName() string { return "OneCredentialCheck" }

// Validate implements graphql.HandlerExtension.
func (OneCredentialCheck) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext implements graphql.OperationContextMutator: it
// runs once the document is valid and its operation chosen, before
// execution.
func (OneCredentialCheck) MutateOperationContext(_ context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if rc.Operation == nil {
		return nil
	}
	var found []string
	var walk func(set ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				if credentialFields[s.Name] {
					found = append(found, s.Name)
				}
			case *ast.InlineFragment:
				walk(s.SelectionSet)
			case *ast.FragmentSpread:
				if f := rc.Doc.Fragments.ForName(s.Name); f != nil {
					walk(f.SelectionSet) // valid documents have no cycles
				}
			}
		}
	}
	walk(rc.Operation.SelectionSet)
	if len(found) > 1 {
		return refuse("a request may check one credential; this one selects %d fields that do (%s and %s …): send one per request", len(found), found[0], found[1])
	}
	return nil
}
