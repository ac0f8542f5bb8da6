package provider

// The library's views of Atrium's entities: an Application as an op.Client,
// an authorization request as an op.AuthRequest, a grant as an
// op.RefreshTokenRequest. They only read; the rules are the service's.

import (
	"net/url"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"atrium/iam"
	"atrium/service"
)

// client is an application as the library's client.
type client struct {
	*service.OpenIDClient
	issuer string
}

var _ op.Client = client{}

func (c client) GetID() string                    { return c.ClientID }
func (c client) RedirectURIs() []string           { return c.AllowedCallbackURLs }
func (c client) PostLogoutRedirectURIs() []string { return c.AllowedLogoutURLs }

// ApplicationType is web for a confidential client and user agent (an SPA)
// for a public one: both match redirect URIs exactly (a native client's
// loopback URIs would match any port).
func (c client) ApplicationType() op.ApplicationType {
	if c.Confidential {
		return op.ApplicationTypeWeb
	}
	return op.ApplicationTypeUserAgent
}

// AuthMethod is client_secret_basic for a confidential client (the library
// accepts client_secret_post too, Config.AuthMethodPost), none for a public
// one, which the library then holds to PKCE.
func (c client) AuthMethod() oidc.AuthMethod {
	if c.Confidential {
		return oidc.AuthMethodBasic
	}
	return oidc.AuthMethodNone
}

func (c client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}

func (c client) GrantTypes() []oidc.GrantType {
	g := []oidc.GrantType{oidc.GrantTypeCode}
	if c.RefreshTokenEnabled {
		g = append(g, oidc.GrantTypeRefreshToken)
	}
	return g
}

// LoginURL is the hosted login page of the request.
func (c client) LoginURL(id string) string {
	return c.issuer + loginPath + "?authRequest=" + url.QueryEscape(id)
}

func (c client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }
func (c client) IDTokenLifetime() time.Duration      { return service.OpenIDTokenTTL }

// DevMode lets http:// callback URLs registered on the application work
// (local development); redirect URIs still match exactly.
func (c client) DevMode() bool { return true }

func (c client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

func (c client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// IsScopeAllowed admits fhirUser beside the scopes the library knows.
func (c client) IsScopeAllowed(scope string) bool { return scope == service.ScopeFHIRUser }

// IDTokenUserinfoClaimsAssertion puts the scopes' claims (profile, email,
// fhirUser) in the ID token, as SMART on FHIR apps expect.
func (c client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c client) ClockSkew() time.Duration             { return 0 }

// authRequest is a stored authorization request as the library's.
type authRequest struct {
	*iam.AuthRequest
	api string // the API audience
}

var _ op.AuthRequest = authRequest{}

func (a authRequest) GetID() string { return a.ID }
func (a authRequest) GetACR() string {
	return ""
}
func (a authRequest) GetAMR() []string { return a.AMR }

// GetAudience is the client and the API audience: the access token is for
// Atrium's API (GraphQL, REST) as well as for the client.
func (a authRequest) GetAudience() []string { return []string{a.ClientID, a.api} }
func (a authRequest) GetAuthTime() time.Time {
	return a.AuthTime
}
func (a authRequest) GetClientID() string { return a.ClientID }
func (a authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.CodeChallenge, Method: oidc.CodeChallengeMethod(a.CodeChallengeMethod)}
}
func (a authRequest) GetNonce() string                   { return a.Nonce }
func (a authRequest) GetRedirectURI() string             { return a.RedirectURI }
func (a authRequest) GetResponseType() oidc.ResponseType { return oidc.ResponseType(a.ResponseType) }
func (a authRequest) GetResponseMode() oidc.ResponseMode { return oidc.ResponseMode(a.ResponseMode) }
func (a authRequest) GetScopes() []string                { return a.Scopes }
func (a authRequest) GetState() string                   { return a.State }
func (a authRequest) GetSubject() string                 { return a.UserID }
func (a authRequest) Done() bool                         { return a.AuthRequest.Done() }

// refreshRequest is a grant, found by its refresh token, as the library's
// refresh request.
type refreshRequest struct {
	*iam.Grant
	scopes []string
	api    string // the API audience
}

var _ op.RefreshTokenRequest = (*refreshRequest)(nil)

func (g *refreshRequest) GetAMR() []string            { return g.AMR }
func (g *refreshRequest) GetAudience() []string       { return []string{g.ClientID, g.api} }
func (g *refreshRequest) GetAuthTime() time.Time      { return g.AuthTime }
func (g *refreshRequest) GetClientID() string         { return g.ClientID }
func (g *refreshRequest) GetScopes() []string         { return g.scopes }
func (g *refreshRequest) GetSubject() string          { return g.UserID }
func (g *refreshRequest) SetCurrentScopes(s []string) { g.scopes = slices.Clone(s) }
