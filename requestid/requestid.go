// Package requestid gives every request an id, carries it in the context and
// adds it to every log line written with that context.
package requestid

import (
	"context"
	"log/slog"
	"net/http"
	"regexp"

	"github.com/google/uuid"
)

// Header is where the id is read from (when the caller sends a sane one) and
// echoed back.
const Header = "X-Request-Id"

// platformHeader is the id the platform's SDK sends.
const platformHeader = "X-Oystehr-Request-Id"

var sane = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

type key struct{}

// From returns the request id in ctx, or "".
func From(ctx context.Context) string {
	id, _ := ctx.Value(key{}).(string)
	return id
}

// Middleware assigns the id and echoes it in the response.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(Header)
		if !sane.MatchString(id) {
			id = r.Header.Get(platformHeader)
		}
		if !sane.MatchString(id) {
			id = uuid.NewString()
		}
		w.Header().Set(Header, id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), key{}, id)))
	})
}

// LogHandler wraps h so that records logged with a request's context carry
// its id as request_id.
func LogHandler(h slog.Handler) slog.Handler { return logHandler{h} }

type logHandler struct{ slog.Handler }

func (l logHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := From(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return l.Handler.Handle(ctx, r)
}

func (l logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return logHandler{l.Handler.WithAttrs(as)}
}

func (l logHandler) WithGroup(name string) slog.Handler {
	return logHandler{l.Handler.WithGroup(name)}
}
