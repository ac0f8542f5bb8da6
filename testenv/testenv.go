// Package testenv decides what a test does when something it needs from the
// machine is missing (a browser, node, a second loopback address, a free
// port): on a developer's machine it skips with a message saying what to
// install, and where the environment requires it (ATRIUM_REQUIRE_ALL=1, set
// by .ci/run) it fails, so CI can never pass by skipping.
package testenv

import (
	"os"
	"testing"
)

// Required reports whether tests must fail instead of skipping when what
// they need is missing. ATRIUM_REQUIRE_ALL=1 requires everything;
// ATRIUM_REQUIRE_BROWSER=1 (the older, narrower switch) requires the
// browser only.
func Required(what Need) bool {
	if os.Getenv("ATRIUM_REQUIRE_ALL") == "1" {
		return true
	}
	return what == Browser && os.Getenv("ATRIUM_REQUIRE_BROWSER") == "1"
}

// Need names what a test needs from the machine.
type Need string

// What tests may need.
const (
	Browser Need = "a browser (Debian's chromium)"
	Node    Need = "Node.js and the npm packages .ci/run installs"
	Network Need = "a loopback address or port"
)

// Missing ends a test whose need is not met: it fails when Required(what),
// else it skips. why says what is missing and how to get it.
func Missing(t testing.TB, what Need, why string) {
	t.Helper()
	if Required(what) {
		t.Fatalf("this test needs %s, which is required here but missing: %s", what, why)
		return
	}
	t.Skipf("skipped: this test needs %s, which is missing: %s (set ATRIUM_REQUIRE_ALL=1 to make this a failure)", what, why)
}
