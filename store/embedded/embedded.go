// Package embedded runs FerretDB v1 with its SQLite backend inside the Atrium
// process, so that Atrium needs no external database by default. FerretDB
// speaks the MongoDB wire protocol on a Unix socket that only Atrium's user
// can reach, and Atrium talks to it with the same MongoDB driver code it uses
// against a real MongoDB. One process at a time owns a data directory: Start
// takes an OS lock on it that the kernel drops when the process ends, however
// it ends.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

const (
	lockName   = "lock"
	socketName = "engine.sock"
	// maxSocketPath is the longest path a Unix socket can have on Linux
	// (sun_path is 108 bytes, one of them the terminating NUL).
	maxSocketPath = 107
)

// Engine is a running embedded FerretDB.
type Engine struct {
	uri     string
	cancel  context.CancelFunc
	done    chan struct{}
	lock    *os.File
	tempDir string // holds the socket when the data dir's path is too long for one
}

// Start runs FerretDB with its data under dir (made 0700, created if missing),
// listening on a Unix socket inside dir. It refuses at once when another
// process has dir open. FerretDB logs through logger; pass a logger with a
// high level to keep it quiet.
func Start(dir string, logger *slog.Logger) (*Engine, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("embedded engine: data dir %q: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("embedded engine: data dir %q: %w", dir, err)
	}
	// The data dir holds every project's data, password hashes included,
	// and the engine's socket: only Atrium's user may enter it, also when it
	// existed before.
	if err := os.Chmod(abs, 0o700); err != nil {
		return nil, fmt.Errorf("embedded engine: data dir %q: %w", dir, err)
	}
	e := &Engine{done: make(chan struct{})}
	if e.lock, err = lockDir(abs); err != nil {
		return nil, err
	}
	sock, err := e.socketPath(abs)
	if err != nil {
		e.release()
		return nil, err
	}
	// A socket file left by a process that was killed would make the listen
	// fail; the lock says no live process uses it.
	if err := os.Remove(sock); err != nil && !errors.Is(err, os.ErrNotExist) {
		e.release()
		return nil, fmt.Errorf("embedded engine: %w", err)
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{Unix: sock},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/",
	})
	if err != nil {
		e.release()
		return nil, fmt.Errorf("embedded engine: %w", err)
	}
	// The driver finds a Unix socket by a percent-encoded path as the host
	// (FerretDB's MongoDBURI leaves it unencoded).
	e.uri = "mongodb://" + url.PathEscape(sock) + "/"
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	go func() {
		defer close(e.done)
		_ = f.Run(ctx) // returns once ctx is cancelled and the backend is closed
	}()
	// Connecting needs write permission on the socket; only the owner has it
	// (the directory already keeps everyone else out).
	if err := os.Chmod(sock, 0o600); err != nil {
		e.Stop()
		return nil, fmt.Errorf("embedded engine: %w", err)
	}
	return e, nil
}

// socketPath is where the engine listens: in the data dir, or, when that
// path is too long for a Unix socket, in a fresh private temporary dir.
func (e *Engine) socketPath(dataDir string) (string, error) {
	if p := filepath.Join(dataDir, socketName); len(p) <= maxSocketPath {
		return p, nil
	}
	tmp, err := os.MkdirTemp("", "atrium-engine-") // 0700
	if err != nil {
		return "", fmt.Errorf("embedded engine: socket dir: %w", err)
	}
	e.tempDir = tmp
	p := filepath.Join(tmp, socketName)
	if len(p) > maxSocketPath {
		return "", fmt.Errorf("embedded engine: no Unix socket path short enough (set TMPDIR to a shorter directory)")
	}
	return p, nil
}

// lockDir takes the data directory's lock, or says which process holds it.
// The lock is an flock on a file in dir: the kernel releases it when the
// holder's process ends, so a crash never leaves a stale lock.
func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("embedded engine: lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			holder := ""
			if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) > 0 {
				holder = " (pid " + strings.TrimSpace(string(b)) + ")"
			}
			return nil, fmt.Errorf("embedded engine: data directory %s is in use by another Atrium process%s; stop it, or set ATRIUM_DATA_DIR to another directory", dir, holder)
		}
		return nil, fmt.Errorf("embedded engine: lock %s: %w", path, err)
	}
	// The pid is for the message above only; the lock itself is the flock.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

// release drops the lock and the temporary socket dir, if any.
func (e *Engine) release() {
	if e.tempDir != "" {
		_ = os.RemoveAll(e.tempDir)
	}
	if e.lock != nil {
		_ = e.lock.Close() // closing the only descriptor releases the flock
	}
}

// URI is the mongodb:// connection string of the running engine.
func (e *Engine) URI() string { return e.uri }

// Stop shuts the engine down, waits until its backend is closed and releases
// the data directory.
func (e *Engine) Stop() {
	e.cancel()
	<-e.done
	e.release()
}
