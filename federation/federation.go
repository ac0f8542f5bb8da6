// Package federation is the relying party of Atrium's SSO connections
// (service.Federation), built on github.com/zitadel/oidc/v3's
// pkg/client/rp: discovery of the upstream OpenID provider, the
// authorization URL with its state, nonce and PKCE (S256) challenge, and
// the code exchange whose ID token the library verifies (signature against
// the upstream's JWKS, issuer, audience, expiry, nonce). The state, nonce
// and verifier are the service's, kept server-side; none of the library's
// cookie handlers is used.
//
// What is learnt of an upstream (its discovery document, and the keys its
// key set fetches) is kept per connection, at most Size connections for at
// most TTL each, and dropped as soon as the connection changes (its
// version). Every call to an upstream is bounded by the caller's context
// and by the HTTP client's Timeout; the library reads at most 1 MiB of each
// answer (httphelper.MaxResponseBodySize, and x/oauth2's own limit).
package federation

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"atrium/service"
)

// Options configure the relying party.
type Options struct {
	// Client makes the calls to the upstream providers; nil is a client
	// with Timeout.
	Client *http.Client
	// Timeout bounds one call (default 10s).
	Timeout time.Duration
	// Size is how many connections' upstreams are kept (default 256).
	Size int
	// TTL is how long an upstream's discovery is kept (default 1h).
	TTL time.Duration
}

// RelyingParty is the Federation of the service.
type RelyingParty struct {
	client *http.Client
	size   int
	ttl    time.Duration

	mu    sync.Mutex
	byID  map[string]*list.Element // of *entry, most recently used first
	order *list.List
}

type entry struct {
	up    service.Upstream
	party rp.RelyingParty
	until time.Time
}

var _ service.Federation = (*RelyingParty)(nil)

// New returns a relying party.
func New(o Options) *RelyingParty {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Size <= 0 {
		o.Size = 256
	}
	if o.TTL <= 0 {
		o.TTL = time.Hour
	}
	c := o.Client
	if c == nil {
		c = &http.Client{}
	}
	if c.Timeout == 0 || c.Timeout > o.Timeout {
		cc := *c
		cc.Timeout = o.Timeout
		c = &cc
	}
	return &RelyingParty{client: c, size: o.Size, ttl: o.TTL, byID: map[string]*list.Element{}, order: list.New()}
}

type nonceKey struct{}

// AuthURL implements service.Federation.
func (f *RelyingParty) AuthURL(ctx context.Context, up service.Upstream, state, nonce, codeChallenge string) (string, error) {
	party, err := f.party(ctx, up)
	if err != nil {
		return "", err
	}
	return rp.AuthURL(state, party, rp.WithCodeChallenge(codeChallenge), rp.AuthURLOpt(rp.WithURLParam("nonce", nonce))), nil
}

// Exchange implements service.Federation.
func (f *RelyingParty) Exchange(ctx context.Context, up service.Upstream, code, codeVerifier, nonce string) (map[string]any, error) {
	party, err := f.party(ctx, up)
	if err != nil {
		return nil, err
	}
	tokens, err := rp.CodeExchange[*oidc.IDTokenClaims](context.WithValue(ctx, nonceKey{}, nonce), code, party, rp.WithCodeVerifier(codeVerifier))
	if err != nil {
		return nil, unreachable(fmt.Errorf("code exchange: %w", err))
	}
	claims := tokens.IDTokenClaims.Claims
	if claims == nil || tokens.IDTokenClaims.Subject == "" {
		return nil, errors.New("the ID token names no subject")
	}
	return claims, nil
}

// party is the library's relying party of a connection, discovered once
// per version of the connection (and TTL).
func (f *RelyingParty) party(ctx context.Context, up service.Upstream) (rp.RelyingParty, error) {
	now := time.Now()
	f.mu.Lock()
	if el, ok := f.byID[up.ConnectionID]; ok {
		e := el.Value.(*entry)
		if same(e.up, up) && now.Before(e.until) {
			f.order.MoveToFront(el)
			f.mu.Unlock()
			return e.party, nil
		}
		f.order.Remove(el)
		delete(f.byID, up.ConnectionID)
	}
	f.mu.Unlock()

	party, err := rp.NewRelyingPartyOIDC(ctx, up.Issuer, up.ClientID, up.ClientSecret, up.RedirectURI, up.Scopes,
		rp.WithHTTPClient(f.client),
		rp.WithSigningAlgsFromDiscovery(),
		rp.WithVerifierOpts(rp.WithNonce(func(ctx context.Context) string {
			n, _ := ctx.Value(nonceKey{}).(string)
			return n
		})))
	if err != nil {
		// Whether it did not answer or answered nonsense, it cannot be used.
		return nil, fmt.Errorf("%w: discovery of %s: %w", service.ErrUpstreamUnavailable, up.Issuer, err)
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	if el, ok := f.byID[up.ConnectionID]; ok { // discovered meanwhile
		f.order.Remove(el)
	}
	f.byID[up.ConnectionID] = f.order.PushFront(&entry{up: up, party: party, until: now.Add(f.ttl)})
	for f.order.Len() > f.size {
		last := f.order.Back()
		f.order.Remove(last)
		delete(f.byID, last.Value.(*entry).up.ConnectionID)
	}
	return party, nil
}

// Len is how many upstreams are kept.
func (f *RelyingParty) Len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.order.Len()
}

// same reports whether two views of a connection are the same version
// with the same settings.
func same(a, b service.Upstream) bool {
	return a.Version == b.Version && a.Issuer == b.Issuer && a.ClientID == b.ClientID && a.ClientSecret == b.ClientSecret &&
		a.RedirectURI == b.RedirectURI && slices.Equal(a.Scopes, b.Scopes)
}

// unreachable marks an error of a call that did not reach the upstream,
// or not in time, as service.ErrUpstreamUnavailable.
func unreachable(err error) error {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) {
		return fmt.Errorf("%w: %w", service.ErrUpstreamUnavailable, err)
	}
	return err
}
