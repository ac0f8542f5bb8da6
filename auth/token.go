package auth

import (
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Tokens issues and verifies access tokens: HS256 JWTs whose subject is the
// principal and whose claims say its kind and, for users and machine
// clients, its project.
type Tokens struct {
	key      []byte
	lifetime time.Duration
	now      func() time.Time
}

const issuer = "atrium"

// NewTokens returns a Tokens signing with key (at least 32 bytes).
func NewTokens(key []byte, lifetime time.Duration) *Tokens {
	return &Tokens{key: key, lifetime: lifetime, now: time.Now}
}

type claims struct {
	Kind    Kind   `json:"kind"`
	Project string `json:"pid,omitempty"`
	Version int64  `json:"ver,omitempty"` // Principal.CredentialVersion
	jwt.RegisteredClaims
}

// Issue returns a signed token for p and when it expires.
func (t *Tokens) Issue(p Principal) (token string, expiresAt time.Time, err error) {
	now := t.now().UTC()
	expiresAt = now.Add(t.lifetime).Truncate(time.Second)
	c := claims{
		Kind:    p.Kind,
		Project: p.ProjectID,
		Version: p.CredentialVersion,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Subject:   p.ID,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(expiresAt),
		},
	}
	token, err = jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.key)
	return token, expiresAt, err
}

var errToken = errors.New("invalid token")

// Verify checks a token's signature, algorithm, issuer and expiry and
// returns its principal.
func (t *Tokens) Verify(token string) (*Principal, error) {
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(issuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(t.now),
	)
	if err != nil {
		return nil, errToken
	}
	switch c.Kind {
	case User, M2MClient:
		if c.Project == "" || c.Subject == "" {
			return nil, errToken
		}
	case Developer:
		if c.Subject == "" {
			return nil, errToken
		}
	default:
		return nil, errToken
	}
	return &Principal{Kind: c.Kind, ID: c.Subject, ProjectID: c.Project, CredentialVersion: c.Version}, nil
}
