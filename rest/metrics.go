package rest

import (
	"encoding/json"
	"net/http"
	"time"

	"atrium/meter"
)

// requests are atrium_rest_requests_total and
// atrium_rest_request_duration_seconds, labelled by the route's pattern
// (never the raw path, so ids do not become labels), its method and the
// outcome: "ok", or the atriumCode of the error body.
var requests = meter.New("rest", "request", "REST requests under /v1", "route", "method", "outcome")

// unmatchedRoute labels the requests that match no route (404 and 405), and
// otherMethod a method of no route.
const (
	unmatchedRoute = "(unmatched)"
	otherMethod    = "OTHER"
)

// metered counts and times the requests h serves as route.
func metered(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &outcomeRecorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		outcome := meter.OK
		if rec.status >= 400 {
			outcome = meter.Failure(rec.code)
		}
		requests.Observe(start, route, methodLabel(r.Method), outcome)
	})
}

// methodLabel is r's method when some route has it, otherMethod otherwise.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return method
	}
	return otherMethod
}

// outcomeRecorder notes the status of an answer and, for an error, the
// atriumCode of its body (every error answer is one problem, written at
// once; a replayed answer too).
type outcomeRecorder struct {
	http.ResponseWriter
	status int
	code   string
}

func (o *outcomeRecorder) WriteHeader(status int) {
	o.status = status
	o.ResponseWriter.WriteHeader(status)
}

func (o *outcomeRecorder) Write(b []byte) (int, error) {
	if o.status >= 400 && o.code == "" {
		var p problem
		if json.Unmarshal(b, &p) == nil {
			o.code = p.AtriumCode
		}
	}
	return o.ResponseWriter.Write(b)
}

func (o *outcomeRecorder) Unwrap() http.ResponseWriter { return o.ResponseWriter }
