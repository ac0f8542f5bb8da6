package api_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"atrium/atriumtest"
)

// cuttable is a TCP proxy in front of the store that a test can cut, so the
// store stops answering.
type cuttable struct {
	ln              net.Listener
	network, target string
	mu              sync.Mutex
	conns           []net.Conn
}

func newCuttable(t *testing.T, network, target string) *cuttable {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cuttable{ln: ln, network: network, target: target}
	go p.serve()
	t.Cleanup(p.cut)
	return p
}

func (p *cuttable) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial(p.network, p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(up, c); up.Close() }()
		go func() { _, _ = io.Copy(c, up); c.Close() }()
	}
}

// cut closes the listener and every connection through it.
func (p *cuttable) cut() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// storeAddress is where the engine of a mongodb:// URI listens: a Unix
// socket (the embedded engine's, its path escaped as the URI's host) or one
// TCP host; anything else cannot stand behind one proxy.
func storeAddress(t *testing.T, uri string) (network, addr string) {
	t.Helper()
	host, ok := strings.CutPrefix(uri, "mongodb://")
	if i := strings.IndexAny(host, "/?"); i >= 0 {
		host = host[:i]
	}
	if i := strings.LastIndex(host, "@"); i >= 0 {
		host = host[i+1:]
	}
	if !ok || host == "" || strings.Contains(host, ",") {
		t.Fatalf("the store %q is not one host a proxy can stand in front of", uri)
	}
	if path, err := url.PathUnescape(host); err == nil && strings.HasSuffix(path, ".sock") {
		return "unix", path
	}
	return "tcp", host
}

// When the store does not answer, every transport says UNAVAILABLE (503 over
// HTTP), from the one table of codes, and nothing internal leaks.
func TestStoreUnavailable(t *testing.T) {
	t.Parallel()
	var proxy *cuttable
	s := atriumtest.NewServer(t, atriumtest.WithStoreURI(func(engine string) string {
		network, addr := storeAddress(t, engine)
		proxy = newCuttable(t, network, addr)
		return "mongodb://" + proxy.ln.Addr().String() + "/?directConnection=true&serverSelectionTimeoutMS=300"
	}))
	s.Operator(s.Sandbox).MustDo(t, `{ project { id } }`, nil, nil)
	proxy.cut()

	res := s.Operator(s.Sandbox).Do(t, `{ project { id } }`, nil)
	if got := res.Code(); got != "UNAVAILABLE" {
		t.Fatalf("GraphQL with the store cut: code %q, want UNAVAILABLE: %+v", got, res.Errors)
	}

	tok, err := http.PostForm(s.URL+"/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"some-client"}, "client_secret": {"some-secret"}})
	if err != nil {
		t.Fatal(err)
	}
	var body struct{ Error string }
	_ = json.NewDecoder(tok.Body).Decode(&body)
	tok.Body.Close()
	if tok.StatusCode != http.StatusServiceUnavailable || body.Error != "temporarily_unavailable" {
		t.Errorf("/oauth/token with the store cut: %d %q, want 503 temporarily_unavailable", tok.StatusCode, body.Error)
	}

	page, err := http.Get(s.URL + "/invitation?ticket=some-ticket")
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if page.StatusCode != http.StatusServiceUnavailable || strings.Contains(string(html), "connection") {
		t.Errorf("/invitation with the store cut: %d\n%s", page.StatusCode, html)
	}

	// The REST API: 503 with the status as the body's code (which the SDK
	// retries), also for a POST whose request id must first be looked up.
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		req, _ := http.NewRequest(method, s.URL+"/v1/iam/role", strings.NewReader(`{"name": "Staff"}`))
		req.Header.Set("Authorization", "Bearer "+atriumtest.AdminSecret)
		req.Header.Set("X-Oystehr-Project-Id", s.Sandbox)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Oystehr-Request-Id", "request-while-the-store-is-cut")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var problem struct {
			Code       int
			AtriumCode string
		}
		_ = json.NewDecoder(res.Body).Decode(&problem)
		res.Body.Close()
		if res.StatusCode != http.StatusServiceUnavailable || problem.Code != 503 || problem.AtriumCode != "UNAVAILABLE" {
			t.Errorf("%s /v1/iam/role with the store cut: %d %+v", method, res.StatusCode, problem)
		}
	}
}
