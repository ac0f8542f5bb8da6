// Package auth knows who is calling: it turns the credentials of a request
// (the operator secret, and the access tokens of users, developers and machine
// clients) into a Principal, and carries it and the requested project in the
// request context. It does not decide what a principal may do; the service
// package does that with the access-policy engine.
package auth

import (
	"context"
	"net/http"
	"strings"

	"atrium/iam"
)

// Kind is the kind of principal.
type Kind string

// The principal kinds.
const (
	Operator  Kind = "OPERATOR"
	User      Kind = "USER"
	Developer Kind = "DEVELOPER"
	M2MClient Kind = "M2M_CLIENT"
)

// Principal is an authenticated caller.
type Principal struct {
	Kind Kind
	// ID of the user, developer or machine client (empty for the operator).
	ID string
	// ProjectID binds user and machine-client tokens to their project; empty
	// for principals that act across projects (operator, developers).
	ProjectID string
	// CredentialVersion is, for a machine client, the version of the secret
	// its token was issued under (iam.M2MClient.SecretVersion).
	CredentialVersion int64
	// TokenID is the token's jti. A token of a project's OpenID provider
	// names its grant in it, which the service checks is not revoked.
	TokenID string
}

// Request is what the middleware learnt about a request.
type Request struct {
	// ClientAddr is the caller's IP address: the connection's peer (see
	// Authenticator.TrustProxies for callers behind a proxy).
	ClientAddr string
	// Principal is nil for an anonymous request or a rejected credential.
	Principal *Principal
	// Err is set when a credential was sent but is not valid.
	Err error
	// ProjectID is the project named by the project header, if any.
	ProjectID string
}

type requestKey struct{}

// FromContext returns what the middleware put in the context.
func FromContext(ctx context.Context) Request {
	r, _ := ctx.Value(requestKey{}).(Request)
	return r
}

// WithRequest returns ctx carrying r.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// The project headers: the platform's, and its legacy name.
const (
	ProjectHeader       = "X-Oystehr-Project-Id"
	LegacyProjectHeader = "X-Zapehr-Project-Id"
)

// projectFrom reads the project headers; when both are sent they must agree.
func projectFrom(h http.Header) (string, error) {
	a, b := strings.TrimSpace(h.Get(ProjectHeader)), strings.TrimSpace(h.Get(LegacyProjectHeader))
	if a != "" && b != "" && a != b {
		return "", iam.Invalid("x-oystehr-project-id", "the x-oystehr-project-id and x-zapehr-project-id headers name different projects")
	}
	if a != "" {
		return a, nil
	}
	return b, nil
}

// bearer returns the token of an "Authorization: Bearer <token>" header.
func bearer(h http.Header) (token string, sent bool) {
	v := strings.TrimSpace(h.Get("Authorization"))
	if v == "" {
		return "", false
	}
	scheme, token, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", true
	}
	return strings.TrimSpace(token), true
}
