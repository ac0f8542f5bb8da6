package api_test

import (
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"atrium/atriumtest"
	"atrium/graph"
)

// tracedServer is a server whose spans go to the returned recorder.
func tracedServer(t *testing.T) (*atriumtest.Server, *tracetest.SpanRecorder) {
	t.Helper()
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	return atriumtest.NewServer(t, atriumtest.WithTracerProvider(tp)), sr
}

// serverSpans is how many HTTP server spans spans holds.
func serverSpans(spans []sdktrace.ReadOnlySpan) int {
	n := 0
	for _, s := range spans {
		if s.SpanKind() == trace.SpanKindServer {
			n++
		}
	}
	return n
}

// ended waits until the recorder holds n HTTP server spans (they end last,
// after the response is written), and returns every span ended so far.
func ended(t *testing.T, sr *tracetest.SpanRecorder, n int) []sdktrace.ReadOnlySpan {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		spans := sr.Ended()
		if serverSpans(spans) >= n {
			return spans
		}
		if time.Now().After(deadline) {
			var names []string
			for _, s := range spans {
				names = append(names, s.Name())
			}
			t.Fatalf("the span did not end; spans: %q", names)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// One request is one trace: the HTTP span (continuing the caller's
// traceparent), the GraphQL operation, its resolvers and the store
// commands they send, each under the one before.
func TestTracesFollowARequestToTheStore(t *testing.T) {
	t.Parallel()
	s, sr := tracedServer(t)
	const traceID, callerSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	_, r := rawPost(t, s, map[string]string{
		"Authorization": "Bearer " + atriumtest.AdminSecret, "X-Oystehr-Project-Id": s.Sandbox,
		"traceparent": "00-" + traceID + "-" + callerSpan + "-01",
	}, `query Project { project { id name } }`, nil)
	if len(r.Errors) != 0 {
		t.Fatal(r.Errors)
	}
	isServer := func(s sdktrace.ReadOnlySpan) bool { return s.SpanKind() == trace.SpanKindServer }
	spans := ended(t, sr, 1)
	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		if s.SpanContext().TraceID().String() == traceID {
			byID[s.SpanContext().SpanID()] = s
		}
	}
	find := func(what string, ok func(sdktrace.ReadOnlySpan) bool) sdktrace.ReadOnlySpan {
		t.Helper()
		for _, s := range byID {
			if ok(s) {
				return s
			}
		}
		var names []string
		for _, s := range spans {
			names = append(names, s.Name()+"@"+s.SpanContext().TraceID().String())
		}
		t.Fatalf("no %s span in trace %s; spans: %q", what, traceID, names)
		return nil
	}
	server := find("HTTP server", isServer)
	if server.Parent().SpanID().String() != callerSpan || !server.Parent().IsRemote() {
		t.Errorf("the HTTP span's parent is %v, want the caller's span %s", server.Parent(), callerSpan)
	}
	operation := find("GraphQL operation", func(s sdktrace.ReadOnlySpan) bool { return s.Name() == "Project" })
	field := find("resolver", func(s sdktrace.ReadOnlySpan) bool { return s.Name() == "Query/project" })
	command := find("store command", func(s sdktrace.ReadOnlySpan) bool {
		return s.SpanKind() == trace.SpanKindClient && strings.Contains(s.Name(), "find")
	})
	// Each span descends from the one before it.
	descends := func(child, ancestor sdktrace.ReadOnlySpan) bool {
		for s := child; s != nil; s = byID[s.Parent().SpanID()] {
			if s.Parent().SpanID() == ancestor.SpanContext().SpanID() {
				return true
			}
		}
		return false
	}
	for _, pair := range [][2]sdktrace.ReadOnlySpan{{operation, server}, {field, operation}, {command, field}} {
		if !descends(pair[0], pair[1]) {
			t.Errorf("span %q does not descend from %q", pair[0].Name(), pair[1].Name())
		}
	}
}

// No password, ticket or token reaches a span: variables are not recorded
// and a mutation's text is replaced.
func TestTracesHoldNoSecret(t *testing.T) {
	t.Parallel()
	s, sr := tracedServer(t)
	const literal, variable = "literal-password-in-the-text", "password-sent-as-a-variable"
	anon := s.Client("", "")
	anon.Do(t, `mutation SignIn { signIn(input: {applicationId: "x", email: "a@example.com", password: "`+literal+`"}) { accessToken } }`, nil)
	anon.Do(t, `mutation SignIn($p: String!) { signIn(input: {applicationId: "x", email: "a@example.com", password: $p}) { accessToken } }`, map[string]any{"p": variable})
	spans := ended(t, sr, 2)
	ops := 0
	for _, sp := range spans {
		if sp.Name() == "SignIn" {
			ops++
		}
		for _, a := range sp.Attributes() {
			v := a.Value.Emit()
			if strings.Contains(v, literal) || strings.Contains(v, variable) || strings.Contains(v, atriumtest.AdminSecret) {
				t.Errorf("span %q attribute %s holds a secret: %s", sp.Name(), a.Key, v)
			}
			if a.Key == "gql.request.query" && v != graph.RedactedMutation {
				t.Errorf("span %q records the mutation's text: %s", sp.Name(), v)
			}
		}
	}
	if ops == 0 {
		t.Error("no SignIn operation span: the check above proves nothing")
	}
}
