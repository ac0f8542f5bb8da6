// Package audit carries the facts of one state-changing operation while it
// runs, so that the one place that writes audit events (the GraphQL field
// middleware, and the token endpoint) can record who did what to which
// target in which project. Layers that learn a fact note it here; none of
// them writes events themselves.
package audit

import (
	"context"
	"sync"
)

// Entry is what is known about the operation so far.
type Entry struct {
	mu         sync.Mutex
	projectID  string
	actorKind  string
	actorID    string
	targetType string
	targetID   string
}

type key struct{}

// Begin returns ctx carrying a fresh entry.
func Begin(ctx context.Context) (context.Context, *Entry) {
	e := &Entry{}
	return context.WithValue(ctx, key{}, e), e
}

func from(ctx context.Context) *Entry {
	e, _ := ctx.Value(key{}).(*Entry)
	return e
}

// Project notes the project the operation acts in.
func Project(ctx context.Context, id string) {
	if e := from(ctx); e != nil {
		e.mu.Lock()
		e.projectID = id
		e.mu.Unlock()
	}
}

// Actor notes who acts.
func Actor(ctx context.Context, kind, id string) {
	if e := from(ctx); e != nil {
		e.mu.Lock()
		e.actorKind, e.actorID = kind, id
		e.mu.Unlock()
	}
}

// Target notes what the operation acts on.
func Target(ctx context.Context, typ, id string) {
	if e := from(ctx); e != nil {
		e.mu.Lock()
		e.targetType, e.targetID = typ, id
		e.mu.Unlock()
	}
}

// Facts returns what was noted.
func (e *Entry) Facts() (projectID, actorKind, actorID, targetType, targetID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.projectID, e.actorKind, e.actorID, e.targetType, e.targetID
}
