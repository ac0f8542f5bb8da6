package provider

// storage is the library's op.Storage over the service's use cases: it
// translates, and decides nothing. It is one concrete type, so that the
// library's optional interfaces (CanSetUserinfoFromRequest,
// CanGetPrivateClaimsFromRequest, CanTerminateSessionFromRequest), found
// by type assertion, are all seen.

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"log/slog"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"atrium/auth"
	"atrium/iam"
	"atrium/service"
)

type storage struct {
	svc  *service.Service
	keys *auth.Keys
	base string // ATRIUM_PUBLIC_URL: the API audience
	log  *slog.Logger
}

var (
	_ op.Storage                        = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*storage)(nil)
	_ op.CanGetPrivateClaimsFromRequest = (*storage)(nil)
	_ op.CanTerminateSessionFromRequest = (*storage)(nil)
)

// oidcError is the protocol's error for a domain error: a refused code or
// refresh token is invalid_grant, bad input invalid_request, an unknown
// client invalid_client; anything else is a server error, logged.
func (s *storage) oidcError(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	e, internal := iam.Public(err)
	switch {
	case internal || e.Code == iam.Internal || e.Code == iam.Unavailable:
		s.log.ErrorContext(ctx, "OpenID provider", "error", err.Error())
		return oidc.ErrServerError().WithDescription("%s", e.Message)
	case e.Code == iam.Unauthenticated:
		return oidc.ErrInvalidGrant().WithDescription("%s", e.Message)
	case e.Code == iam.NotFound && e.Field == "client_id":
		return oidc.ErrInvalidClient().WithDescription("%s", e.Message)
	case e.Code == iam.Forbidden:
		return oidc.ErrAccessDenied().WithDescription("%s", e.Message)
	}
	return oidc.ErrInvalidRequest().WithDescription("%s", e.Message)
}

func (s *storage) CreateAuthRequest(ctx context.Context, r *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	in := &iam.AuthRequest{ClientID: r.ClientID, RedirectURI: r.RedirectURI, State: r.State, Nonce: r.Nonce,
		ResponseType: string(r.ResponseType), ResponseMode: string(r.ResponseMode), Scopes: r.Scopes,
		CodeChallenge: r.CodeChallenge, CodeChallengeMethod: string(r.CodeChallengeMethod), Prompt: r.Prompt, LoginHint: r.LoginHint}
	if r.MaxAge != nil {
		age := int64(*r.MaxAge)
		in.MaxAge = &age
	}
	req, err := s.svc.StartAuthorization(ctx, projectOf(ctx), in)
	if err != nil {
		return nil, s.oidcError(ctx, err)
	}
	return authRequest{req, s.base}, nil
}

func (s *storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	req, err := s.svc.Authorization(ctx, projectOf(ctx), id)
	if err != nil {
		return nil, s.oidcError(ctx, err)
	}
	return authRequest{req, s.base}, nil
}

func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	req, err := s.svc.RedeemCode(ctx, projectOf(ctx), code)
	if err != nil {
		return nil, s.oidcError(ctx, err)
	}
	return authRequest{req, s.base}, nil
}

func (s *storage) SaveAuthCode(ctx context.Context, id, code string) error {
	return s.oidcError(ctx, s.svc.IssueCode(ctx, projectOf(ctx), id, code))
}

// DeleteAuthRequest keeps the request: redeemed, it stays until it
// expires, so that a second exchange of its code revokes what the first
// one issued.
func (s *storage) DeleteAuthRequest(context.Context, string) error { return nil }

// tokenRequest is the service's view of what the library issues tokens for.
func tokenRequest(r op.TokenRequest) service.TokenRequest {
	switch r := r.(type) {
	case authRequest:
		return service.TokenRequest{AuthRequest: r.AuthRequest}
	case *refreshRequest:
		return service.TokenRequest{Grant: r.Grant}
	}
	return service.TokenRequest{}
}

func (s *storage) CreateAccessToken(ctx context.Context, r op.TokenRequest) (string, time.Time, error) {
	out, err := s.svc.IssueTokens(ctx, projectOf(ctx), tokenRequest(r), "", false)
	if err != nil {
		return "", time.Time{}, s.oidcError(ctx, err)
	}
	return out.TokenID, out.ExpiresAt, nil
}

func (s *storage) CreateAccessAndRefreshTokens(ctx context.Context, r op.TokenRequest, current string) (string, string, time.Time, error) {
	out, err := s.svc.IssueTokens(ctx, projectOf(ctx), tokenRequest(r), current, true)
	if err != nil {
		return "", "", time.Time{}, s.oidcError(ctx, err)
	}
	return out.TokenID, out.RefreshToken, out.ExpiresAt, nil
}

func (s *storage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	g, err := s.svc.RefreshGrant(ctx, projectOf(ctx), token)
	if err != nil {
		return nil, s.oidcError(ctx, err)
	}
	return &refreshRequest{Grant: g, scopes: slices.Clone(g.Scopes), api: s.base}, nil
}

// TerminateSession is not reached: TerminateSessionFromRequest serves
// end_session.
func (s *storage) TerminateSession(context.Context, string, string) error { return nil }

// TerminateSessionFromRequest ends the browser's session and returns where
// to send it: the post_logout_redirect_uri, which the service checks
// against the application's allowedLogoutUrls, or the logged-out page.
func (s *storage) TerminateSessionFromRequest(ctx context.Context, r *op.EndSessionRequest) (string, error) {
	rq := requestOf(ctx)
	to, err := s.svc.EndSession(ctx, projectOf(ctx), r.ClientID, rq.postLogoutRedirect, rq.sessionCookie)
	if err != nil {
		return "", s.oidcError(ctx, err)
	}
	if to == "" {
		return issuer(s.base, projectOf(ctx)) + loggedOutPath, nil
	}
	return r.RedirectURI, nil // the checked URI, with the state the library added
}

func (s *storage) RevokeToken(ctx context.Context, token, _, clientID string) *oidc.Error {
	err := s.svc.RevokeToken(ctx, projectOf(ctx), clientID, token)
	if err == nil {
		return nil
	}
	if iam.ErrorCode(err) == iam.Forbidden {
		return oidc.ErrInvalidClient().WithDescription("the token was not issued to this client")
	}
	var oe *oidc.Error
	errors.As(s.oidcError(ctx, err), &oe)
	return oe
}

// GetRefreshTokenInfo names the grant of a refresh token; anything else is
// op.ErrInvalidRefreshToken (the library then tries it as an access token).
func (s *storage) GetRefreshTokenInfo(ctx context.Context, _ string, token string) (string, string, error) {
	g, err := s.svc.RefreshGrant(ctx, projectOf(ctx), token)
	if err != nil {
		if iam.ErrorCode(err) == iam.Unauthenticated {
			return "", "", op.ErrInvalidRefreshToken
		}
		return "", "", s.oidcError(ctx, err)
	}
	return g.UserID, g.ID, nil
}

// signingKey is the project's current key as the library's.
type signingKey struct{ auth.SigningKey }

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.ES256 }
func (k signingKey) Key() any                                    { return k.Private }
func (k signingKey) ID() string                                  { return k.SigningKey.ID }

func (s *storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	k, err := s.keys.Signing(ctx, projectOf(ctx))
	if err != nil {
		return nil, s.oidcError(ctx, err)
	}
	return signingKey{k}, nil
}

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.ES256}, nil
}

// publicKey is a published key as the library's.
type publicKey struct{ jose.JSONWebKey }

func (k publicKey) ID() string { return k.KeyID }
func (k publicKey) Algorithm() jose.SignatureAlgorithm {
	return jose.SignatureAlgorithm(k.JSONWebKey.Algorithm)
}
func (k publicKey) Use() string { return k.JSONWebKey.Use }
func (k publicKey) Key() any    { return k.JSONWebKey.Key }

func (s *storage) KeySet(ctx context.Context) ([]op.Key, error) {
	keys, err := s.keys.Published(ctx, projectOf(ctx))
	if err != nil {
		return nil, s.oidcError(ctx, err)
	}
	out := make([]op.Key, 0, len(keys))
	for _, k := range keys {
		if _, ok := k.Key.(*ecdsa.PublicKey); ok {
			out = append(out, publicKey{k})
		}
	}
	return out, nil
}

func (s *storage) GetClientByClientID(ctx context.Context, clientID string) (op.Client, error) {
	c, err := s.svc.OpenIDClient(ctx, projectOf(ctx), clientID)
	if err != nil {
		return nil, s.oidcError(ctx, err)
	}
	return client{OpenIDClient: c, issuer: issuer(s.base, projectOf(ctx))}, nil
}

func (s *storage) AuthorizeClientIDSecret(ctx context.Context, clientID, secret string) error {
	return oidc.ErrInvalidClient().WithDescription("this application has no client secret; it is a public client and uses PKCE")
}

// SetUserinfoFromScopes is deprecated in the library;
// SetUserinfoFromRequest serves the ID token.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

func (s *storage) SetUserinfoFromRequest(ctx context.Context, ui *oidc.UserInfo, r op.IDTokenRequest, scopes []string) error {
	u, err := s.svc.OpenIDUserOf(ctx, projectOf(ctx), r.GetSubject(), "")
	if err != nil {
		return s.oidcError(ctx, err)
	}
	setClaims(ui, u.User, scopes)
	return nil
}

func (s *storage) SetUserinfoFromToken(ctx context.Context, ui *oidc.UserInfo, tokenID, subject, _ string) error {
	u, err := s.svc.OpenIDUserOf(ctx, projectOf(ctx), subject, tokenID)
	if err != nil {
		return s.oidcError(ctx, err)
	}
	setClaims(ui, u.User, u.Scopes)
	return nil
}

// SetIntrospectionFromToken describes a live access token to the
// application it was issued to; to any other it is inactive.
func (s *storage) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	u, err := s.svc.OpenIDUserOf(ctx, projectOf(ctx), subject, tokenID)
	if err != nil || u.ClientID != clientID {
		return nil // not active
	}
	var ui oidc.UserInfo
	setClaims(&ui, u.User, u.Scopes)
	resp.SetUserInfo(&ui)
	resp.Active, resp.Scope, resp.ClientID = true, u.Scopes, u.ClientID
	resp.Audience = []string{u.ClientID, s.base}
	resp.Claims = map[string]any{"pid": projectOf(ctx)}
	return nil
}

// setClaims puts a user's claims for the scopes in ui.
func setClaims(ui *oidc.UserInfo, u *iam.User, scopes []string) {
	ui.Subject = u.ID
	for _, sc := range scopes {
		switch sc {
		case service.ScopeProfile:
			ui.Name, ui.PreferredUsername = u.Name, u.Email
			ui.UpdatedAt = oidc.FromTime(u.UpdatedAt)
		case service.ScopeEmail:
			ui.Email = u.Email
		case service.ScopeFHIRUser:
			if u.Profile != "" {
				ui.AppendClaims("fhirUser", u.Profile)
			}
		}
	}
}

func (s *storage) GetPrivateClaimsFromScopes(ctx context.Context, _, _ string, _ []string) (map[string]any, error) {
	return privateClaims(ctx), nil
}

// GetPrivateClaimsFromRequest gives the access token the claims every
// Atrium access token carries beside the registered ones: its project and
// its principal's kind, so that GraphQL and REST accept it.
func (s *storage) GetPrivateClaimsFromRequest(ctx context.Context, _ op.TokenRequest, _ []string) (map[string]any, error) {
	return privateClaims(ctx), nil
}

func privateClaims(ctx context.Context) map[string]any {
	return map[string]any{"pid": projectOf(ctx), "kind": string(auth.User)}
}

var errJWTProfile = oidc.ErrUnsupportedGrantType().WithDescription("the JWT profile grant is not supported")

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errJWTProfile
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errJWTProfile
}

func (s *storage) Health(context.Context) error { return nil }
