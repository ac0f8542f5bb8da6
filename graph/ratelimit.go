package graph

import (
	"context"
	"net/http"
	"sync"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"atrium/iam"
)

// A GraphQL answer is HTTP 200 whatever its errors, yet a client or proxy
// that is refused for going too fast should learn when to come back without
// parsing the body. So an error that carries a Retry-After or a limit
// (iam.Error.RetryAfter, .Limit) puts them in its extensions (retryAfter,
// rateLimit: {limit, remaining, reset}, in seconds) and in the response's
// headers (iam.Error.HTTPHeaders), through the sink the HTTP handler puts
// in the request's context.

type headerSink struct {
	mu sync.Mutex
	h  http.Header
}

type headerSinkKey struct{}

// WithResponseHeaders returns ctx whose errors add their headers to h (the
// response's headers, before anything is written).
func WithResponseHeaders(ctx context.Context, h http.Header) context.Context {
	return context.WithValue(ctx, headerSinkKey{}, &headerSink{h: h})
}

// publishLimit copies e's Retry-After and limit into gerr's extensions and
// the response's headers.
func publishLimit(ctx context.Context, e *iam.Error, gerr *gqlerror.Error) {
	if e.RetryAfter <= 0 && e.Limit == nil {
		return
	}
	if e.RetryAfter > 0 {
		gerr.Extensions["retryAfter"] = iam.Seconds(e.RetryAfter)
	}
	if l := e.Limit; l != nil {
		gerr.Extensions["rateLimit"] = map[string]any{"limit": l.Limit, "remaining": l.Remaining, "reset": iam.Seconds(l.Reset)}
	}
	if sink, ok := ctx.Value(headerSinkKey{}).(*headerSink); ok {
		sink.mu.Lock()
		defer sink.mu.Unlock()
		for k, v := range e.HTTPHeaders() {
			sink.h[k] = v
		}
	}
}
