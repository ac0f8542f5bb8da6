package atriumtest

import (
	"bufio"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"atrium/store/embedded"
)

// This file runs the embedded engine in a process of its own, so that a test
// can kill the database under a running Atrium and start it again.

// engineProcessEnv, set to a data directory, makes the test binary serve
// the embedded engine on it instead of running tests.
const engineProcessEnv = "ATRIUMTEST_ENGINE_PROCESS"

// serveEngine runs the engine on dir, prints its URI on the first line of
// stdout, and serves until SIGTERM or SIGINT (or until it is killed).
func serveEngine(dir string) int {
	e, err := embedded.Start(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(e.URI())
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
	e.Stop()
	return 0
}

// EngineProcess is an embedded engine running in a child process on a data
// directory of the test's.
type EngineProcess struct {
	// URI reaches the engine; it stays the same across Kill and Start.
	URI string
	dir string
	cmd *exec.Cmd
}

// StartEngineProcess starts an engine process on a fresh data directory; it
// is killed when the test ends. The test binary's TestMain must call Main.
func StartEngineProcess(t testing.TB) *EngineProcess {
	t.Helper()
	// A short path keeps the engine's socket inside its data directory, so
	// the URI survives a restart.
	dir, err := os.MkdirTemp("", "eng")
	if err != nil {
		t.Fatal(err)
	}
	p := &EngineProcess{dir: dir}
	t.Cleanup(func() {
		p.Kill(t)
		_ = os.RemoveAll(dir)
	})
	p.Start(t)
	return p
}

// Start starts the engine again on the same data directory (after Kill).
func (p *EngineProcess) Start(t testing.TB) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), engineProcessEnv+"="+p.dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(out).ReadString('\n')
		line <- strings.TrimSpace(l)
	}()
	select {
	case uri := <-line:
		if uri == "" || (p.URI != "" && uri != p.URI) {
			_ = cmd.Process.Kill()
			t.Fatalf("engine process: URI %q (before: %q)", uri, p.URI)
		}
		p.URI, p.cmd = uri, cmd
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		t.Fatal("engine process: no URI within a minute")
	}
}

// Kill ends the engine process at once (SIGKILL), as a crash would.
func (p *EngineProcess) Kill(t testing.TB) {
	t.Helper()
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
	p.cmd = nil
}
