// Package api assembles Atrium's HTTP surface: the GraphQL endpoint,
// GraphiQL, health checks, and the middleware every request passes through
// (request id, access log, CORS, body limit, authentication).
package api

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/cors"
	"github.com/vektah/gqlparser/v2/ast"
	"go.opentelemetry.io/otel/trace"

	"atrium/auth"
	"atrium/client"
	"atrium/graph"
	"atrium/provider"
	"atrium/requestid"
	"atrium/requestlog"
	"atrium/rest"
	"atrium/service"
	"atrium/web"
)

// Limits applied to every GraphQL request.
const (
	MaxBodyBytes    = 1 << 20 // 1 MiB
	ComplexityLimit = 1000
	DepthLimit      = 10
)

// documentLimits bound what a document may cost before it is validated
// (see graph.DocumentLimits). GraphiQL's introspection query, the largest
// document a tool sends unasked, has 184 tokens, 230 fields once expanded
// and 8 spreads (graph's TestIntrospectionQueryFitsTheLimits).
var documentLimits = graph.DocumentLimits{Tokens: 10_000, Fields: 1_000, Spreads: 100, Aliases: 200}

// Options configure the handler.
type Options struct {
	Service       *service.Service
	Authenticator *auth.Authenticator
	Log           *slog.Logger
	Introspection bool
	CORSOrigins   []string
	// Ready reports whether the store answers; /readyz calls it.
	Ready func(context.Context) error
	// TracerProvider, when set, traces every request (tracing.go).
	TracerProvider trace.TracerProvider
	// Keys sign the tokens of the projects' OpenID providers; PublicURL
	// (ATRIUM_PUBLIC_URL) is the base of their issuers.
	Keys      *auth.Keys
	PublicURL string
}

// New returns Atrium's HTTP handler.
func New(o Options) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/graphql", graphQL(o))
	mux.Handle("GET /{$}", web.GraphiQL())
	mux.Handle("GET /graphiql/", web.GraphiQL())
	mux.Handle("GET /favicon.ico", web.GraphiQL())
	mux.Handle(service.InvitationPath, web.InvitationHandler(o.Service, o.Log))
	mux.Handle("POST /oauth/token", tokenEndpoint(o.Service, o.Log))
	mux.Handle(provider.Pattern, provider.New(provider.Options{Service: o.Service, Keys: o.Keys, PublicURL: o.PublicURL, Log: o.Log}))
	mux.Handle("GET /metrics", promhttp.Handler())
	mux.Handle("/v1/", http.StripPrefix("/v1", rest.Handler(rest.Options{Service: o.Service, Log: o.Log})))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := o.Ready(ctx); err != nil {
			o.Log.WarnContext(ctx, "not ready", "error", err.Error())
			http.Error(w, "store unavailable", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})

	var h http.Handler = mux
	h = withLoaders(o.Service, h)
	h = noteCaller(h)
	h = o.Authenticator.Middleware(h)
	h = limitBody(h)
	h = apiCORS(corsHandler(o.Service, o.CORSOrigins), h)
	h = accessLog(o.Log, h)
	return traceHTTP(o, requestid.Middleware(h))
}

func graphQL(o Options) http.Handler {
	srv := handler.New(graph.NewExecutableSchema(graph.Config{
		Resolvers:  &graph.Resolver{Service: o.Service},
		Directives: graph.Directives(),
		Complexity: graph.Complexity(),
	}))
	srv.AddTransport(graphQLHTTP{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	if o.Introspection {
		srv.Use(extension.Introspection{})
	} else {
		srv.Use(graph.NoIntrospection{})
	}
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	srv.Use(documentLimits) // after APQ, which puts the query text in place
	srv.Use(extension.FixedComplexityLimit(ComplexityLimit))
	srv.Use(graph.DepthLimit{Max: DepthLimit})
	srv.Use(graph.OneCredentialCheck{})
	srv.Use(&graph.Operations{Known: client.Operations})
	srv.AroundFields(graph.InputFields)
	traceGraphQL(o, srv)
	srv.SetErrorPresenter(graph.ErrorPresenter(o.Log))
	srv.SetRecoverFunc(graph.Recover(o.Log))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		srv.ServeHTTP(w, r.WithContext(graph.WithResponseHeaders(r.Context(), w.Header())))
	})
}

// clientHeaders are headers that common GraphQL and REST clients add to
// every request (Apollo Client's client awareness, Sentry's and W3C trace
// context, the platform SDK's request id). Atrium does not act on them, but
// a preflight that refused them would stop the client's request.
var clientHeaders = []string{
	"apollographql-client-name", "apollographql-client-version",
	"sentry-trace", "baggage", "traceparent", "tracestate",
	"x-oystehr-request-id",
}

// corsHandler allows the configured origins, and those of every
// application's allowedCORSOriginsUrls, to call the API from a browser with
// the headers Atrium reads and those clients commonly add.
func corsHandler(svc *service.Service, origins []string) *cors.Cors {
	return cors.New(cors.Options{
		AllowOriginRequestFunc: func(r *http.Request, origin string) bool {
			if origin == "" { // not a cross-origin request: nothing to look up
				return false
			}
			return slices.Contains(origins, origin) || svc.OriginAllowed(r.Context(), origin)
		},
		AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete},
		AllowedHeaders: append([]string{"Authorization", "Content-Type", auth.ProjectHeader, auth.LegacyProjectHeader, requestid.Header}, clientHeaders...),
		ExposedHeaders: []string{requestid.Header, "Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"},
		MaxAge:         600,
	})
}

// apiCORS applies the API's CORS policy to every path but the OpenID
// providers', which apply their project's (package provider).
func apiCORS(c *cors.Cors, next http.Handler) http.Handler {
	withCORS := c.Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/p/") {
			next.ServeHTTP(w, r)
			return
		}
		withCORS.ServeHTTP(w, r)
	})
}

// withLoaders gives every request its own batch loaders.
func withLoaders(svc *service.Service, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(svc.WithLoaders(r.Context())))
	})
}

// limitBody caps every request body at MaxBodyBytes. It does not answer
// itself: reading past the cap fails with *http.MaxBytesError, which each
// transport turns into its own coded 413, in its own format, whether or
// not the client declared the length. A declared length over the cap is
// refused as soon as the transport starts reading, before anything is read.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// accessLog writes one line per request: method, path, status, duration_ms
// and what the inner layers noted in requestlog.Facts (operation, project,
// principal). It never logs headers or bodies, which carry credentials.
func accessLog(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		ctx, facts := requestlog.With(r.Context())
		next.ServeHTTP(rec, r.WithContext(ctx))
		attrs := append([]slog.Attr{
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
		}, facts.Attrs()...)
		log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
