// Package telemetry sets up OpenTelemetry tracing from the standard OTEL_*
// environment variables. Tracing is off unless an exporter is configured
// (OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), and OTEL_SDK_DISABLED=true or
// OTEL_TRACES_EXPORTER=none keep it off. The exporter (otlp over
// http/protobuf by default, grpc, console), sampler (OTEL_TRACES_SAMPLER),
// batching (OTEL_BSP_*) and resource (OTEL_SERVICE_NAME,
// OTEL_RESOURCE_ATTRIBUTES) are the SDK's, read from the same variables.
package telemetry

import (
	"context"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/event"
	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/contrib/instrumentation/go.mongodb.org/mongo-driver/v2/mongo/otelmongo"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
)

// ServiceName is the service.name of Atrium's spans unless
// OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES says otherwise.
const ServiceName = "atrium"

// Propagators read and write the W3C trace context and baggage headers
// (traceparent, tracestate, baggage) of the requests Atrium serves.
var Propagators = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// Enabled reports whether getenv configures a trace exporter.
func Enabled(getenv func(string) string) bool {
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") {
		return false
	}
	exporter := strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER"))
	if exporter == "none" {
		return false
	}
	return exporter != "" || getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// Setup returns the provider of Atrium's spans and the function that
// flushes and stops it; with no exporter configured it returns a nil
// provider (tracing off) and a shutdown that does nothing. The SDK reads the
// process environment itself, so getenv should be os.Getenv.
func Setup(ctx context.Context, getenv func(string) string) (trace.TracerProvider, func(context.Context) error, error) {
	off := func(context.Context) error { return nil }
	if !Enabled(getenv) {
		return nil, off, nil
	}
	exp, err := autoexport.NewSpanExporter(ctx)
	if err != nil {
		return nil, off, fmt.Errorf("OTEL_TRACES_EXPORTER / OTEL_EXPORTER_OTLP_*: %w", err)
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName(ServiceName)),
		resource.WithFromEnv(), // OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES win
		resource.WithTelemetrySDK(),
	)
	if err != nil {
		return nil, off, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return tp, tp.Shutdown, nil
}

// CommandMonitor returns the Mongo driver's OpenTelemetry monitor (otelmongo),
// which gives every store command a span, or nil when tp is nil.
func CommandMonitor(tp trace.TracerProvider) *event.CommandMonitor {
	if tp == nil {
		return nil
	}
	return otelmongo.NewMonitor(otelmongo.WithTracerProvider(tp))
}
