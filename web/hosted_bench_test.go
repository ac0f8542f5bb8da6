package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"atrium/atriumtest"
)

// BenchmarkForgotKnownVsUnknown times POST /p/{projectId}/forgot for an
// address that has an account (a link is made and emailed through a real
// SMTP server) and for one that has none, interleaved in one run so that
// the shared machine's load falls on both alike. It reports the median of
// each and their ratio (unknown/known, 1 when the two cannot be told apart
// by time). Each known account is asked five times (the throttle's account
// limit) and every request comes from its own forwarded address. Run with
// a fixed count, e.g. -benchtime=100x (bench/README.md).
func BenchmarkForgotKnownVsUnknown(b *testing.B) {
	ts := startSMTP(b, nil)
	outbox, _ := newOutbox(b, ts, 0)
	f := newFixture(b, false, atriumtest.WithMailer(outbox), atriumtest.WithTrustedLoopbackProxy())
	go func() { // drain the emails
		for range ts.got {
		}
	}()
	var known, unknown []time.Duration
	var email string
	ask := func(i int, addr string, into *[]time.Duration) {
		start := time.Now()
		p := post(b, f.s, f.hosted("forgot"), url.Values{"email": {addr}}, "X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255))
		*into = append(*into, time.Since(start))
		if p.status != http.StatusOK {
			b.Fatalf("%s: %d\n%s", addr, p.status, p.body)
		}
	}
	i := 0
	for b.Loop() {
		if i%5 == 0 {
			b.StopTimer()
			email = fmt.Sprintf("bench-%d@example.com", i)
			f.member(b, email, "bench-password-1")
			b.StartTimer()
		}
		if i%2 == 0 {
			ask(2*i, email, &known)
			ask(2*i+1, fmt.Sprintf("nobody-%d@example.com", i), &unknown)
		} else {
			ask(2*i, fmt.Sprintf("nobody-%d@example.com", i), &unknown)
			ask(2*i+1, email, &known)
		}
		i++
	}
	k, u := median(known), median(unknown)
	b.ReportMetric(float64(k.Nanoseconds()), "known-ns/req")
	b.ReportMetric(float64(u.Nanoseconds()), "unknown-ns/req")
	b.ReportMetric(float64(u)/float64(k), "unknown/known")
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
