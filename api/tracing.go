package api

import (
	"net/http"

	"github.com/99designs/gqlgen/graphql/handler"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"atrium/graph"
	"atrium/telemetry"
)

// traceHTTP gives every request a server span (otelhttp) that continues the
// caller's W3C trace context, when tracing is on (o.TracerProvider set).
func traceHTTP(o Options, next http.Handler) http.Handler {
	if o.TracerProvider == nil {
		return next
	}
	return otelhttp.NewHandler(next, "atrium",
		otelhttp.WithTracerProvider(o.TracerProvider),
		otelhttp.WithPropagators(telemetry.Propagators),
	)
}

// traceGraphQL gives every operation and query resolver a span, when
// tracing is on.
func traceGraphQL(o Options, srv *handler.Server) {
	if o.TracerProvider == nil {
		return
	}
	for _, ext := range graph.Tracing(o.TracerProvider) {
		srv.Use(ext)
	}
}
