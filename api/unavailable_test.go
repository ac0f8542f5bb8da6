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
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
}

func newCuttable(t *testing.T, target string) *cuttable {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cuttable{ln: ln, target: target}
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
		up, err := net.Dial("tcp", p.target)
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

// When the store does not answer, every transport says UNAVAILABLE (503 over
// HTTP), from the one table of codes, and nothing internal leaks.
func TestStoreUnavailable(t *testing.T) {
	t.Parallel()
	var proxy *cuttable
	s := atriumtest.NewServer(t, atriumtest.WithStoreURI(func(engine string) string {
		u, err := url.Parse(engine)
		if err != nil || strings.Contains(u.Host, ",") || u.Scheme != "mongodb" {
			t.Skipf("the store %q is not one host a proxy can stand in front of", engine)
		}
		proxy = newCuttable(t, u.Host)
		u.Host = proxy.ln.Addr().String()
		q := u.Query()
		q.Set("serverSelectionTimeoutMS", "300")
		q.Set("directConnection", "true")
		u.RawQuery = q.Encode()
		return u.String()
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
}
