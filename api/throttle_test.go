package api_test

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"atrium/atriumtest"
	"atrium/client"
)

// Tests of the sign-in throttle (auth.Throttle over store.Attempts), the
// per-request credential limit (graph.OneCredentialCheck) and the time a
// failed sign-in takes.

// thCount returns how many responses have each code.
func thCount(rs []*atriumtest.Response) map[string]int {
	n := map[string]int{}
	for _, r := range rs {
		n[r.Code()]++
	}
	return n
}

// thParallel runs f n times at once and returns the responses.
func thParallel(n int, f func(i int) *atriumtest.Response) []*atriumtest.Response {
	rs := make([]*atriumtest.Response, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { rs[i] = f(i) })
	}
	wg.Wait()
	return rs
}

// thWantLimit checks that r is RATE_LIMITED and publishes its limit in the
// headers and the extensions, the same numbers in both.
func thWantLimit(t *testing.T, r *atriumtest.Response, limit int) {
	t.Helper()
	if r.Code() != "RATE_LIMITED" || string(r.Data) != "null" {
		t.Fatalf("want RATE_LIMITED, got %s %+v", r.Data, r.Errors)
	}
	x := r.Errors[0].Extensions
	retry, _ := strconv.ParseInt(r.Header.Get("Retry-After"), 10, 64)
	reset, _ := strconv.ParseInt(r.Header.Get("RateLimit-Reset"), 10, 64)
	if retry < 1 || retry > 15*60 || reset != retry || x.RetryAfter != retry {
		t.Fatalf("Retry-After %q, RateLimit-Reset %q, extensions.retryAfter %d: want the same 1..900 s",
			r.Header.Get("Retry-After"), r.Header.Get("RateLimit-Reset"), x.RetryAfter)
	}
	if r.Header.Get("RateLimit-Limit") != strconv.Itoa(limit) || r.Header.Get("RateLimit-Remaining") != "0" {
		t.Fatalf("RateLimit-Limit %q, RateLimit-Remaining %q; want %d and 0", r.Header.Get("RateLimit-Limit"), r.Header.Get("RateLimit-Remaining"), limit)
	}
	if x.RateLimit == nil || x.RateLimit.Limit != limit || x.RateLimit.Remaining != 0 || x.RateLimit.Reset != reset {
		t.Fatalf("extensions.rateLimit %+v; want {%d 0 %d}", x.RateLimit, limit, reset)
	}
}

// 30 parallel wrong passwords for one email: at most 5 reach the password
// check (those answer UNAUTHENTICATED), every other one is refused before
// it with RATE_LIMITED and the limit published. A throttle that checks the
// count and records the failure on either side of the hash lets nearly all
// of them through.
func TestParallelWrongPasswordsReachTheCheckAtMostFiveTimes(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	app := activeUser(t, s, "victim@example.com")

	rs := thParallel(30, func(i int) *atriumtest.Response {
		return signInResponse(t, s, app, "victim@example.com", fmt.Sprintf("wrong-password-%d", i))
	})
	n := thCount(rs)
	t.Logf("30 parallel wrong passwords: %d reached the check, %d RATE_LIMITED", n["UNAUTHENTICATED"], n["RATE_LIMITED"])
	if n["UNAUTHENTICATED"] > 5 || n["UNAUTHENTICATED"] == 0 || n["UNAUTHENTICATED"]+n["RATE_LIMITED"] != 30 {
		t.Fatalf("codes %v: want at most 5 UNAUTHENTICATED, the rest RATE_LIMITED", n)
	}
	for _, r := range rs {
		if r.Code() == "RATE_LIMITED" && r.Errors[0].Extensions.RateLimit.Limit == 5 {
			thWantLimit(t, r, 5)
		}
	}
	// Even the right password waits for the window to end.
	thWantLimit(t, signInResponse(t, s, app, "victim@example.com", testPassword), 5)
}

// Two Atrium instances on one database share the counts: failures through
// one count against the limit of the other.
func TestThrottleHoldsAcrossInstances(t *testing.T) {
	t.Parallel()
	a := atriumtest.NewServer(t)
	b := atriumtest.NewServer(t, atriumtest.SharingDatabaseWith(a))
	op := a.Operator(a.Sandbox)
	app := createApplication(t, op, "Portal")
	inv := invite(t, op, app, createRole(t, op, "Staff"), "shared@example.com")
	b.Accept(t, inv.Ticket, testPassword) // b sees a's data

	for i := range 5 {
		s := []*atriumtest.Server{a, b}[i%2]
		if r := signInResponse(t, s, app, "shared@example.com", "wrong-password"); r.Code() != "UNAUTHENTICATED" {
			t.Fatalf("failure %d: %+v", i+1, r.Errors)
		}
	}
	thWantLimit(t, signInResponse(t, a, app, "shared@example.com", testPassword), 5)
	thWantLimit(t, signInResponse(t, b, app, "shared@example.com", testPassword), 5)
	// And racing through both at once, the limit still holds.
	rs := thParallel(20, func(i int) *atriumtest.Response {
		return signInResponse(t, []*atriumtest.Server{a, b}[i%2], app, fmt.Sprintf("racer-%d@example.com", i%2), "wrong-password")
	})
	if n := thCount(rs); n["UNAUTHENTICATED"] > 10 {
		t.Fatalf("two accounts raced through two instances: %v, want at most 5 checks each", n)
	}
}

// One client address may fail 20 times per window, whichever accounts it
// tries; others are unaffected. X-Forwarded-For counts only from a trusted
// proxy.
func TestThrottleLimitsAClientAddress(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t, atriumtest.WithTrustedLoopbackProxy())
	app := createApplication(t, s.Operator(s.Sandbox), "Portal")
	signIn := func(addr, email string) *atriumtest.Response {
		return s.Client("", "").ForwardedFor(addr).Do(t, signInMutation, map[string]any{"a": app, "e": email, "p": "wrong-password"})
	}
	// One after the other: 20 hashes at once could outwait the hashing
	// slots on a loaded machine (the store's TestAttemptsTakeIsAtomic
	// races the count itself).
	var rs []*atriumtest.Response
	for i := range 25 {
		rs = append(rs, signIn("203.0.113.7", fmt.Sprintf("guess-%d@example.com", i)))
	}
	n := thCount(rs)
	if n["UNAUTHENTICATED"] != 20 || n["RATE_LIMITED"] != 5 {
		t.Fatalf("25 accounts from one address: %v, want 20 checked and 5 RATE_LIMITED", n)
	}
	i := slices.IndexFunc(rs, func(r *atriumtest.Response) bool { return r.Code() == "RATE_LIMITED" })
	thWantLimit(t, rs[i], 20)
	if r := signIn("198.51.100.9", "guess-0@example.com"); r.Code() != "UNAUTHENTICATED" {
		t.Fatalf("another address: %+v", r.Errors)
	}

	// Without a trusted proxy the header is the caller's word: ignored.
	plain := atriumtest.NewServer(t)
	app = createApplication(t, plain.Operator(plain.Sandbox), "Portal")
	for i := range 20 {
		r := plain.Client("", "").ForwardedFor(fmt.Sprintf("192.0.2.%d", i)).Do(t, signInMutation, map[string]any{"a": app, "e": fmt.Sprintf("g%d@example.com", i), "p": "wrong-password"})
		if r.Code() != "UNAUTHENTICATED" {
			t.Fatalf("failure %d: %+v", i+1, r.Errors)
		}
	}
	r := plain.Client("", "").ForwardedFor("192.0.2.200").Do(t, signInMutation, map[string]any{"a": app, "e": "g-last@example.com", "p": "wrong-password"})
	thWantLimit(t, r, 20)
}

// A request may hold one field that checks a credential: two, by alias,
// fragment or kind, are refused before any runs.
func TestOneCredentialCheckPerRequest(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	op := s.Operator(s.Sandbox)
	app := createApplication(t, op, "Portal")
	inv := invite(t, op, app, createRole(t, op, "Staff"), "one@example.com")
	s.Accept(t, inv.Ticket, testPassword)
	in := `(input: {applicationId: $a, email: "one@example.com", password: "` + testPassword + `"}) { accessToken }`
	for name, doc := range map[string]string{
		"aliases":   `mutation($a: ID!) { a: signIn` + in + ` b: signIn` + in + ` }`,
		"fragment":  `mutation($a: ID!) { signIn` + in + ` ...F } fragment F on Mutation { b: signIn` + in + ` }`,
		"inline":    `mutation($a: ID!) { ... on Mutation { a: signIn` + in + ` } ... on Mutation { b: signIn` + in + ` } }`,
		"two kinds": `mutation($a: ID!) { signIn` + in + ` signInDeveloper(input: {email: "one@example.com", password: "x-password"}) { accessToken } }`,
		"100 aliases": `mutation($a: ID!) {` + func() string {
			var b strings.Builder
			for i := range 100 {
				fmt.Fprintf(&b, " s%d: signIn(input: {applicationId: $a, email: \"u%d@example.com\", password: \"wrong-password\"}) { accessToken }", i, i)
			}
			return b.String()
		}() + ` }`,
		"signUp": `mutation($a: ID!) { signIn` + in + ` signUp(input: {applicationId: $a, email: "new@example.com", password: "` + testPassword + `"}) { accessToken } }`,
	} {
		r := s.Client("", "").Do(t, doc, map[string]any{"a": app})
		if r.Code() != "BAD_USER_INPUT" || len(r.Errors) != 1 || (string(r.Data) != "null" && r.Data != nil) {
			t.Errorf("%s: %s %+v", name, r.Data, r.Errors)
		}
	}
	// Nothing ran: the account has no failures and no sign-in.
	var u struct {
		User struct{ LastSignInAt *time.Time }
	}
	op.MustDo(t, `query($id: ID!) { user(id: $id) { lastSignInAt } }`, map[string]any{"id": inv.UserID}, &u)
	if u.User.LastSignInAt != nil {
		t.Fatal("a refused request signed the user in")
	}
	// One per request still works.
	s.SignIn(t, app, "one@example.com", testPassword)
}

// A failed signInDeveloper takes as long for a developer of 12 projects as
// for an unknown email: nothing the answer waits for depends on the
// account. Both kinds of call are interleaved, and their medians compared
// in the same run (a ratio, not a speed).
func TestSignInDeveloperTakesTheSameTimeKnownOrNot(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t, atriumtest.WithTrustedLoopbackProxy())
	var ticket string
	var projects []string
	for i := range 12 {
		p := s.CreateProject(t, fmt.Sprintf("Project %d", i))
		projects = append(projects, p)
		res, err := client.InviteDeveloper(t.Context(), s.Operator(p), client.InviteDeveloperInput{Email: "busy@example.com",
			AccessPolicy: atriumtest.Policy(atriumtest.Allow("Project:Settings", "Project:GetProjectInfo"))})
		atriumtest.Must(t, err)
		if i == 0 {
			ticket = atriumtest.Ticket(t, *res.InviteDeveloper.InvitationUrl)
		}
	}
	s.Accept(t, ticket, testPassword)

	const mutation = `mutation($e: String!, $p: String!) { signInDeveloper(input: {email: $e, password: $p}) { accessToken } }`
	call := 0
	timed := func(email, password, want string) time.Duration {
		call++ // each call from its own address: the address limit stays out of it
		c := s.Client("", "").ForwardedFor(fmt.Sprintf("10.0.%d.%d", call/250, call%250+1))
		start := time.Now()
		r := c.Do(t, mutation, map[string]any{"e": email, "p": password})
		d := time.Since(start)
		if r.Code() != want {
			t.Fatalf("%s: got %q %+v, want %q", email, r.Code(), r.Errors, want)
		}
		return d
	}
	const n = 15
	var known, unknown []time.Duration
	for i := range n {
		if i%4 == 0 { // forget the failures before the account limit: untimed
			timed("busy@example.com", testPassword, "")
		}
		if i%2 == 0 {
			known = append(known, timed("busy@example.com", "wrong-password", "UNAUTHENTICATED"))
			unknown = append(unknown, timed(fmt.Sprintf("nobody-%d@example.com", i), "wrong-password", "UNAUTHENTICATED"))
		} else {
			unknown = append(unknown, timed(fmt.Sprintf("nobody-%d@example.com", i), "wrong-password", "UNAUTHENTICATED"))
			known = append(known, timed("busy@example.com", "wrong-password", "UNAUTHENTICATED"))
		}
	}
	mk, mu := median(known), median(unknown)
	ratio := float64(max(mk, mu)) / float64(min(mk, mu))
	t.Logf("failed signInDeveloper, median of %d: developer of 12 projects %v, unknown email %v, ratio %.2f", n, mk, mu, ratio)
	if ratio > 1.5 {
		t.Fatalf("medians %v (known) and %v (unknown) differ by %.2f×, more than 1.5×", mk, mu, ratio)
	}
	// Every attempt is still recorded in every project of the developer, by
	// the time a reader asks.
	for _, p := range []string{projects[0], projects[11]} {
		var ev struct {
			AuditEvents struct {
				Edges []struct{ Node struct{ Outcome string } }
			}
		}
		s.Operator(p).MustDo(t, `{ auditEvents(first: 100, filter: {action: "IAM:SignInDeveloper"}) { edges { node { outcome } } } }`, nil, &ev)
		if got, want := len(ev.AuditEvents.Edges), n+(n+3)/4; got != want {
			t.Fatalf("project %s holds %d sign-in events, want %d", p, got, want)
		}
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// Developers' sign-ins are throttled like users': five wrong passwords for
// one developer, and the sixth attempt is refused before its password is
// checked, the right password included, while another developer signs in.
func TestSignInDeveloperIsThrottled(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	op := s.Operator(s.Sandbox)
	dev := s.SignedInDeveloper(t, op, client.InviteDeveloperInput{Email: "locked@example.com", AccessPolicy: atriumtest.FullAccess()}, testPassword)
	other := s.SignedInDeveloper(t, op, client.InviteDeveloperInput{Email: "free@example.com", AccessPolicy: atriumtest.FullAccess()}, testPassword)
	const mutation = `mutation($e: String!, $p: String!) { signInDeveloper(input: {email: $e, password: $p}) { accessToken } }`
	anon := s.Client("", "")
	for i := range 5 {
		if r := anon.Do(t, mutation, map[string]any{"e": dev.Email, "p": "wrong-password-" + strconv.Itoa(i)}); r.Code() != "UNAUTHENTICATED" {
			t.Fatalf("wrong password %d: %q, want UNAUTHENTICATED", i+1, r.Code())
		}
	}
	r := anon.Do(t, mutation, map[string]any{"e": dev.Email, "p": testPassword})
	if r.Code() != "RATE_LIMITED" {
		t.Fatalf("the right password after 5 wrong ones: %q, want RATE_LIMITED", r.Code())
	}
	if r.Errors[0].Extensions.RetryAfter <= 0 {
		t.Errorf("RATE_LIMITED without retryAfter: %s", r.Raw)
	}
	if s.SignInDeveloper(t, other.Email, testPassword) == "" {
		t.Fatal("another developer cannot sign in")
	}
}
