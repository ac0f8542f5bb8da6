// Package embedded runs FerretDB v1 with its SQLite backend inside the Atrium
// process, so that Atrium needs no external database by default. FerretDB
// speaks the MongoDB wire protocol on a loopback port, and Atrium talks to it
// with the same MongoDB driver code it uses against a real MongoDB.
package embedded

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// Engine is a running embedded FerretDB.
type Engine struct {
	uri    string
	cancel context.CancelFunc
	done   chan struct{}
}

// Start runs FerretDB with its data under dir (created if missing) and a
// listener on a random loopback port. FerretDB logs through logger; pass a
// logger with a high level to keep it quiet.
func Start(dir string, logger *slog.Logger) (*Engine, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("embedded engine: data dir %q: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("embedded engine: data dir %q: %w", dir, err)
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/",
	})
	if err != nil {
		return nil, fmt.Errorf("embedded engine: %w", err)
	}
	// New has already bound the listener, so the address is known now.
	ctx, cancel := context.WithCancel(context.Background())
	e := &Engine{uri: f.MongoDBURI(), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(e.done)
		_ = f.Run(ctx) // returns once ctx is cancelled and the backend is closed
	}()
	return e, nil
}

// URI is the mongodb:// connection string of the running engine.
func (e *Engine) URI() string { return e.uri }

// Stop shuts the engine down and waits until its backend is closed.
func (e *Engine) Stop() {
	e.cancel()
	<-e.done
}
