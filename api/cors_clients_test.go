package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"atrium/atriumtest"
)

// A browser's preflight for the headers common clients add (Apollo
// Client's client awareness, Sentry and W3C trace context, the platform
// SDK's request id) and for the REST methods is granted; an unknown header
// is not.
func TestCORSPreflightForCommonClients(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	const origin = "https://app.example.com" // configured by atriumtest
	preflightFor := func(method, headers string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(http.MethodOptions, s.URL+"/graphql", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", method)
		req.Header.Set("Access-Control-Request-Headers", headers)
		res, _ := do(t, s.Server.Client(), req)
		return res
	}
	cases := []struct{ method, headers string }{
		{"POST", "apollographql-client-name,apollographql-client-version,content-type"},
		{"POST", "authorization,baggage,content-type,sentry-trace,traceparent,x-oystehr-project-id"},
		{"GET", "traceparent,tracestate"},
		{"PATCH", "authorization,content-type,x-oystehr-project-id,x-oystehr-request-id"},
		{"DELETE", "authorization,x-oystehr-request-id"},
	}
	for _, c := range cases {
		res := preflightFor(c.method, c.headers)
		if res.StatusCode >= 300 || res.Header.Get("Access-Control-Allow-Origin") != origin {
			t.Errorf("preflight %s with %s: %d, allow-origin %q", c.method, c.headers, res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
			continue
		}
		allowed := strings.Split(strings.ToLower(strings.Join(res.Header.Values("Access-Control-Allow-Headers"), ",")), ",")
		for i := range allowed {
			allowed[i] = strings.TrimSpace(allowed[i])
		}
		for _, h := range strings.Split(c.headers, ",") {
			if !slices.Contains(allowed, h) {
				t.Errorf("preflight %s does not allow %s (allowed: %q)", c.method, h, allowed)
			}
		}
		if m := res.Header.Get("Access-Control-Allow-Methods"); !strings.Contains(m, c.method) {
			t.Errorf("preflight %s: allow-methods %q", c.method, m)
		}
	}
	for _, refused := range []struct{ method, headers string }{
		{"POST", "content-type,x-made-up-header"},
		{"PUT", "content-type"},
	} {
		if got := preflightFor(refused.method, refused.headers).Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("preflight %s with %s: allow-origin %q, want none", refused.method, refused.headers, got)
		}
	}
}
