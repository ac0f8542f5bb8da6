package testenv

// Chromium for browser tests: a headless Debian Chromium with a fresh
// profile, or the test is skipped (failed where required) when there is
// none.

import (
	"bytes"
	"context"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// BrowserGuard bounds a whole browser session so a hung browser fails the
// test instead of hanging it; no assertion depends on it.
const BrowserGuard = 2 * time.Minute

// Chromium starts a headless Chromium with a fresh profile and no
// background networking, and any extra flags; it is stopped when the test
// ends, and its output is logged if the test failed.
func Chromium(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	var path string
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		Missing(t, Browser, "Chromium not found (looked for /usr/bin/chromium, chromium, chromium-browser); install it: apt-get install -y chromium")
		return nil
	}
	out := &lockedBuffer{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.CombinedOutput(out),
	)
	opts = append(opts, extra...)
	ctx, cancelGuard := context.WithTimeout(context.Background(), BrowserGuard)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	// Cleanups run last-registered first: the browser stops before its
	// profile directory (a TempDir, registered earlier) is removed.
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		cancelGuard()
		if t.Failed() {
			t.Logf("browser output:\n%s", out.String())
		}
	})
	return bctx
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
