package auth

import (
	"crypto/subtle"
	"net/http"

	"atrium/iam"
)

// Authenticator recognises credentials.
type Authenticator struct {
	operatorSecret []byte
	tokens         *Tokens
}

// NewAuthenticator returns an Authenticator. An empty operatorSecret turns the
// operator credential off.
func NewAuthenticator(operatorSecret string, tokens *Tokens) *Authenticator {
	return &Authenticator{operatorSecret: []byte(operatorSecret), tokens: tokens}
}

var errBadCredential = iam.Errorf(iam.Unauthenticated, "the access token is invalid or has expired")

// Middleware reads the Authorization and project headers and puts a Request
// into the context. It never rejects a request itself: operations decide
// whether they need a principal, so public operations work with a stale token.
func (a *Authenticator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req Request
		req.ProjectID, req.Err = projectFrom(r.Header)
		if token, sent := bearer(r.Header); sent && req.Err == nil {
			req.Principal, req.Err = a.authenticate(token)
		}
		next.ServeHTTP(w, r.WithContext(WithRequest(r.Context(), req)))
	})
}

func (a *Authenticator) authenticate(token string) (*Principal, error) {
	if token == "" {
		return nil, errBadCredential
	}
	if len(a.operatorSecret) > 0 && subtle.ConstantTimeCompare([]byte(token), a.operatorSecret) == 1 {
		return &Principal{Kind: Operator}, nil
	}
	p, err := a.tokens.Verify(token)
	if err != nil {
		return nil, errBadCredential
	}
	return p, nil
}
