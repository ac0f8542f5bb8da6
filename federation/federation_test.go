package federation_test

// What the relying party keeps of the upstreams and how long it waits for
// them, against loopback discovery endpoints: one discovery per version of
// a connection, a new one when the connection changes, at most Size
// connections kept, an upstream that does not answer in time is
// service.ErrUpstreamUnavailable, and so is one whose answer is too large.

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"atrium/federation"
	"atrium/service"
)

// upstream serves a discovery document and counts how often it is read.
func upstream(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": srv.URL, "authorization_endpoint": srv.URL + "/authorize",
			"token_endpoint": srv.URL + "/token", "jwks_uri": srv.URL + "/keys", "id_token_signing_alg_values_supported": []string{"ES256"}})
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func conn(id string, version int64, issuer string) service.Upstream {
	return service.Upstream{ConnectionID: id, Version: version, Issuer: issuer, ClientID: "atrium", Scopes: []string{"openid"},
		RedirectURI: "http://atrium.test/p/x/sso-callback"}
}

func TestDiscoveryIsKeptPerVersionAndBounded(t *testing.T) {
	srv, hits := upstream(t)
	f := federation.New(federation.Options{Size: 2})
	ctx := context.Background()
	authURL := func(up service.Upstream) *url.URL {
		t.Helper()
		raw, err := f.AuthURL(ctx, up, "the-state", "the-nonce", "the-challenge")
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	u := authURL(conn("c1", 1, srv.URL))
	q := u.Query()
	if u.Path != "/authorize" || q.Get("state") != "the-state" || q.Get("nonce") != "the-nonce" || q.Get("code_challenge") != "the-challenge" ||
		q.Get("code_challenge_method") != "S256" || q.Get("client_id") != "atrium" || q.Get("redirect_uri") != "http://atrium.test/p/x/sso-callback" {
		t.Fatalf("authorization URL %s", u)
	}
	authURL(conn("c1", 1, srv.URL))
	if n := hits.Load(); n != 1 {
		t.Fatalf("%d discoveries for two sign-ins through one connection, want 1", n)
	}
	authURL(conn("c1", 2, srv.URL)) // the connection changed
	if n := hits.Load(); n != 2 {
		t.Fatalf("%d discoveries after the connection changed, want 2", n)
	}
	authURL(conn("c2", 1, srv.URL))
	authURL(conn("c3", 1, srv.URL))
	if n := f.Len(); n != 2 {
		t.Fatalf("%d upstreams kept, want at most Size (2)", n)
	}
	authURL(conn("c1", 2, srv.URL)) // the least recently used, dropped
	if n := hits.Load(); n != 5 {
		t.Fatalf("%d discoveries, want 5", n)
	}
}

func TestAnUpstreamThatDoesNotAnswerIsUnavailable(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	f := federation.New(federation.Options{Timeout: 200 * time.Millisecond})
	// The upstream holds the request until the test ends: without the
	// timeout, AuthURL would not return.
	_, err := f.AuthURL(context.Background(), conn("c1", 1, srv.URL), "s", "n", "c")
	if !errors.Is(err, service.ErrUpstreamUnavailable) {
		t.Fatalf("a silent upstream: %v, want ErrUpstreamUnavailable", err)
	}
	if f.Len() != 0 {
		t.Fatal("a failed discovery was kept")
	}
}

// The library reads at most 1 MiB of an upstream's answer: a discovery
// document padded past it is refused, and the upstream is not kept.
func TestAnUpstreamsAnswerIsCapped(t *testing.T) {
	huge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		pad := []byte(strings.Repeat(" ", 64<<10))
		for i := 0; i < 64 && r.Context().Err() == nil; i++ { // 4 MiB of blanks, then the document
			if _, err := w.Write(pad); err != nil {
				return
			}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": "http://" + r.Host, "authorization_endpoint": "http://" + r.Host + "/authorize"})
	}))
	t.Cleanup(huge.Close)
	f := federation.New(federation.Options{})
	_, err := f.AuthURL(context.Background(), conn("c1", 1, huge.URL), "s", "n", "c")
	if !errors.Is(err, service.ErrUpstreamUnavailable) || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("a 4 MiB discovery document: %v, want a refusal as too large", err)
	}
	if f.Len() != 0 {
		t.Fatal("an upstream with a too large answer was kept")
	}
}
