package testenv_test

import (
	"testing"

	"atrium/testenv"
)

func TestRequired(t *testing.T) {
	for _, c := range []struct {
		all, browser string
		need         testenv.Need
		want         bool
	}{
		{"", "", testenv.Browser, false},
		{"", "", testenv.Node, false},
		{"1", "", testenv.Node, true},
		{"1", "", testenv.Browser, true},
		{"", "1", testenv.Browser, true},
		{"", "1", testenv.Node, false},
		{"0", "0", testenv.Network, false},
	} {
		t.Setenv("ATRIUM_REQUIRE_ALL", c.all)
		t.Setenv("ATRIUM_REQUIRE_BROWSER", c.browser)
		if got := testenv.Required(c.need); got != c.want {
			t.Errorf("ALL=%q BROWSER=%q: Required(%s) = %v, want %v", c.all, c.browser, c.need, got, c.want)
		}
	}
}

// recorder notes how Missing ended the test instead of ending this one.
type recorder struct {
	testing.TB
	failed, skipped bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Fatalf(string, ...any) { r.failed = true }
func (r *recorder) Skipf(string, ...any)  { r.skipped = true }

func TestMissingFailsWhenRequired(t *testing.T) {
	t.Setenv("ATRIUM_REQUIRE_BROWSER", "")
	t.Setenv("ATRIUM_REQUIRE_ALL", "1")
	r := &recorder{TB: t}
	testenv.Missing(r, testenv.Node, "node not found")
	if !r.failed || r.skipped {
		t.Errorf("required: failed=%v skipped=%v, want a failure", r.failed, r.skipped)
	}
	t.Setenv("ATRIUM_REQUIRE_ALL", "")
	r = &recorder{TB: t}
	testenv.Missing(r, testenv.Node, "node not found")
	if r.failed || !r.skipped {
		t.Errorf("not required: failed=%v skipped=%v, want a skip", r.failed, r.skipped)
	}
}
