package service

// The use cases of the project's OpenID provider (package provider serves
// them over the protocol): the project and its applications as issuer and
// clients, authorization requests, the login (first factor and browser
// sessions, with prompt and max_age), single-use codes, grants with their
// rotating refresh-token families, revocation and logout. The provider
// authenticates clients itself (through VerifyApplicationSecret and PKCE),
// so these use cases are public; each names the project it acts in and
// finds nothing of another project.

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"atrium/auth"
	"atrium/iam"
	"atrium/store"
)

// How long the provider's records last.
const (
	// AuthRequestTTL is the time from /authorize to the code's exchange.
	AuthRequestTTL = 10 * time.Minute
	// codeTTL is how long an issued code may be exchanged.
	codeTTL = time.Minute
	// BrowserSessionTTL is how long a login is remembered in a browser.
	BrowserSessionTTL = 12 * time.Hour
	// grantTTL is how long a refresh-token family lives without a new login.
	grantTTL = 30 * 24 * time.Hour
	// OpenIDTokenTTL is the lifetime of the provider's access and ID tokens.
	OpenIDTokenTTL = 15 * time.Minute
)

// The scopes the provider knows.
const (
	ScopeOpenID        = "openid"
	ScopeProfile       = "profile"
	ScopeEmail         = "email"
	ScopeOfflineAccess = "offline_access"
	// ScopeFHIRUser asks for the fhirUser claim (SMART on FHIR): the
	// user's profile resource, e.g. Practitioner/<id>.
	ScopeFHIRUser = "fhirUser"
)

// OpenIDScopes are the scopes an application may ask for.
var OpenIDScopes = []string{ScopeOpenID, ScopeProfile, ScopeEmail, ScopeOfflineAccess, ScopeFHIRUser}

// ErrLoginRequired answers a request that needs the user to log in (again):
// no usable browser session, prompt=login or an exceeded max_age.
var ErrLoginRequired = iam.Errorf(iam.Unauthenticated, "the user must log in")

// errGrant is the answer for a code or refresh token that is unknown,
// expired, used or revoked; it says no more.
var errGrant = iam.Errorf(iam.Unauthenticated, "the code or refresh token is not valid (unknown, expired, used or revoked)")

// OpenIDClient is an application as the OpenID provider sees it.
type OpenIDClient struct {
	*iam.Application
	// Confidential clients authenticate with their secret; the others are
	// public and must use PKCE (S256).
	Confidential bool
}

// sweepOpenID deletes the provider's expired records: grants and browser
// sessions once expired, authorization requests AuthRequestTTL after they
// expired (a redeemed one is kept that long, so that its code's reuse
// still revokes what it issued).
func (s *Service) sweepOpenID(ctx context.Context) error {
	now := s.now()
	_, err := s.db.SweepOpenID(ctx, now, now.Add(-AuthRequestTTL))
	return err
}

// openIDTenant is the tenant of a project that exists.
func (s *Service) openIDTenant(ctx context.Context, op *op, projectID string) (*store.Tenant, *iam.Project, error) {
	if projectID == "" {
		return nil, nil, projectNotFound(projectID)
	}
	t := s.db.Tenant(projectID)
	p, err := t.Project(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, projectNotFound(projectID)
	}
	if err != nil {
		return nil, nil, err
	}
	op.inProject(p.ID)
	return t, p, nil
}

// OpenIDProvider returns the project whose provider a request reaches, or
// NOT_FOUND for an unknown or deleted one.
func (s *Service) OpenIDProvider(ctx context.Context, projectID string) (_ *iam.Project, err error) {
	_, op, err := s.begin(ctx, ucOpenIDProvider, "")
	defer op.end(&err)
	_, p, err := s.openIDTenant(ctx, op, projectID)
	return p, err
}

// LoginOptions is what a project's login page offers whatever the
// application: self-registration, and the project's SSO connections.
type LoginOptions struct {
	SignupEnabled bool
	// SSO are the connections, "Continue with <name>", by name.
	SSO []SSOOption
}

// LoginOptions reads, for a login page, the project once and its SSO
// connections.
func (s *Service) LoginOptions(ctx context.Context, projectID string) (_ *LoginOptions, err error) {
	_, op, err := s.begin(ctx, ucLoginOptions, "")
	defer op.end(&err)
	t, p, err := s.openIDTenant(ctx, op, projectID)
	if err != nil {
		return nil, err
	}
	conns, err := t.ListSSOConnections(ctx)
	if err != nil {
		return nil, err
	}
	out := &LoginOptions{SignupEnabled: p.SignupEnabled, SSO: make([]SSOOption, len(conns))}
	for i, c := range conns {
		out.SSO[i] = SSOOption{ID: c.ID, Name: c.Name}
	}
	return out, nil
}

// OpenIDClient returns the project's application with the client id.
func (s *Service) OpenIDClient(ctx context.Context, projectID, clientID string) (_ *OpenIDClient, err error) {
	_, op, err := s.begin(ctx, ucOpenIDClient, "")
	defer op.end(&err)
	t, _, err := s.openIDTenant(ctx, op, projectID)
	if err != nil {
		return nil, err
	}
	return s.openIDClient(ctx, t, clientID)
}

func (s *Service) openIDClient(ctx context.Context, t *store.Tenant, clientID string) (*OpenIDClient, error) {
	if clientID == "" {
		return nil, iam.Invalid("client_id", "is required")
	}
	app, err := t.ApplicationByClientID(ctx, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &iam.Error{Code: iam.NotFound, Message: "no application of this project has this client_id", Field: "client_id"}
	}
	if err != nil {
		return nil, err
	}
	return &OpenIDClient{Application: app, Confidential: app.Confidential()}, nil
}

// ProjectOriginAllowed reports whether one of the project's applications
// lets origin call its OpenID endpoints from a browser (its
// allowedCORSOriginsUrls or allowedWebOriginsUrls).
func (s *Service) ProjectOriginAllowed(ctx context.Context, projectID, origin string) bool {
	apps, err := s.db.Tenant(projectID).ListApplications(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "loading a project's application origins", "error", err.Error())
		return false
	}
	return slices.ContainsFunc(apps, func(a iam.Application) bool {
		return slices.Contains(a.AllowedCORSOriginsURLs, origin) || slices.Contains(a.AllowedWebOriginsURLs, origin)
	})
}

// StartAuthorization stores an authorization request the provider has
// checked against its client (redirect URI, scopes, response type). A
// public client must send a PKCE S256 challenge.
func (s *Service) StartAuthorization(ctx context.Context, projectID string, req *iam.AuthRequest) (_ *iam.AuthRequest, err error) {
	_, op, err := s.begin(ctx, ucStartAuthorization, "")
	defer op.end(&err)
	t, _, err := s.openIDTenant(ctx, op, projectID)
	if err != nil {
		return nil, err
	}
	c, err := s.openIDClient(ctx, t, req.ClientID)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(c.AllowedCallbackURLs, req.RedirectURI) {
		return nil, iam.Invalid("redirect_uri", "is not one of the application's allowedCallbackUrls")
	}
	if !c.Confidential && (req.CodeChallenge == "" || req.CodeChallengeMethod != "S256") {
		return nil, iam.Invalid("code_challenge", "a public client must send a PKCE code_challenge with code_challenge_method S256")
	}
	r := *req
	r.ID, r.ProjectID = uuid.NewString(), projectID
	r.UserID, r.SessionID, r.AMR, r.CodeHash, r.Redeemed, r.GrantID = "", "", nil, "", false, ""
	r.ExpiresAt = s.now().Add(AuthRequestTTL).Truncate(time.Millisecond)
	if err := t.AuthRequests().Insert(ctx, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Authorization returns an authorization request that has not expired.
func (s *Service) Authorization(ctx context.Context, projectID, id string) (_ *iam.AuthRequest, err error) {
	_, op, err := s.begin(ctx, ucAuthorization, "")
	defer op.end(&err)
	t, _, err := s.openIDTenant(ctx, op, projectID)
	if err != nil {
		return nil, err
	}
	return s.authRequest(ctx, t, id)
}

var errAuthRequest = &iam.Error{Code: iam.NotFound, Message: "this login request is unknown or has expired; go back to the application and start again", Field: "authRequest"}

func (s *Service) authRequest(ctx context.Context, t *store.Tenant, id string) (*iam.AuthRequest, error) {
	if id == "" {
		return nil, errAuthRequest
	}
	r, err := t.AuthRequests().Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !s.now().Before(r.ExpiresAt)) {
		return nil, errAuthRequest
	}
	return r, err
}

// Login is what a login gives: the request, now done, and the browser
// session's cookie value when a new session began.
type Login struct {
	Request *iam.AuthRequest
	Client  *OpenIDClient
	// Cookie is the new browser session's secret ("" when none began).
	Cookie string
	// Step is the second factor the application asks for (mfaEnabled):
	// the login goes on with LogInSecondFactor; no session began yet.
	Step *LoginStep
}

// LogIn checks a user's email and password for an authorization request
// (the hosted login page), under the sign-in throttle, and begins a
// browser session.
func (s *Service) LogIn(ctx context.Context, projectID, authRequestID, email, password string) (_ *Login, err error) {
	_, op, err := s.begin(ctx, ucLogIn, "")
	defer op.end(&err)
	t, r, c, err := s.loginRequest(ctx, op, projectID, authRequestID)
	if err != nil {
		return nil, err
	}
	if !c.LoginWithEmailEnabled {
		return nil, iam.Errorf(iam.Forbidden, "email and password sign-in is turned off for application %q", c.Name)
	}
	u, err := s.checkUserPassword(ctx, op, projectID, email, password)
	if err != nil {
		return nil, err
	}
	if c.MFAEnabled {
		st, err := s.step(ctx, t, c.Application, u, []string{AMRPassword})
		if err != nil {
			return nil, err
		}
		return &Login{Request: r, Client: c, Step: st}, nil
	}
	return s.beginBrowserSession(ctx, t, r, c, u.ID, []string{AMRPassword})
}

// loginRequest reads the authorization request a login form posts, and
// its client.
func (s *Service) loginRequest(ctx context.Context, op *op, projectID, authRequestID string) (*store.Tenant, *iam.AuthRequest, *OpenIDClient, error) {
	t, _, err := s.openIDTenant(ctx, op, projectID)
	if err != nil {
		return nil, nil, nil, err
	}
	r, err := s.authRequest(ctx, t, authRequestID)
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := s.openIDClient(ctx, t, r.ClientID)
	if err != nil {
		return nil, nil, nil, err
	}
	return t, r, c, nil
}

// beginBrowserSession begins a browser session of a user who logged in
// with the factors amr, and completes the authorization request with it.
func (s *Service) beginBrowserSession(ctx context.Context, t *store.Tenant, r *iam.AuthRequest, c *OpenIDClient, userID string, amr []string) (*Login, error) {
	secret, hash := auth.NewTicket()
	now := s.now().Truncate(time.Millisecond)
	bs := &iam.BrowserSession{ID: uuid.NewString(), UserID: userID, SecretHash: hash, AuthTime: now, AMR: amr, ExpiresAt: now.Add(BrowserSessionTTL)}
	if err := t.BrowserSessions().Insert(ctx, bs); err != nil {
		return nil, err
	}
	r, err := s.completeAuthRequest(ctx, t, r.ID, bs)
	if err != nil {
		return nil, err
	}
	return &Login{Request: r, Client: c, Cookie: bs.ID + "." + secret}, nil
}

// ResumeSession completes an authorization request with the browser's
// session, when it has one that the request accepts: not ended or expired,
// its user active, no prompt=login, and younger than the request's
// max_age. Otherwise it answers ErrLoginRequired.
func (s *Service) ResumeSession(ctx context.Context, projectID, authRequestID, cookie string) (_ *Login, err error) {
	_, op, err := s.begin(ctx, ucResumeSession, "")
	defer op.end(&err)
	t, _, err := s.openIDTenant(ctx, op, projectID)
	if err != nil {
		return nil, err
	}
	r, err := s.authRequest(ctx, t, authRequestID)
	if err != nil {
		return nil, err
	}
	c, err := s.openIDClient(ctx, t, r.ClientID)
	if err != nil {
		return nil, err
	}
	if slices.Contains(r.Prompt, "login") {
		return nil, ErrLoginRequired
	}
	bs, err := s.browserSession(ctx, t, cookie)
	if err != nil {
		return nil, err
	}
	if r.MaxAge != nil && s.now().Sub(bs.AuthTime) > time.Duration(*r.MaxAge)*time.Second {
		return nil, ErrLoginRequired
	}
	if c.MFAEnabled && !slices.Contains(bs.AMR, AMRMFA) {
		return nil, ErrLoginRequired // a session of one factor does not do for this application
	}
	if _, err := s.activeUser(ctx, projectID, bs.UserID); err != nil {
		return nil, ErrLoginRequired
	}
	r, err = s.completeAuthRequest(ctx, t, r.ID, bs)
	if err != nil {
		return nil, err
	}
	return &Login{Request: r, Client: c}, nil
}

// browserSession is the live session a cookie names, or ErrLoginRequired.
func (s *Service) browserSession(ctx context.Context, t *store.Tenant, cookie string) (*iam.BrowserSession, error) {
	id, secret, ok := strings.Cut(cookie, ".")
	if !ok || id == "" {
		return nil, ErrLoginRequired
	}
	bs, err := t.BrowserSessions().Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrLoginRequired
	}
	if err != nil {
		return nil, err
	}
	if bs.Ended || !s.now().Before(bs.ExpiresAt) || !auth.SecretMatches(secret, bs.SecretHash) {
		return nil, ErrLoginRequired
	}
	return bs, nil
}

// completeAuthRequest marks a request done by the session's user.
func (s *Service) completeAuthRequest(ctx context.Context, t *store.Tenant, id string, bs *iam.BrowserSession) (*iam.AuthRequest, error) {
	r, err := t.AuthRequests().Update(ctx, id, 0, func(r *iam.AuthRequest) error {
		if r.CodeHash != "" {
			return errAuthRequest // a code was issued already: start again
		}
		r.UserID, r.AuthTime, r.AMR, r.SessionID = bs.UserID, bs.AuthTime, bs.AMR, bs.ID
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, errAuthRequest
	}
	return r, err
}

// IssueCode records the code the provider issues for a done request; the
// browser that completed the login must be the one that asks (sessionID
// is its session's id).
func (s *Service) IssueCode(ctx context.Context, projectID, authRequestID, code string) (err error) {
	_, op, err := s.begin(ctx, ucIssueCode, "")
	defer op.end(&err)
	t, _, err := s.openIDTenant(ctx, op, projectID)
	if err != nil {
		return err
	}
	_, err = t.AuthRequests().Update(ctx, authRequestID, 0, func(r *iam.AuthRequest) error {
		if !r.Done() || r.CodeHash != "" || !s.now().Before(r.ExpiresAt) {
			return errAuthRequest
		}
		r.CodeHash = auth.HashSecret(code)
		if exp := s.now().Add(codeTTL).Truncate(time.Millisecond); exp.Before(r.ExpiresAt) {
			r.ExpiresAt = exp
		}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return errAuthRequest
	}
	return err
}

// RedeemCode exchanges a code, once: the first exchange marks its request
// redeemed and names the grant it is to issue; any later one finds it so,
// revokes that grant (and every token issued from it) and fails.
func (s *Service) RedeemCode(ctx context.Context, projectID, code string) (_ *iam.AuthRequest, err error) {
	_, op, err := s.begin(ctx, ucRedeemCode, "")
	defer op.end(&err)
	t, _, err := s.openIDTenant(ctx, op, projectID)
	if err != nil {
		return nil, err
	}
	if code == "" {
		return nil, errGrant
	}
	found, err := t.AuthRequestByCodeHash(ctx, auth.HashSecret(code))
	if errors.Is(err, store.ErrNotFound) {
		return nil, errGrant
	}
	if err != nil {
		return nil, err
	}
	var reused string
	r, err := t.AuthRequests().Update(ctx, found.ID, 0, func(r *iam.AuthRequest) error {
		if r.Redeemed {
			reused = r.GrantID
			return errGrant
		}
		if !s.now().Before(r.ExpiresAt) {
			return errGrant
		}
		r.Redeemed, r.GrantID = true, uuid.NewString()
		return nil
	})
	if reused != "" {
		if rerr := s.revokeGrant(ctx, t, reused); rerr != nil {
			return nil, rerr
		}
		s.log.WarnContext(ctx, "a code was used twice: the tokens issued from it are revoked", "project", projectID, "grant", reused)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, errGrant
	}
	return r, err
}

// TokenRequest is what the provider issues tokens for: a redeemed
// authorization request (the code flow) or a grant (a refresh).
type TokenRequest struct {
	AuthRequest *iam.AuthRequest
	Grant       *iam.Grant
}

// Issued is what IssueTokens gives: the access token's id (its jti, which
// names the grant), the new refresh token if any, and the access token's
// expiry.
type Issued struct {
	TokenID      string
	RefreshToken string
	ExpiresAt    time.Time
}

// IssueTokens issues an access token for a redeemed code or a grant, and,
// when withRefresh, a refresh token. From a code it creates the grant (a
// refresh token only if the application has refreshTokenEnabled); from a
// grant it rotates the family: currentRefresh must be the family's current
// token, else the whole family is revoked.
func (s *Service) IssueTokens(ctx context.Context, projectID string, req TokenRequest, currentRefresh string, withRefresh bool) (_ *Issued, err error) {
	_, op, err := s.begin(ctx, ucIssueTokens, "")
	defer op.end(&err)
	t, _, err := s.openIDTenant(ctx, op, projectID)
	if err != nil {
		return nil, err
	}
	now := s.now().Truncate(time.Millisecond)
	var g *iam.Grant
	var refresh string
	switch {
	case req.AuthRequest != nil:
		r := req.AuthRequest
		if !r.Redeemed || r.GrantID == "" || r.UserID == "" {
			return nil, errGrant
		}
		c, err := s.openIDClient(ctx, t, r.ClientID)
		if err != nil {
			return nil, err
		}
		g = &iam.Grant{ID: r.GrantID, ClientID: r.ClientID, UserID: r.UserID, Scopes: r.Scopes, AuthTime: r.AuthTime, AMR: r.AMR,
			SessionID: r.SessionID, ExpiresAt: now.Add(grantTTL)}
		if withRefresh && c.RefreshTokenEnabled && slices.Contains(r.Scopes, ScopeOfflineAccess) {
			var hash string
			refresh, hash = newRefreshToken(g.ID)
			g.RefreshHash = hash
		}
		if err := t.Grants().Insert(ctx, g); err != nil {
			if errors.Is(err, store.ErrDuplicate) {
				return nil, errGrant
			}
			return nil, err
		}
	case req.Grant != nil:
		if !withRefresh {
			g, err = s.liveGrant(ctx, t, req.Grant.ID)
			break
		}
		g, refresh, err = s.rotate(ctx, t, currentRefresh)
	default:
		return nil, errGrant
	}
	if err != nil {
		return nil, err
	}
	if _, err := s.activeUser(ctx, projectID, g.UserID); err != nil {
		return nil, err
	}
	return &Issued{TokenID: g.ID + "." + uuid.NewString(), RefreshToken: refresh, ExpiresAt: now.Add(OpenIDTokenTTL)}, nil
}

// newRefreshToken is a refresh token of a grant's family and its hash: the
// grant's id, a dot, and a secret.
func newRefreshToken(grantID string) (token, hash string) {
	secret, hash := auth.NewTicket()
	return grantID + "." + secret, hash
}

// rotate replaces the family's current refresh token with a new one. A
// token of the family that is not the current one (used already) revokes
// the family.
func (s *Service) rotate(ctx context.Context, t *store.Tenant, token string) (*iam.Grant, string, error) {
	grantID, secret, ok := strings.Cut(token, ".")
	if !ok {
		return nil, "", errGrant
	}
	next, hash := newRefreshToken(grantID)
	reused := false
	g, err := t.Grants().Update(ctx, grantID, 0, func(g *iam.Grant) error {
		switch {
		case g.Revoked || !s.now().Before(g.ExpiresAt) || g.RefreshHash == "":
			return errGrant
		case !auth.SecretMatches(secret, g.RefreshHash):
			reused = true
			return errGrant
		}
		g.RefreshHash = hash
		return nil
	})
	if reused {
		if rerr := s.revokeGrant(ctx, t, grantID); rerr != nil {
			return nil, "", rerr
		}
		s.log.WarnContext(ctx, "a refresh token was used twice: its family is revoked", "project", t.ProjectID(), "grant", grantID)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", errGrant
	}
	if err != nil {
		return nil, "", err
	}
	return g, next, nil
}

// RefreshGrant returns the grant of a refresh token that may be used: the
// family's current token, of a grant neither revoked nor expired, whose
// user is active. A token of the family that was used already revokes the
// family.
func (s *Service) RefreshGrant(ctx context.Context, projectID, token string) (_ *iam.Grant, err error) {
	_, op, err := s.begin(ctx, ucRefreshGrant, "")
	defer op.end(&err)
	t, _, err := s.openIDTenant(ctx, op, projectID)
	if err != nil {
		return nil, err
	}
	grantID, secret, ok := strings.Cut(token, ".")
	if !ok {
		return nil, errGrant
	}
	g, err := s.liveGrant(ctx, t, grantID)
	if err != nil {
		return nil, err
	}
	if g.RefreshHash == "" {
		return nil, errGrant
	}
	if !auth.SecretMatches(secret, g.RefreshHash) {
		if err := s.revokeGrant(ctx, t, grantID); err != nil {
			return nil, err
		}
		s.log.WarnContext(ctx, "a refresh token was used twice: its family is revoked", "project", projectID, "grant", grantID)
		return nil, errGrant
	}
	if _, err := s.activeUser(ctx, projectID, g.UserID); err != nil {
		return nil, errGrant
	}
	return g, nil
}

// liveGrant is a grant neither revoked nor expired.
func (s *Service) liveGrant(ctx context.Context, t *store.Tenant, id string) (*iam.Grant, error) {
	g, err := t.Grants().Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errGrant
	}
	if err != nil {
		return nil, err
	}
	if g.Revoked || !s.now().Before(g.ExpiresAt) {
		return nil, errGrant
	}
	return g, nil
}

// revokeGrant ends a grant: its refresh token and the access tokens issued
// from it stop working.
func (s *Service) revokeGrant(ctx context.Context, t *store.Tenant, id string) error {
	_, err := t.Grants().Update(ctx, id, 0, func(g *iam.Grant) error {
		g.Revoked, g.RefreshHash = true, ""
		return nil
	})
	return ignoreNotFound(err)
}

// grantLive refuses a user's access token issued by the project's OpenID
// provider (its jti names a grant: "<grantId>.<n>") once the grant is
// revoked or expired, so that a revocation ends it at GraphQL and REST too.
func (s *Service) grantLive(ctx context.Context, p *auth.Principal) error {
	grantID, _, ok := strings.Cut(p.TokenID, ".")
	if p.Kind != auth.User || !ok {
		return nil
	}
	g, err := s.liveGrant(ctx, s.db.Tenant(p.ProjectID), grantID)
	if err == nil && g.UserID != p.ID {
		err = errGrant
	}
	if iam.ErrorCode(err) == iam.Unauthenticated {
		return iam.Errorf(iam.Unauthenticated, "the access token is revoked")
	}
	return err
}

// grantOfToken is the grant id a token id (an access token's jti) or a
// refresh token names.
func grantOfToken(token string) string {
	id, _, _ := strings.Cut(token, ".")
	return id
}

// OpenIDUser is what the provider says about a user: its claims.
type OpenIDUser struct {
	User *iam.User
	// Scopes are the grant's scopes, when the user was found through one.
	Scopes []string
	// ClientID is the grant's application, when found through one.
	ClientID string
}

// OpenIDUserOf returns an active user of the project; with a tokenID (an
// access token's jti) the grant it names must be live and the user's.
func (s *Service) OpenIDUserOf(ctx context.Context, projectID, userID, tokenID string) (_ *OpenIDUser, err error) {
	_, op, err := s.begin(ctx, ucOpenIDUser, "")
	defer op.end(&err)
	if _, _, err := s.openIDTenant(ctx, op, projectID); err != nil {
		return nil, err
	}
	out := &OpenIDUser{}
	if tokenID != "" {
		g, err := s.liveGrant(ctx, s.db.Tenant(projectID), grantOfToken(tokenID))
		if err != nil {
			return nil, err
		}
		if userID != "" && g.UserID != userID {
			return nil, errGrant
		}
		userID, out.Scopes, out.ClientID = g.UserID, g.Scopes, g.ClientID
	}
	out.User, err = s.activeUser(ctx, projectID, userID)
	return out, err
}

// RevokeToken revokes, for the application with clientID, the grant a
// token (an access token's jti, or a refresh token) names: its refresh
// token and its access tokens stop working. A token that names nothing is
// no error (RFC 7009 §2.2); another application's token is refused.
func (s *Service) RevokeToken(ctx context.Context, projectID, clientID, token string) (err error) {
	_, op, err := s.begin(ctx, ucRevokeToken, "")
	defer op.end(&err)
	t, _, err := s.openIDTenant(ctx, op, projectID)
	if err != nil {
		return err
	}
	return s.revokeFor(ctx, t, clientID, grantOfToken(token))
}

func (s *Service) revokeFor(ctx context.Context, t *store.Tenant, clientID, grantID string) error {
	g, err := t.Grants().Get(ctx, grantID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if g.ClientID != clientID {
		return iam.Errorf(iam.Forbidden, "the token was not issued to this application")
	}
	return s.revokeGrant(ctx, t, grantID)
}

// EndSession logs a browser out of the project: it ends the session its
// cookie names (if any) and returns where to send the browser, which must
// be one of the application's allowedLogoutUrls ("" when none was asked).
func (s *Service) EndSession(ctx context.Context, projectID, clientID, redirectURI, cookie string) (_ string, err error) {
	_, op, err := s.begin(ctx, ucEndSession, "")
	defer op.end(&err)
	t, _, err := s.openIDTenant(ctx, op, projectID)
	if err != nil {
		return "", err
	}
	if redirectURI != "" {
		if clientID == "" {
			return "", iam.Invalid("client_id", "name the application (client_id or id_token_hint) to return to a post_logout_redirect_uri")
		}
		c, err := s.openIDClient(ctx, t, clientID)
		if err != nil {
			return "", err
		}
		if !slices.Contains(c.AllowedLogoutURLs, redirectURI) {
			return "", iam.Invalid("post_logout_redirect_uri", "is not one of the application's allowedLogoutUrls")
		}
	}
	if bs, err := s.browserSession(ctx, t, cookie); err == nil {
		op.actor(auth.User, bs.UserID)
		if _, err := t.BrowserSessions().Update(ctx, bs.ID, 0, func(bs *iam.BrowserSession) error {
			bs.Ended = true
			return nil
		}); ignoreNotFound(err) != nil {
			return "", err
		}
	}
	return redirectURI, nil
}

// TokenRevoked is the message of a revocation.
const TokenRevoked = "the token is revoked, with the other tokens of its login"

// RevokeAccessToken revokes, for one application of the project in scope,
// the grant an access token it was issued names: the token, the access
// tokens issued with it and its refresh token stop working. The token's
// claims are read, not verified: it is only a way of naming the grant (its
// jti), which must be one of this application's, of the token's subject.
func (s *Service) RevokeAccessToken(ctx context.Context, applicationID, token string) (err error) {
	sc, op, err := s.begin(ctx, ucRevokeAccessToken, applicationID)
	defer op.end(&err)
	if err != nil {
		return err
	}
	app, err := s.application(ctx, sc.tenant, applicationID, "input.id")
	if err != nil {
		return err
	}
	var claims struct {
		JTI     string `json:"jti"`
		Subject string `json:"sub"`
	}
	if jwt, err := jose.ParseSigned(strings.TrimSpace(token), []jose.SignatureAlgorithm{jose.ES256}); err == nil {
		_ = json.Unmarshal(jwt.UnsafePayloadWithoutVerification(), &claims)
	}
	if claims.JTI == "" {
		return iam.Invalid("input.token", "is not an access token Atrium issued")
	}
	return s.revokeOf(ctx, sc.tenant, app, grantOfToken(claims.JTI), claims.Subject)
}

// RevokeRefreshToken revokes, for one application of the project in scope,
// a refresh token's family (and the access tokens issued from it).
func (s *Service) RevokeRefreshToken(ctx context.Context, applicationID, token string) (err error) {
	sc, op, err := s.begin(ctx, ucRevokeRefreshToken, applicationID)
	defer op.end(&err)
	if err != nil {
		return err
	}
	app, err := s.application(ctx, sc.tenant, applicationID, "input.id")
	if err != nil {
		return err
	}
	grantID, secret, ok := strings.Cut(strings.TrimSpace(token), ".")
	if !ok || grantID == "" || secret == "" {
		return iam.Invalid("input.token", "is not a refresh token Atrium issued")
	}
	return s.revokeOf(ctx, sc.tenant, app, grantID, "")
}

// revokeOf revokes a grant of the application (and, when sub is given, of
// that user); any other is NOT_FOUND.
func (s *Service) revokeOf(ctx context.Context, t *store.Tenant, app *iam.Application, grantID, sub string) error {
	g, err := t.Grants().Get(ctx, grantID)
	if err == nil && (g.ClientID != app.ClientID || (sub != "" && g.UserID != sub)) {
		err = store.ErrNotFound
	}
	if errors.Is(err, store.ErrNotFound) {
		return &iam.Error{Code: iam.NotFound, Message: "no token of this application matches", Field: "input.token"}
	}
	if err != nil {
		return err
	}
	return s.revokeGrant(ctx, t, grantID)
}
