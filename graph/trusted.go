package graph

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"atrium/persisted"
)

// PersistedQueryNotFound is the code of a request refused for not being a
// trusted document: the code Apollo's persisted queries (and gqlgen's
// automatic persisted queries) use for a hash the server does not know.
const PersistedQueryNotFound = "PERSISTED_QUERY_NOT_FOUND"

// TrustedDocuments is a gqlgen extension that runs only the documents of
// a manifest (ATRIUM_TRUSTED_DOCUMENTS). A request names its document by
// its text, whose SHA-256 must be in the manifest, or by that hash alone in
// extensions.persistedQuery.sha256Hash (version 1), or both, when they must
// agree. Anything else, introspection included, is refused with
// PersistedQueryNotFound before it is parsed. It takes the place of
// automatic persisted queries, which would let any document in.
type TrustedDocuments struct {
	Manifest *persisted.Manifest
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = TrustedDocuments{}

// ExtensionName implements graphql.HandlerExtension.
func (TrustedDocuments) ExtensionName() string { return "TrustedDocuments" }

// Validate implements graphql.HandlerExtension.
func (TrustedDocuments) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationParameters implements graphql.OperationParameterMutator: it
// puts the trusted text of a hash in place, or refuses the request.
func (t TrustedDocuments) MutateOperationParameters(_ context.Context, p *graphql.RawParams) *gqlerror.Error {
	hash, err := persistedHash(p.Extensions)
	if err != nil {
		return err
	}
	switch {
	case p.Query == "": // and a hash: the transport refuses a request with neither
		body, ok := t.Manifest.Body(hash)
		if !ok {
			return untrusted("no trusted document has the SHA-256 %q", hash)
		}
		p.Query = body
	case hash != "" && hash != persisted.Hash(p.Query):
		return untrusted("extensions.persistedQuery.sha256Hash is not the SHA-256 of the query")
	default:
		if _, ok := t.Manifest.Body(persisted.Hash(p.Query)); !ok {
			return untrusted("this server runs only trusted documents, and the query is not one (its SHA-256 is %s)", persisted.Hash(p.Query))
		}
	}
	return nil
}

// persistedHash is extensions.persistedQuery.sha256Hash, "" when the
// request has no persistedQuery.
func persistedHash(ext map[string]any) (string, *gqlerror.Error) {
	raw, ok := ext["persistedQuery"]
	if !ok || raw == nil {
		return "", nil
	}
	pq, _ := raw.(map[string]any)
	hash, _ := pq["sha256Hash"].(string)
	// The transport keeps numbers exact (json.Number); either prints as 1.
	if version := pq["version"]; hash == "" || (version != nil && fmt.Sprint(version) != "1") {
		return "", untrusted("extensions.persistedQuery must be {\"version\": 1, \"sha256Hash\": \"<hex>\"}")
	}
	return hash, nil
}

func untrusted(format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	errcode.Set(err, PersistedQueryNotFound)
	return err
}
