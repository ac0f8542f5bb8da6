package iam

import "time"

// The entities of Atrium's OpenID provider (one per project): an
// authorization request on its way from /authorize to the code's exchange,
// the grant a code exchange gives a client (with its refresh-token family),
// and the browser session that gives single sign-on across a project's
// applications. Every secret they carry (a code, a refresh token, a session
// cookie) is stored as its hash only.

// AuthRequest is one authorization request of an application (the OpenID
// client) for a user of its project.
type AuthRequest struct {
	ID        string
	ProjectID string
	// ClientID is the application's clientId.
	ClientID            string
	RedirectURI         string
	State               string
	Nonce               string
	ResponseType        string
	ResponseMode        string
	Scopes              []string
	CodeChallenge       string
	CodeChallengeMethod string
	Prompt              []string
	// MaxAge is the request's max_age in seconds; nil when not given.
	MaxAge    *int64
	LoginHint string
	// Set once a user has logged in for the request.
	UserID    string
	AuthTime  time.Time
	AMR       []string
	SessionID string
	// CodeHash is the hash of the code issued for the request.
	CodeHash string
	// Redeemed is set by the code's first exchange, which names the grant
	// it issues; a second exchange finds it set and revokes that grant.
	Redeemed  bool
	GrantID   string
	ExpiresAt time.Time
	Meta
}

// Done reports whether a user has logged in for the request.
func (a *AuthRequest) Done() bool { return a.UserID != "" }

// Grant is what one code exchange gives one application for one user: the
// access tokens issued from it name it (their jti starts with its id), and
// it holds the current refresh token of its family, if any. Revoking it
// ends them all.
type Grant struct {
	ID        string
	ProjectID string
	ClientID  string
	UserID    string
	Scopes    []string
	AuthTime  time.Time
	AMR       []string
	SessionID string
	// RefreshHash is the hash of the one refresh token that may be used
	// next; "" when the grant has none.
	RefreshHash string
	Revoked     bool
	ExpiresAt   time.Time
	Meta
}

// BrowserSession is a user's login in one browser, for one project: while
// it lasts, the project's applications log the user in without asking
// again (unless they ask for it with prompt=login or max_age).
type BrowserSession struct {
	ID         string
	ProjectID  string
	UserID     string
	SecretHash string
	AuthTime   time.Time
	AMR        []string
	Ended      bool
	ExpiresAt  time.Time
	Meta
}

// SSOFlow is one sign-in through an SSO connection on its way to the
// upstream identity provider and back: what the relying party must check
// the answer against, kept server-side until the callback uses it (once).
// Its id is the hash of the state sent upstream.
type SSOFlow struct {
	ID        string
	ProjectID string
	// ConnectionID is the connection signed in through, AuthRequestID the
	// project's authorization request the sign-in completes.
	ConnectionID  string
	AuthRequestID string
	Nonce         string
	// CodeVerifier is the PKCE (S256) verifier of the challenge sent
	// upstream.
	CodeVerifier string
	// BrowserHash is the hash of the secret the browser that started the
	// flow holds in a cookie: only that browser may finish it.
	BrowserHash string
	ExpiresAt   time.Time
	Meta
}
