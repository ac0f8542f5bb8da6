package api_test

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"atrium/atriumtest"
	"atrium/client"
	"atrium/mail"
)

// scrape reads /metrics as Prometheus does.
func scrape(t *testing.T, s *atriumtest.Server) map[string]*dto.MetricFamily {
	t.Helper()
	res, err := s.Server.Client().Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d", res.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// sample is the value of the series of family name with exactly the given
// labels (a counter's or gauge's value, a histogram's count), and whether
// it exists.
func sample(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	for _, m := range f.GetMetric() {
		if len(m.GetLabel()) != len(want) {
			continue
		}
		match := true
		for _, l := range m.GetLabel() {
			if v, ok := want[l.GetName()]; !ok || v != l.GetValue() {
				match = false
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

// Every GraphQL operation is counted and timed by name (known names only),
// type and outcome; the store's commands are timed; the mail outbox's
// failures are counted; the build is named.
func TestMetricsAfterRealRequests(t *testing.T) {
	t.Parallel()
	// An outbox whose mail server refuses connections: a port just closed.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	outbox := mail.NewOutbox(mail.Config{SMTPURL: "smtp://127.0.0.1:" + strconv.Itoa(port), From: "atrium@example.com", Attempts: 1}, nil)
	t.Cleanup(func() { _ = outbox.Close(t.Context()) })
	s := atriumtest.NewServer(t, atriumtest.WithMailer(outbox))
	op := s.Operator(s.Sandbox)

	type series struct {
		name   string
		labels []string
	}
	ops := func(name, typ, outcome string) []string {
		return []string{"operation", name, "type", typ, "outcome", outcome}
	}
	const total, seconds = "atrium_graphql_operations_total", "atrium_graphql_operation_duration_seconds"
	grow := []series{
		{total, ops("Project", "query", "ok")},
		{seconds, ops("Project", "query", "ok")},
		{total, ops("(anonymous)", "query", "ok")},
		{total, ops("other", "query", "ok")},
		{seconds, ops("other", "query", "ok")},
		{total, ops("Project", "query", "UNAUTHENTICATED")},
		{total, ops("other", "unknown", "GRAPHQL_PARSE_FAILED")},
		{total, ops("createRole", "mutation", "BAD_USER_INPUT")},
		{"atrium_store_command_duration_seconds", []string{"command", "find", "outcome", "ok"}},
		{"atrium_mail_failures_total", []string{"reason", "undelivered"}},
	}
	before := scrape(t, s)

	op.MustDo(t, `query Project { project { id name } }`, nil, nil)
	op.MustDo(t, `{ project { name } }`, nil, nil)
	op.MustDo(t, `query MyVeryOwnName { project { id } }`, nil, nil)
	if r := s.Client("", s.Sandbox).Do(t, `query Project { project { id } }`, nil); r.Code() != "UNAUTHENTICATED" {
		t.Fatalf("anonymous project query: %+v", r.Errors)
	}
	if r := op.Do(t, `{ project {`, nil); r.Code() != "GRAPHQL_PARSE_FAILED" {
		t.Fatalf("unparsable query: %+v", r.Errors)
	}
	if r := op.Do(t, `mutation createRole { createRole(input: {name: ""}) { role { id } } }`, nil); r.Code() != "BAD_USER_INPUT" {
		t.Fatalf("createRole with no name: %+v", r.Errors)
	}
	outbox.SendInvitation(mail.Invitation{To: "nobody@example.com", URL: "http://atrium.test/invitation?ticket=x", ProjectName: "Sandbox"})

	// The outbox delivers off the request path: wait for its failure.
	deadline := time.Now().Add(30 * time.Second)
	var after map[string]*dto.MetricFamily
	for {
		after = scrape(t, s)
		b, _ := sample(before, "atrium_mail_failures_total", "reason", "undelivered")
		if a, _ := sample(after, "atrium_mail_failures_total", "reason", "undelivered"); a > b || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, g := range grow {
		b, _ := sample(before, g.name, g.labels...)
		a, ok := sample(after, g.name, g.labels...)
		if !ok || a < b+1 {
			t.Errorf("%s%v: %v before, %v after (exists: %t), want at least one more", g.name, g.labels, b, a, ok)
		}
	}
	for _, m := range after[total].GetMetric() {
		for _, l := range m.GetLabel() {
			if strings.Contains(l.GetValue(), "MyVeryOwnName") {
				t.Errorf("an unknown operation name became a label: %v", m.GetLabel())
			}
		}
	}
	for _, name := range []string{"atrium_mail_queue_depth", "atrium_store_connections_in_use"} {
		if _, ok := sample(after, name); !ok {
			t.Errorf("no %s series", name)
		}
	}
	if b := after["atrium_build_info"]; b == nil || len(b.GetMetric()) != 1 || b.GetMetric()[0].GetGauge().GetValue() != 1 {
		t.Errorf("atrium_build_info: %v", b)
	} else {
		labels := map[string]string{}
		for _, l := range b.GetMetric()[0].GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if !strings.HasPrefix(labels["go_version"], "go1.") || labels["version"] == "" || labels["revision"] == "" {
			t.Errorf("atrium_build_info labels: %v", labels)
		}
	}
}

// Every password sign-in is counted by outcome: a success, a wrong
// password, and the throttle's refusal once an account has failed five
// times (counters are process-wide, so the test reads how much each grew).
func TestSignInMetrics(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	op := s.Operator(s.Sandbox)
	app := createApplication(t, op, "Metered")
	email := "metered@example.com"
	s.SignedInUser(t, op, client.InviteUserInput{ApplicationId: app, Email: &email, AccessPolicy: atriumtest.FullAccess()}, testPassword)
	count := func(outcome string) float64 {
		v, _ := sample(scrape(t, s), "atrium_signins_total", "outcome", outcome)
		return v
	}
	before := map[string]float64{}
	for _, o := range []string{"ok", "wrong_credentials", "throttled_account"} {
		before[o] = count(o)
	}
	s.SignIn(t, app, email, testPassword)
	for range 5 {
		signInResponse(t, s, app, email, "a-wrong-password")
	}
	if r := signInResponse(t, s, app, email, "a-wrong-password"); r.Code() != "RATE_LIMITED" {
		t.Fatalf("sixth wrong password: %q", r.Code())
	}
	for o, grew := range map[string]float64{"ok": 1, "wrong_credentials": 5, "throttled_account": 1} {
		if got := count(o) - before[o]; got < grew {
			t.Errorf("atrium_signins_total{outcome=%q} grew by %v, want at least %v", o, got, grew)
		}
	}
}

// Every /v1 request is counted and timed by its route's pattern (never the
// raw path), method and outcome: "ok" or the error body's code; requests
// that match no route share one label.
func TestRESTMetrics(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	role := createRole(t, s.Operator(s.Sandbox), "Metered")
	v1 := func(method, path, body string) int {
		t.Helper()
		req, err := http.NewRequest(method, s.URL+"/v1"+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+atriumtest.AdminSecret)
		req.Header.Set("X-Oystehr-Project-Id", s.Sandbox)
		req.Header.Set("Content-Type", "application/json")
		res, err := s.Server.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	rest := func(route, method, outcome string) []string {
		return []string{"route", route, "method", method, "outcome", outcome}
	}
	const total, seconds = "atrium_rest_requests_total", "atrium_rest_request_duration_seconds"
	grow := map[string][]string{
		"ok role":          rest("/v1/iam/role/{roleId}", "GET", "ok"),
		"missing role":     rest("/v1/iam/role/{roleId}", "GET", "NOT_FOUND"),
		"bad create":       rest("/v1/iam/role", "POST", "BAD_USER_INPUT"),
		"unmatched":        rest("(unmatched)", "GET", "NOT_FOUND"),
		"wrong method":     rest("(unmatched)", "PUT", "METHOD_NOT_ALLOWED"),
		"unmatched method": rest("(unmatched)", "OTHER", "METHOD_NOT_ALLOWED"),
	}
	before := scrape(t, s)
	for _, c := range []struct {
		method, path, body string
		status             int
	}{
		{"GET", "/iam/role/" + role, "", 200},
		{"GET", "/iam/role/" + role, "", 200},
		{"GET", "/iam/role/00000000-0000-0000-0000-000000000000", "", 404},
		{"POST", "/iam/role", `{"name": ""}`, 400},
		{"GET", "/no/such/route", "", 404},
		{"PUT", "/iam/role/" + role, "{}", 405},
		{"BREW", "/iam/role", "", 405},
	} {
		if got := v1(c.method, c.path, c.body); got != c.status {
			t.Fatalf("%s %s: %d, want %d", c.method, c.path, got, c.status)
		}
	}
	after := scrape(t, s)
	for what, labels := range grow {
		for _, name := range []string{total, seconds} {
			b, _ := sample(before, name, labels...)
			a, ok := sample(after, name, labels...)
			if !ok || a < b+1 {
				t.Errorf("%s: %s%v: %v before, %v after (exists: %t)", what, name, labels, b, a, ok)
			}
		}
	}
	b, _ := sample(before, total, grow["ok role"]...)
	if a, _ := sample(after, total, grow["ok role"]...); a < b+2 {
		t.Errorf("two GETs of one role counted %v times", a-b)
	}
	for _, m := range after[total].GetMetric() {
		for _, l := range m.GetLabel() {
			if strings.Contains(l.GetValue(), role) || strings.Contains(l.GetValue(), "no/such") || strings.Contains(l.GetValue(), "BREW") {
				t.Errorf("a raw path or method became a label: %v", m.GetLabel())
			}
		}
	}
}
