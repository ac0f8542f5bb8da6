// Package atriumtest runs a real Atrium for tests, in the shape of
// net/http/httptest: one embedded engine per test binary (started by Main
// from TestMain), one fresh database per test, the real HTTP handler, a
// GraphQL client that is also the typed client of atrium/client, and the
// fixtures every test builds on (fixtures.go).
package atriumtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Khan/genqlient/graphql"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.opentelemetry.io/otel/trace"

	"atrium/api"
	"atrium/auth"
	"atrium/client"
	"atrium/federation"
	"atrium/persisted"
	"atrium/requestid"
	"atrium/service"
	"atrium/sms"
	"atrium/store"
	"atrium/store/embedded"
	"atrium/telemetry"
)

var (
	engineURI string
	// engineDir is the data directory of the engine Main started ("" with
	// MONGODB_URI).
	engineDir string
	dbCounter atomic.Int64
)

// Main starts the embedded engine, runs the tests and stops it. Call it from
// TestMain. MONGODB_URI, when set, points the tests at a real MongoDB instead.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if dir := os.Getenv(engineProcessEnv); dir != "" {
		return serveEngine(dir) // this process is a test's engine (see StartEngineProcess)
	}
	if uri := os.Getenv("MONGODB_URI"); uri != "" {
		engineURI = uri
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "atrium-engine-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	e, err := embedded.Start(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer e.Stop()
	engineURI, engineDir = e.URI(), dir
	return m.Run()
}

// EngineURI is the URI of the store every test server of this binary uses.
func EngineURI() string { return engineURI }

// AdminSecret is the operator credential of every test server.
const AdminSecret = "test-operator-secret-0123456789"

// PublicURL is the ATRIUM_PUBLIC_URL of every test server: the base of its
// links and of its token issuers (PublicURL/p/<projectId>).
const PublicURL = "http://atrium.test"

// publicHost is PublicURL's host and port, as a dialer sees it.
const publicHost = "atrium.test:80"

// SealingSecret seals the private keys and remembered answers of every
// test server.
const SealingSecret = "test-sealing-secret-0123456789abcdef"

// Server is a running Atrium on a fresh database.
type Server struct {
	*httptest.Server
	DB      *store.DB
	Service *service.Service
	// Keys is the server's key ring, Tokens its access tokens.
	Keys   *auth.Keys
	Tokens *auth.Tokens
	// Sandbox is the id of the project created on start.
	Sandbox string
	Log     *LogBuffer
	// SMS keeps the text messages the server sends (the dev sender, which
	// logs none: the server runs as outside dev mode).
	SMS *sms.DevSender

	database string
}

// Option changes how NewServer builds the server.
type Option func(*options)

type options struct {
	tracer    trace.TracerProvider
	monitor   *event.CommandMonitor
	mailer    service.Mailer
	inviteTTL time.Duration
	clock     *Clock
	noIntro   bool
	storeURI  func(string) string
	shared    *Server
	proxies   []netip.Prefix
	rotation  time.Duration
	trusted   *persisted.Manifest
}

// WithKeyRotation sets how long a signing key signs before the next one
// takes over (ATRIUM_KEY_ROTATION).
func WithKeyRotation(d time.Duration) Option {
	return func(o *options) { o.rotation = d }
}

// WithTrustedLoopbackProxy makes the server believe the X-Forwarded-For of
// its loopback callers (ATRIUM_TRUSTED_PROXIES=127.0.0.1), so that a test
// can stand for callers at many addresses.
func WithTrustedLoopbackProxy() Option {
	return func(o *options) {
		o.proxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
	}
}

// SharingDatabaseWith starts the server on the database of another test
// server, as a second Atrium instance behind a load balancer: both see the
// same data. The other server owns the database and drops it.
func SharingDatabaseWith(other *Server) Option {
	return func(o *options) { o.shared = other }
}

// WithMonitor observes every command the server's driver sends.
func WithMonitor(m *event.CommandMonitor) Option {
	return func(o *options) { o.monitor = m }
}

// WithTracerProvider traces the server's requests, GraphQL operations and
// store commands into tp, as ATRIUM's OTEL_* settings do (package
// telemetry). It replaces WithMonitor's monitor.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *options) { o.tracer = tp }
}

// WithMailer sends invitation emails through m.
func WithMailer(m service.Mailer) Option {
	return func(o *options) { o.mailer = m }
}

// WithInviteTTL sets how long invitation links stay valid.
func WithInviteTTL(d time.Duration) Option {
	return func(o *options) { o.inviteTTL = d }
}

// WithoutIntrospection serves the API as ATRIUM_INTROSPECTION=false does.
func WithoutIntrospection() Option {
	return func(o *options) { o.noIntro = true }
}

// WithTrustedDocuments serves only the documents of m, as
// ATRIUM_TRUSTED_DOCUMENTS does.
func WithTrustedDocuments(m *persisted.Manifest) Option {
	return func(o *options) { o.trusted = m }
}

// WithStoreURI lets the test choose how the server reaches its store: via
// returns the URI to use in place of the engine's (e.g. that of a proxy the
// test can cut).
func WithStoreURI(via func(engineURI string) string) Option {
	return func(o *options) { o.storeURI = via }
}

// NewServer starts an Atrium on a database of its own; it is closed when the
// test ends.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	if engineURI == "" {
		t.Fatal("atriumtest: call atriumtest.Main from TestMain")
	}
	o := options{inviteTTL: 7 * 24 * time.Hour}
	for _, opt := range opts {
		opt(&o)
	}
	ctx := context.Background()
	name := fmt.Sprintf("t%d_%d", os.Getpid(), dbCounter.Add(1))
	if o.shared != nil {
		name = o.shared.database
	}
	if o.tracer != nil {
		if o.monitor != nil {
			t.Fatal("atriumtest: WithTracerProvider and WithMonitor both set a command monitor")
		}
		o.monitor = telemetry.CommandMonitor(o.tracer)
	}
	uri, dir := engineURI, engineDir
	if o.storeURI != nil {
		uri, dir = o.storeURI(uri), "" // another engine, or a proxy
	}
	db, err := store.Open(ctx, store.Options{URI: uri, Database: name, Monitor: o.monitor, EngineDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	logs := &LogBuffer{}
	log := slog.New(requestid.LogHandler(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	sealer := auth.NewSealer([]byte(SealingSecret))
	keys := auth.NewKeys(db.SigningKeys(), sealer, auth.KeyOptions{Rotation: o.rotation, MaxTokenLifetime: time.Hour, Clock: o.clock.now()})
	tokens := auth.NewTokens(keys, auth.TokenOptions{BaseURL: PublicURL, Lifetime: time.Hour, Clock: o.clock.now()})
	texts := sms.NewDevSender(log, false)
	outbox := sms.NewOutbox(texts, log)
	// The SSO connections' relying party reaches the server itself (a
	// project as another's identity provider) under its public name.
	var addr string // set before the server starts
	var dialer net.Dialer
	reach := &http.Transport{DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
		if a == publicHost {
			a = addr
		}
		return dialer.DialContext(ctx, network, a)
	}}
	upstream := federation.New(federation.Options{Client: &http.Client{Transport: reach}})
	svc := service.New(db, log, service.Options{Tokens: tokens, Sealer: sealer, Mailer: o.mailer, SMS: outbox, Federation: upstream,
		PublicURL: PublicURL, InviteTTL: o.inviteTTL, Clock: o.clock.now()})
	first, _, err := svc.Bootstrap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h := api.New(api.Options{
		Service:          svc,
		Authenticator:    auth.NewAuthenticator(AdminSecret, tokens).TrustProxies(o.proxies),
		Log:              log,
		Introspection:    !o.noIntro,
		CORSOrigins:      []string{"https://app.example.com"},
		Ready:            db.Ping,
		TracerProvider:   o.tracer,
		Keys:             keys,
		PublicURL:        PublicURL,
		TrustedDocuments: o.trusted,
	})
	hs := httptest.NewUnstartedServer(h)
	addr = hs.Listener.Addr().String()
	hs.Start()
	s := &Server{Server: hs, DB: db, Service: svc, Keys: keys, Tokens: tokens, Sandbox: first.ID, Log: logs, SMS: texts, database: name}
	t.Cleanup(func() {
		s.Close()
		reach.CloseIdleConnections()
		svc.Close(context.Background())
		outbox.Close(context.Background())
		if o.shared == nil {
			_ = db.Drop(context.Background())
		}
		db.Close(context.Background())
	})
	return s
}

// Operator returns a client acting as the operator in project.
func (s *Server) Operator(project string) *Client {
	return s.Client(AdminSecret, project)
}

// Client returns a client sending token (may be empty) and the project
// header (when project is not empty).
func (s *Server) Client(token, project string) *Client {
	url := s.URL + "/graphql"
	return &Client{url: url, token: token, project: project, http: s.Server.Client(),
		typed: client.New(url, token, project, s.Server.Client())}
}

// NewClient returns a client of the GraphQL endpoint at url (".../graphql")
// of any running Atrium, such as a process a test started.
func NewClient(url, token, project string) *Client {
	h := &http.Client{Timeout: 60 * time.Second}
	return &Client{url: url, token: token, project: project, http: h, typed: client.New(url, token, project, h)}
}

// Client is a small GraphQL-over-HTTP client for queries written out in a
// test (Do, MustDo, Fails), and a graphql.Client for the typed operations
// of atrium/client and the fixtures, with the same credentials.
type Client struct {
	url, token, project string
	forwardedFor        string
	http                *http.Client
	typed               graphql.Client
}

var _ graphql.Client = (*Client)(nil)

// MakeRequest implements graphql.Client for the typed operations.
func (c *Client) MakeRequest(ctx context.Context, req *graphql.Request, resp *graphql.Response) error {
	return c.typed.MakeRequest(ctx, req, resp)
}

// ForwardedFor returns a copy of the client that sends X-Forwarded-For:
// addr, to stand for many callers behind a proxy (the test server trusts
// the loopback proxy only with WithTrustedLoopbackProxy).
func (c *Client) ForwardedFor(addr string) *Client {
	cc := *c
	cc.forwardedFor = addr
	return &cc
}

// Response is a decoded GraphQL response.
type Response struct {
	Data   json.RawMessage `json:"data"`
	Errors []GraphQLError  `json:"errors"`
	// Raw is the answer as it came.
	Raw []byte `json:"-"`
	// Status and Header are the HTTP answer's.
	Status int         `json:"-"`
	Header http.Header `json:"-"`
}

// GraphQLError is one entry of "errors".
type GraphQLError struct {
	Message    string `json:"message"`
	Path       []any  `json:"path"`
	Extensions struct {
		Code       string `json:"code"`
		Field      string `json:"field"`
		RetryAfter int64  `json:"retryAfter"`
		RateLimit  *struct {
			Limit, Remaining int
			Reset            int64
		} `json:"rateLimit"`
	} `json:"extensions"`
}

// Code returns the code of the first error, "" when there is none.
func (r *Response) Code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	return r.Errors[0].Extensions.Code
}

// Do posts a query and decodes the response.
func (c *Client) Do(t testing.TB, query string, vars map[string]any) *Response {
	t.Helper()
	r, err := c.Try(query, vars)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Try is Do that returns what goes wrong instead of failing the test, for
// goroutines (which must not call t.Fatal).
func (c *Client) Try(query string, vars map[string]any) (*Response, error) {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.project != "" {
		req.Header.Set(auth.ProjectHeader, c.project)
	}
	if c.forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", c.forwardedFor)
	}
	_, r, err := Send(c.http, req)
	return r, err
}

// Send performs req with hc and decodes the GraphQL answer, keeping it raw.
func Send(hc *http.Client, req *http.Request) (*http.Response, *Response, error) {
	res, err := hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, nil, err
	}
	out := Response{Raw: raw, Status: res.StatusCode, Header: res.Header}
	if err := json.Unmarshal(raw, &out); err != nil {
		return res, nil, fmt.Errorf("response %d is not GraphQL JSON: %s", res.StatusCode, raw)
	}
	return res, &out, nil
}

// MustDo is Do that fails the test on any GraphQL error and decodes data
// into out (when out is not nil).
func (c *Client) MustDo(t testing.TB, query string, vars map[string]any, out any) {
	t.Helper()
	r := c.Do(t, query, vars)
	if len(r.Errors) > 0 {
		t.Fatalf("unexpected errors: %s", r.Raw)
	}
	if out != nil {
		if err := json.Unmarshal(r.Data, out); err != nil {
			t.Fatal(err)
		}
	}
}

// Fails runs a query that must fail with code (and, when field is not empty,
// that input field) and returns the response.
func (c *Client) Fails(t testing.TB, code, field, query string, vars map[string]any) *Response {
	t.Helper()
	r := c.Do(t, query, vars)
	if len(r.Errors) == 0 {
		t.Fatalf("expected %s, got data %s", code, r.Data)
	}
	if got := r.Errors[0].Extensions; got.Code != code || (field != "" && got.Field != field) {
		t.Fatalf("expected %s (field %q), got %s (field %q): %s", code, field, got.Code, got.Field, r.Errors[0].Message)
	}
	return r
}

// LogBuffer collects a server's log lines, safe for concurrent writes.
type LogBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns everything logged so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
