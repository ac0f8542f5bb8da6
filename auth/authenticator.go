package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/netip"
	"slices"
	"strings"

	"atrium/iam"
)

// Authenticator recognises credentials.
type Authenticator struct {
	operatorSecret []byte
	tokens         *Tokens
	proxies        []netip.Prefix
}

// TrustProxies makes a believe the X-Forwarded-For header of peers in
// prefixes (the load balancers in front of Atrium): the client address is
// then the right-most forwarded address that is not itself a trusted proxy.
// Without it the client address is always the connection's peer, since
// anyone can send the header.
func (a *Authenticator) TrustProxies(prefixes []netip.Prefix) *Authenticator {
	a.proxies = prefixes
	return a
}

func (a *Authenticator) trusted(addr netip.Addr) bool {
	return slices.ContainsFunc(a.proxies, func(p netip.Prefix) bool { return p.Contains(addr) })
}

// clientAddr is the request's client address (see TrustProxies).
func (a *Authenticator) clientAddr(r *http.Request) string {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	addr := peer.Addr().Unmap()
	if !a.trusted(addr) {
		return addr.String()
	}
	fwd := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(fwd) - 1; i >= 0 && a.trusted(addr); i-- {
		next, err := netip.ParseAddr(strings.TrimSpace(fwd[i]))
		if err != nil {
			break
		}
		addr = next.Unmap()
	}
	return addr.String()
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
		req := Request{ClientAddr: a.clientAddr(r)}
		req.ProjectID, req.Err = projectFrom(r.Header)
		if token, sent := bearer(r.Header); sent && req.Err == nil {
			req.Principal, req.Err = a.authenticate(r.Context(), token)
		}
		next.ServeHTTP(w, r.WithContext(WithRequest(r.Context(), req)))
	})
}

func (a *Authenticator) authenticate(ctx context.Context, token string) (*Principal, error) {
	if token == "" {
		return nil, errBadCredential
	}
	if len(a.operatorSecret) > 0 && subtle.ConstantTimeCompare([]byte(token), a.operatorSecret) == 1 {
		return &Principal{Kind: Operator}, nil
	}
	p, err := a.tokens.Verify(ctx, token)
	if errors.Is(err, ErrInvalidToken) {
		return nil, errBadCredential
	}
	if err != nil {
		return nil, iam.ErrUnavailable // the signing keys could not be read
	}
	return p, nil
}
