package main

// How the atrium process starts and ends: one process per data dir, the
// embedded engine reachable only through a private socket, the port taken
// before anything is created, an unreachable MongoDB reported while Atrium
// waits, and requests cut at the end of the shutdown grace counted.

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A second atrium on a data dir in use refuses within 5 seconds, naming the
// directory; once the first is SIGKILLed, the next start succeeds.
func TestSecondProcessOnADataDirRefuses(t *testing.T) {
	dir := t.TempDir()
	first := start(t, dir)

	began := time.Now()
	second := launch(t, dir, nil)
	err := second.wait(t, 5*time.Second)
	if err == nil {
		t.Fatal("a second atrium on the same data dir started")
	}
	if out := second.out.String(); !strings.Contains(out, dir) || !strings.Contains(out, "in use") {
		t.Fatalf("second atrium said %q, want a refusal naming %s", out, dir)
	}
	t.Logf("refused after %s: %s", time.Since(began).Round(time.Millisecond), strings.TrimSpace(second.out.String()))

	first.kill(t)
	third := start(t, dir)
	third.sandbox(t)
	third.stop(t)
}

// The embedded engine listens on a socket inside the 0700 data dir: the API
// port is the process's only listening TCP socket.
func TestEngineIsPrivate(t *testing.T) {
	dir := t.TempDir()
	p := start(t, dir)
	p.sandbox(t) // the engine is in use

	inodes := socketInodes(t, p.cmd.Process.Pid)
	var listening []string
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		for _, l := range listeners(t, table) {
			if inodes[l.inode] {
				listening = append(listening, l.addr)
			}
		}
	}
	_, apiPort, _ := net.SplitHostPort(p.addr)
	if len(listening) != 1 || !strings.HasSuffix(listening[0], ":"+apiPort) {
		t.Fatalf("listening TCP sockets of atrium: %v, want only the API port %s", listening, apiPort)
	}

	info, err := os.Stat(dir)
	if err != nil || info.Mode().Perm() != 0o700 {
		t.Fatalf("data dir mode %v (%v), want 0700", info.Mode().Perm(), err)
	}
	sock, err := os.Stat(filepath.Join(dir, "engine.sock"))
	if err != nil || sock.Mode().Type() != os.ModeSocket {
		t.Fatalf("engine socket in the data dir: %v %v", sock, err)
	}
	p.stop(t)
	if _, err := os.Stat(filepath.Join(dir, "engine.sock")); !os.IsNotExist(err) {
		t.Errorf("engine socket left after a clean stop: %v", err)
	}
}

// socketInodes returns the inodes of the sockets process pid has open.
func socketInodes(t *testing.T, pid int) map[string]bool {
	t.Helper()
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err == nil && strings.HasPrefix(link, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = true
		}
	}
	return inodes
}

type listener struct{ addr, inode string }

// listeners reads the sockets in state LISTEN (0A) of a /proc/net/tcp table;
// addr is the kernel's hex local address (ports are hex too).
func listeners(t *testing.T, table string) []listener {
	t.Helper()
	f, err := os.Open(table)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []listener
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || fields[3] != "0A" {
			continue
		}
		host, hexPort, _ := strings.Cut(fields[1], ":")
		port, err := strconv.ParseUint(hexPort, 16, 16)
		if err != nil {
			t.Fatalf("%s: %q", table, fields[1])
		}
		out = append(out, listener{addr: fmt.Sprintf("%s:%d", host, port), inode: fields[9]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// A port in use, or a bad address, stops start-up before the data dir is
// created.
func TestStartUpChecksThePortFirst(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for name, addr := range map[string]string{"port in use": busy.Addr().String(), "bad address": "256.1.2.3:80"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			p := launch(t, dir, []string{"ATRIUM_ADDR=" + addr})
			if err := p.wait(t, 30*time.Second); err == nil {
				t.Fatal("atrium started")
			}
			if !strings.Contains(p.out.String(), "ATRIUM_ADDR") {
				t.Errorf("the error does not name ATRIUM_ADDR: %s", p.out)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("the data dir was created (%v) although start-up failed", err)
			}
		})
	}
}

// With an unreachable MongoDB, Atrium says within a few seconds that it is
// still trying, naming the host and no credential, then gives the error.
func TestUnreachableMongoIsReported(t *testing.T) {
	closed := freeAddr(t) // nothing listens there
	p := launch(t, t.TempDir(), []string{"MONGODB_URI=mongodb://atrium:hunter2-not-shown@" + closed + "/?serverSelectionTimeoutMS=6000",
		"ATRIUM_SEALING_SECRET=0123456789abcdef0123456789abcdef"})
	began := time.Now()
	p.waitOutput(t, "still trying to reach MongoDB", 6*time.Second)
	t.Logf("notice after %s", time.Since(began).Round(time.Millisecond))
	if err := p.wait(t, 40*time.Second); err == nil {
		t.Fatal("atrium started without its database")
	}
	out := p.out.String()
	if !strings.Contains(out, closed) || strings.Contains(out, "hunter2") {
		t.Errorf("output must name %s and no password:\n%s", closed, out)
	}
	if !strings.Contains(out, "atrium: store: the database does not answer") {
		t.Errorf("no final error:\n%s", out)
	}
}

// Requests still running when the shutdown grace ends are cut, counted in
// the log, and the exit status says so.
func TestShutdownCutsAndCountsLateRequests(t *testing.T) {
	p := start(t, t.TempDir(), "ATRIUM_SHUTDOWN_TIMEOUT=500ms")
	// A request whose body never finishes keeps its handler running.
	conn, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"query\":", p.addr)
	time.Sleep(500 * time.Millisecond) // let the server read the headers and call the handler
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.wait(t, 30*time.Second); err == nil {
		t.Fatal("atrium exited 0 although it cut a request")
	}
	if !strings.Contains(p.out.String(), `"cut":1`) || !strings.Contains(p.out.String(), "1 requests still running") {
		t.Errorf("the log does not count 1 cut request:\n%s", p.out)
	}
}
