package main

// The tests of package main drive the real atrium binary: this test binary
// re-executes itself with ATRIUM_TEST_RUN_MAIN=1, and TestMain then runs
// main instead of the tests. Each process gets its own 127.0.0.1 port and
// the data dir a test names.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"atrium/atriumtest"
)

const runMainEnv = "ATRIUM_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// proc is one atrium process started by a test.
type proc struct {
	cmd    *exec.Cmd
	addr   string // host:port of the API
	url    string // http://addr
	dir    string // ATRIUM_DATA_DIR
	out    *atriumtest.LogBuffer
	exited chan struct{}
	err    error // the process's exit status, once exited is closed
}

// launch starts atrium with its data in dir (and args, e.g. "backup x"),
// and env on top of a cleaned environment; it does not wait for anything.
// The process is killed when the test ends if it still runs.
func launch(t *testing.T, dir string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{dir: dir, out: &atriumtest.LogBuffer{}, exited: make(chan struct{})}
	p.addr = freeAddr(t)
	p.url = "http://" + p.addr
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(cleanEnv(), runMainEnv+"=1", "ATRIUM_ADDR="+p.addr, "ATRIUM_DATA_DIR="+dir)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.cmd = cmd
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("output of atrium on %s:\n%s", p.addr, p.out)
		}
	})
	return p
}

// start launches atrium on dir and waits until it serves.
func start(t *testing.T, dir string, env ...string) *proc {
	t.Helper()
	p := launch(t, dir, env)
	p.waitReady(t)
	return p
}

// cleanEnv is this process's environment without Atrium's settings, so that
// the caller's MONGODB_URI or ATRIUM_* never leak into a test process.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ATRIUM_") && !strings.HasPrefix(kv, "MONGODB_") {
			env = append(env, kv)
		}
	}
	return env
}

// freeAddr returns a 127.0.0.1 address with a port that was free just now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitReady waits until /readyz answers 200 (a cold start of a race-built
// binary on a busy machine can take a while) or the process exits.
func (p *proc) waitReady(t *testing.T) {
	t.Helper()
	hc := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			t.Fatalf("atrium exited before serving (%v):\n%s", p.err, p.out)
		default:
		}
		if res, err := hc.Get(p.url + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("atrium did not become ready in 90s:\n%s", p.out)
}

// wait waits up to d for the process to exit and returns its exit status.
func (p *proc) wait(t *testing.T, d time.Duration) error {
	t.Helper()
	select {
	case <-p.exited:
		return p.err
	case <-time.After(d):
		t.Fatalf("atrium still runs after %s:\n%s", d, p.out)
		return nil
	}
}

// stop sends SIGTERM and requires a clean exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.wait(t, 60*time.Second); err != nil {
		t.Fatalf("atrium exited with %v after SIGTERM:\n%s", err, p.out)
	}
}

// kill sends SIGKILL and waits until the process is gone.
func (p *proc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	var exit *exec.ExitError
	if err := p.wait(t, 30*time.Second); !errors.As(err, &exit) {
		t.Fatalf("after SIGKILL: %v", err)
	}
}

// operator is a GraphQL client acting as the operator of p's data dir (its
// generated admin-secret) in project.
func (p *proc) operator(t *testing.T, project string) *atriumtest.Client {
	t.Helper()
	return p.client(readSecret(t, p.dir, adminSecretFile), project)
}

// client is a GraphQL client of p sending token and project.
func (p *proc) client(token, project string) *atriumtest.Client {
	return atriumtest.NewClient(p.url+"/graphql", token, project)
}

// readSecret reads a generated secret file of dir.
func readSecret(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// sandbox returns the id of the Sandbox project of a running atrium.
func (p *proc) sandbox(t *testing.T) string {
	t.Helper()
	var out struct {
		Projects []struct{ ID, Name string }
	}
	p.operator(t, "").MustDo(t, `{ projects { id name } }`, nil, &out)
	for _, pr := range out.Projects {
		if pr.Name == "Sandbox" {
			return pr.ID
		}
	}
	t.Fatalf("no Sandbox project among %+v", out.Projects)
	return ""
}

// waitOutput waits up to d until the process's output contains s.
func (p *proc) waitOutput(t *testing.T, s string, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for !strings.Contains(p.out.String(), s) {
		select {
		case <-ctx.Done():
			t.Fatalf("no %q in atrium's output after %s:\n%s", s, d, p.out)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (p *proc) String() string { return fmt.Sprintf("atrium on %s (%s)", p.addr, p.dir) }
