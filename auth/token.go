package auth

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// Tokens issues and verifies Atrium's access tokens: ES256 JWTs signed with
// the issuer's key from the key ring (its kid in the header), so that any
// resource server can verify them against the issuer's published JWKS.
//
// Issuers: a project's is <base>/p/<projectId> (users' and machine
// clients' tokens), the platform's is <base> (developers' tokens, which
// belong to no project). Every token's audience holds the API audience,
// <base>. Claims: iss, aud, sub (the principal), pid (its project; absent
// for developers), kind, ver (credential version), jti, iat, exp.
type Tokens struct {
	keys     *Keys
	base     string
	lifetime time.Duration
	now      func() time.Time
}

// TokenOptions configure Tokens.
type TokenOptions struct {
	// BaseURL is ATRIUM_PUBLIC_URL: the platform issuer and the API audience.
	BaseURL string
	// Lifetime of an access token (ATRIUM_TOKEN_TTL).
	Lifetime time.Duration
	// Clock tells the time of iat, exp and their checks; nil is the
	// system clock.
	Clock func() time.Time
}

// NewTokens returns Tokens signing with keys.
func NewTokens(keys *Keys, o TokenOptions) *Tokens {
	t := &Tokens{keys: keys, base: strings.TrimRight(o.BaseURL, "/"), lifetime: o.Lifetime, now: time.Now}
	if o.Clock != nil {
		t.now = o.Clock
	}
	return t
}

// Issuer is the issuer of projectID's tokens; "" is the platform issuer.
func (t *Tokens) Issuer(projectID string) string {
	if projectID == "" {
		return t.base
	}
	return t.base + projectPath + projectID
}

// Audience is the API audience every Atrium access token carries.
func (t *Tokens) Audience() string { return t.base }

// Keys is the key ring the tokens are signed with.
func (t *Tokens) Keys() *Keys { return t.keys }

const projectPath = "/p/"

// issuerProject is the project whose issuer iss is ("" for the platform),
// or false for an issuer that is not Atrium's.
func (t *Tokens) issuerProject(iss string) (string, bool) {
	if iss == t.base {
		return "", true
	}
	pid, ok := strings.CutPrefix(iss, t.base+projectPath)
	if !ok || pid == "" || strings.Contains(pid, "/") {
		return "", false
	}
	return pid, true
}

type claims struct {
	Kind    Kind   `json:"kind"`
	Project string `json:"pid,omitempty"`
	Version int64  `json:"ver,omitempty"` // Principal.CredentialVersion
	jwt.RegisteredClaims
}

// Issue returns a token for p, signed by the issuer of p's project (the
// platform's for a developer), and when it expires. audience is added to
// the API audience (an OIDC client's id).
func (t *Tokens) Issue(ctx context.Context, p Principal, audience ...string) (token string, expiresAt time.Time, err error) {
	key, err := t.keys.Signing(ctx, p.ProjectID)
	if err != nil {
		return "", time.Time{}, err
	}
	now := t.now().UTC().Truncate(time.Second)
	expiresAt = now.Add(t.lifetime)
	c := claims{
		Kind:    p.Kind,
		Project: p.ProjectID,
		Version: p.CredentialVersion,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.Issuer(p.ProjectID),
			Audience:  append(jwt.ClaimStrings{t.base}, audience...),
			Subject:   p.ID,
			ID:        uuid.NewString(),
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(expiresAt),
		},
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, c)
	tok.Header["kid"] = key.ID
	token, err = tok.SignedString(key.Private)
	return token, expiresAt, err
}

// ErrInvalidToken is Verify's answer for a token it refuses.
var ErrInvalidToken = errors.New("auth: invalid token")

var errToken = ErrInvalidToken

// Verify checks a token and returns its principal: ES256 only, signed by a
// key its issuer publishes (found by iss and kid), the API audience, not
// expired, and a kind, subject and project that fit its issuer. A token
// that fails is ErrInvalidToken; another error means the key ring could
// not be read.
func (t *Tokens) Verify(ctx context.Context, token string) (*Principal, error) {
	var c claims
	var lookupErr error // the key ring could not be read
	_, err := jwt.ParseWithClaims(token, &c, func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		pid, ok := t.issuerProject(c.Issuer)
		if !ok || kid == "" {
			return nil, errToken
		}
		key, err := t.keys.verifier(ctx, pid, kid)
		if err != nil {
			if !errors.Is(err, errToken) {
				lookupErr = err
			}
			return nil, err
		}
		return key, nil
	},
		jwt.WithValidMethods([]string{jwt.SigningMethodES256.Alg()}),
		jwt.WithAudience(t.base),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(t.now),
	)
	if lookupErr != nil {
		return nil, lookupErr
	}
	if err != nil {
		return nil, errToken
	}
	pid, _ := t.issuerProject(c.Issuer)
	switch c.Kind {
	case User, M2MClient:
		if c.Project == "" || c.Project != pid || c.Subject == "" {
			return nil, errToken
		}
	case Developer:
		if pid != "" || c.Project != "" || c.Subject == "" {
			return nil, errToken
		}
	default:
		return nil, errToken
	}
	return &Principal{Kind: c.Kind, ID: c.Subject, ProjectID: c.Project, CredentialVersion: c.Version, TokenID: c.ID}, nil
}
