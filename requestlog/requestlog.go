// Package requestlog carries what the layers of one HTTP request learn about
// it for its access-log line: the middleware that writes the line puts Facts
// in the context, and the inner layers fill them in (the GraphQL operation,
// the caller). Facts hold names and ids only, never a credential.
package requestlog

import (
	"context"
	"log/slog"
	"sync"
)

// Facts are the access-log fields of one request. Their methods are safe for
// concurrent use and do nothing on a nil *Facts (a context without Facts).
type Facts struct {
	mu                       sync.Mutex
	operation, operationType string
	projectID                string
	principalKind            string
	principalID              string
}

type key struct{}

// With returns ctx carrying new Facts, and the Facts.
func With(ctx context.Context) (context.Context, *Facts) {
	f := &Facts{}
	return context.WithValue(ctx, key{}, f), f
}

// From returns the Facts in ctx, or nil.
func From(ctx context.Context) *Facts {
	f, _ := ctx.Value(key{}).(*Facts)
	return f
}

// SetOperation notes the GraphQL operation's name and type (query,
// mutation).
func (f *Facts) SetOperation(name, typ string) {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.operation, f.operationType = name, typ
}

// SetCaller notes the project the request acts in and who calls: the
// principal's kind and id (empty for the operator and for anonymous calls).
func (f *Facts) SetCaller(projectID, kind, id string) {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.projectID, f.principalKind, f.principalID = projectID, kind, id
}

// Attrs returns the facts noted so far as log attributes; a fact not noted
// is left out.
func (f *Facts) Attrs() []slog.Attr {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []slog.Attr
	add := func(k, v string) {
		if v != "" {
			out = append(out, slog.String(k, v))
		}
	}
	add("operation", f.operation)
	add("operation_type", f.operationType)
	add("project_id", f.projectID)
	add("principal_kind", f.principalKind)
	add("principal_id", f.principalID)
	return out
}
