package service

// The browser's sign-in through an SSO connection, on the hosted login
// page: StartSSOSignIn sends the browser to the connection's upstream
// OpenID provider with a state, a nonce and a PKCE (S256) challenge, kept
// server-side in an SSO flow bound to the project, the connection, the
// authorization request and the browser (a secret it holds in a cookie);
// FinishSSOSignIn takes that flow (once) when the browser comes back,
// has the relying party exchange the code and verify the ID token against
// them, and signs the user in with ssoSignIn: a browser session and the
// authorization request done, or the application's second factor next.
// The protocol itself is the Federation's (package federation), a port the
// service is given, like its SMS sender.

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"time"
	"unicode"

	"atrium/auth"
	"atrium/iam"
	"atrium/store"
)

// Federation is the relying party of the SSO connections.
type Federation interface {
	// AuthURL is where the browser signs in at the upstream provider.
	AuthURL(ctx context.Context, up Upstream, state, nonce, codeChallenge string) (string, error)
	// Exchange swaps an authorization code (with its PKCE verifier) for
	// the upstream's tokens and returns the claims of its ID token once
	// verified: signature, issuer, audience, expiry and nonce. An upstream
	// that does not answer is ErrUpstreamUnavailable.
	Exchange(ctx context.Context, up Upstream, code, codeVerifier, nonce string) (map[string]any, error)
}

// Upstream is an SSO connection as its relying party needs it.
type Upstream struct {
	ConnectionID string
	// Version changes whenever the connection does (what the relying
	// party caches of the upstream is keyed by both).
	Version      int64
	Issuer       string
	ClientID     string
	ClientSecret string // "" for a public client (PKCE only)
	Scopes       []string
	// RedirectURI is the project's SSO callback.
	RedirectURI string
}

// ErrUpstreamUnavailable is the Federation's answer when the upstream
// provider does not answer, or not in time.
var ErrUpstreamUnavailable = errors.New("the identity provider did not answer")

// SSOCallbackPath is where, under a project's issuer, every connection's
// upstream sends the browser back: the redirect URI to register at the
// identity provider. It sits beside the login page, so that a page shown
// there (a second factor's step) posts to the login page as it does.
const SSOCallbackPath = "/sso-callback"

const (
	// ssoFlowTTL is how long a browser may take at the upstream provider.
	ssoFlowTTL = 10 * time.Minute
	// upstreamTimeout bounds each call to an upstream provider.
	upstreamTimeout = 10 * time.Second
)

// SSOCallbackURL is the redirect URI of a project's SSO connections.
func (s *Service) SSOCallbackURL(projectID string) string {
	return strings.TrimRight(s.publicURL, "/") + "/p/" + projectID + SSOCallbackPath
}

// SSOOption is a connection as the login page offers it (LoginOptions).
type SSOOption struct{ ID, Name string }

// SSOStart is where StartSSOSignIn sends the browser, and the secret the
// browser must keep (in a cookie) to finish the sign-in.
type SSOStart struct {
	URL     string
	Browser string
}

// StartSSOSignIn begins a sign-in through one of the project's connections
// for an authorization request: it keeps the flow's state, nonce and PKCE
// verifier and returns the upstream's authorization URL. browser is the
// secret the browser already holds, if any (a new one otherwise); the
// flow is bound to it.
func (s *Service) StartSSOSignIn(ctx context.Context, projectID, connectionID, authRequestID, browser string) (_ *SSOStart, err error) {
	_, op, err := s.begin(ctx, ucStartSsoSignIn, "")
	defer op.end(&err)
	t, r, _, err := s.loginRequest(ctx, op, projectID, authRequestID)
	if err != nil {
		return nil, err
	}
	conn, err := s.projectSSOConnection(ctx, projectID, connectionID)
	if err != nil {
		return nil, err
	}
	op.target(conn.ID)
	up, err := s.upstream(conn)
	if err != nil {
		return nil, err
	}
	if len(browser) != len(auth.NewSecret()) {
		browser = auth.NewSecret()
	}
	state, stateHash := auth.NewTicket()
	nonce, verifier := auth.NewSecret(), auth.NewSecret()
	sum := sha256.Sum256([]byte(verifier))
	callCtx, cancel := context.WithTimeout(ctx, upstreamTimeout)
	defer cancel()
	to, err := s.federation.AuthURL(callCtx, up, state, nonce, base64.RawURLEncoding.EncodeToString(sum[:]))
	if err != nil {
		return nil, s.upstreamError(ctx, conn, err)
	}
	expires := s.now().Add(ssoFlowTTL).Truncate(time.Millisecond)
	if r.ExpiresAt.Before(expires) {
		expires = r.ExpiresAt
	}
	f := &iam.SSOFlow{ID: stateHash, ConnectionID: conn.ID, AuthRequestID: r.ID, Nonce: nonce, CodeVerifier: verifier,
		BrowserHash: auth.HashSecret(browser), ExpiresAt: expires}
	if err := t.SSOFlows().Insert(ctx, f); err != nil {
		return nil, err
	}
	return &SSOStart{URL: to, Browser: browser}, nil
}

// SSOCallback is what the upstream provider sends the browser back with.
type SSOCallback struct {
	State, Code string
	// Error and ErrorDescription are the upstream's refusal (RFC 6749
	// §4.1.2.1), if any.
	Error, ErrorDescription string
	// Browser is the secret of the browser that came back.
	Browser string
}

// errSSOState is the answer for a state that names no flow in progress.
var errSSOState = &iam.Error{Code: iam.Unauthenticated, Field: "state",
	Message: "this single sign-on is unknown, expired or finished already; go back to the application and start again"}

// FinishSSOSignIn ends a sign-in StartSSOSignIn began: the state must name
// a flow of the project in progress, started by this browser; it is used
// up. The upstream's code is exchanged and its ID token verified against
// the flow's nonce and PKCE verifier, then ssoSignIn finds, links or
// creates the user. The login is done (a browser session began) unless the
// application asks for a second factor (Step).
func (s *Service) FinishSSOSignIn(ctx context.Context, projectID string, cb SSOCallback) (_ *Login, err error) {
	_, op, err := s.begin(ctx, ucFinishSsoSignIn, "")
	defer op.end(&err)
	t, _, err := s.openIDTenant(ctx, op, projectID)
	if err != nil {
		return nil, err
	}
	f, err := s.takeSSOFlow(ctx, t, cb.State, cb.Browser)
	if err != nil {
		return nil, err
	}
	r, err := s.authRequest(ctx, t, f.AuthRequestID)
	if err != nil {
		return nil, err
	}
	c, err := s.openIDClient(ctx, t, r.ClientID)
	if err != nil {
		return nil, err
	}
	conn, err := s.projectSSOConnection(ctx, projectID, f.ConnectionID)
	if err != nil {
		return nil, err
	}
	if cb.Error != "" {
		why := upstreamText(cb.Error, 64)
		if d := upstreamText(cb.ErrorDescription, 200); d != "" {
			why += ": " + d
		}
		return nil, iam.Errorf(iam.Unauthenticated, "the identity provider %q refused the sign-in (%s)", conn.Name, why)
	}
	if cb.Code == "" {
		return nil, iam.Invalid("code", "the identity provider sent no code")
	}
	up, err := s.upstream(conn)
	if err != nil {
		return nil, err
	}
	callCtx, cancel := context.WithTimeout(ctx, upstreamTimeout)
	defer cancel()
	claims, err := s.federation.Exchange(callCtx, up, cb.Code, f.CodeVerifier, f.Nonce)
	if err != nil {
		return nil, s.upstreamError(ctx, conn, err)
	}
	st, err := s.ssoSignIn(ctx, op, conn.ID, c.ID, claims)
	if err != nil {
		return nil, err
	}
	op.actor(auth.User, st.User.ID)
	if st.Next != SignInDone {
		return &Login{Request: r, Client: c, Step: st}, nil
	}
	return s.beginBrowserSession(ctx, t, r, c, st.User.ID, st.AMR)
}

// takeSSOFlow uses up the flow a state names, for the browser that
// started it; a flow started by another browser is left alone.
func (s *Service) takeSSOFlow(ctx context.Context, t *store.Tenant, state, browser string) (*iam.SSOFlow, error) {
	if state == "" {
		return nil, errSSOState
	}
	f, err := t.SSOFlows().Get(ctx, auth.HashSecret(state))
	if errors.Is(err, store.ErrNotFound) {
		return nil, errSSOState
	}
	if err != nil {
		return nil, err
	}
	if !auth.SecretMatches(browser, f.BrowserHash) {
		return nil, &iam.Error{Code: iam.Forbidden, Field: "state",
			Message: "this single sign-on was started in another browser; go back to the application and start again"}
	}
	if err := t.SSOFlows().Delete(ctx, f.ID); errors.Is(err, store.ErrNotFound) {
		return nil, errSSOState // used at the same moment
	} else if err != nil {
		return nil, err
	}
	if !s.now().Before(f.ExpiresAt) {
		return nil, errSSOState
	}
	return f, nil
}

// projectSSOConnection is one of the project's connections; another
// project's, or one deleted, is not found.
func (s *Service) projectSSOConnection(ctx context.Context, projectID, id string) (*iam.SSOConnection, error) {
	if id == "" {
		return nil, notFound("SSO connection", id, "connectionId")
	}
	conn, err := s.db.SSOConnection(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && conn.ProjectID != projectID) {
		return nil, notFound("SSO connection", id, "connectionId")
	}
	return conn, err
}

// upstream is what the relying party needs of a connection, its secret
// unsealed.
func (s *Service) upstream(conn *iam.SSOConnection) (Upstream, error) {
	up := Upstream{ConnectionID: conn.ID, Version: conn.Version, Issuer: conn.Issuer, ClientID: conn.ClientID,
		Scopes: conn.Scopes, RedirectURI: s.SSOCallbackURL(conn.ProjectID)}
	if s.federation == nil {
		return up, iam.Errorf(iam.Unavailable, "single sign-on is not available on this server")
	}
	if len(conn.ClientSecret) > 0 {
		secret, err := s.sealer.Open(sealSSOSecret(conn.ID), conn.ClientSecret)
		if err != nil {
			return up, err
		}
		up.ClientSecret = string(secret)
	}
	return up, nil
}

// upstreamError is the answer for a Federation's error; its detail (never
// a code or secret: the Federation's errors hold none) goes to the log.
func (s *Service) upstreamError(ctx context.Context, conn *iam.SSOConnection, err error) error {
	s.log.WarnContext(ctx, "SSO connection", "connection", conn.ID, "issuer", conn.Issuer, "error", err.Error())
	if errors.Is(err, ErrUpstreamUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		return iam.Errorf(iam.Unavailable, "the identity provider %q did not answer; try again later", conn.Name)
	}
	return iam.Errorf(iam.Unauthenticated, "the sign-in at %q could not be verified; go back to the application and start again", conn.Name)
}

// upstreamText is at most n runes of an upstream's error text, without
// control characters, for the page.
func upstreamText(s string, n int) string {
	var b strings.Builder
	for _, r := range s {
		if n == 0 {
			break
		}
		if unicode.IsPrint(r) {
			b.WriteRune(r)
			n--
		}
	}
	return strings.TrimSpace(b.String())
}
