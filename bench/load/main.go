// Command load drives a running Atrium at a fixed request rate with a mix of
// `project`, `users(first: 25) { roles { name } }` and `me`, then reports
// throughput, latency percentiles and errors. It prepares its own data in a
// new project through the API (a role, an application, invited users and
// one signed-in user), using the operator secret.
//
//	go run ./bench/load -url http://localhost:8080 -secret "$(cat data/admin-secret)" -rate 200 -duration 60s
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync"
	"time"
)

func main() {
	base := flag.String("url", "http://localhost:8080", "Atrium's base URL (loopback only)")
	secret := flag.String("secret", os.Getenv("ATRIUM_ADMIN_SECRET"), "operator secret")
	rate := flag.Int("rate", 200, "requests per second")
	duration := flag.Duration("duration", 60*time.Second, "how long to send")
	users := flag.Int("users", 200, "users to create in the load project")
	flag.Parse()
	if u, err := url.Parse(*base); err != nil || (u.Hostname() != "localhost" && u.Hostname() != "127.0.0.1" && u.Hostname() != "::1") {
		log.Fatal("-url must be a loopback address")
	}
	c := &caller{url: *base + "/graphql", http: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}}
	project, userToken := prepare(c, *secret, *users)

	mix := []struct {
		name, token, project, query string
	}{
		{"project", *secret, project, `{ project { id name } }`},
		{"users", *secret, project, `{ users(first: 25) { edges { node { id roles { name } } } } }`},
		{"me", userToken, "", `{ me { id roles { name } } }`},
	}
	type result struct {
		op  int
		dur time.Duration
		err bool
	}
	results := make(chan result, 1024)
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(*rate))
	deadline := time.Now().Add(*duration)
	start := time.Now()
	go func() {
		for i := 0; time.Now().Before(deadline); i++ {
			<-tick.C
			op := i % len(mix)
			wg.Add(1)
			go func() {
				defer wg.Done()
				t0 := time.Now()
				_, err := c.do(mix[op].token, mix[op].project, mix[op].query, nil)
				results <- result{op, time.Since(t0), err != nil}
			}()
		}
		tick.Stop()
		wg.Wait()
		close(results)
	}()
	lat := make([][]time.Duration, len(mix))
	errs := make([]int, len(mix))
	var all []time.Duration
	for r := range results {
		lat[r.op] = append(lat[r.op], r.dur)
		all = append(all, r.dur)
		if r.err {
			errs[r.op]++
		}
	}
	elapsed := time.Since(start)
	fmt.Printf("target %d req/s for %s; sent %d in %s: %.1f req/s completed\n", *rate, *duration, len(all), elapsed.Round(time.Millisecond), float64(len(all))/elapsed.Seconds())
	fmt.Printf("%-8s %7s %7s %9s %9s %9s\n", "op", "count", "errors", "p50", "p99", "max")
	report := func(name string, d []time.Duration, e int) {
		slices.Sort(d)
		fmt.Printf("%-8s %7d %7d %9s %9s %9s\n", name, len(d), e, pct(d, 50), pct(d, 99), d[len(d)-1].Round(10*time.Microsecond))
	}
	total := 0
	for i, m := range mix {
		report(m.name, lat[i], errs[i])
		total += errs[i]
	}
	report("all", all, total)
}

func pct(d []time.Duration, p int) time.Duration {
	return d[(len(d)-1)*p/100].Round(10 * time.Microsecond)
}

// prepare makes a project with a role, an application, users holding the
// role, and one signed-in user; it returns the project id and that user's
// token.
func prepare(c *caller, secret string, n int) (string, string) {
	var p struct {
		CreateProject struct{ Project struct{ ID string } }
	}
	c.must(secret, "", `mutation { createProject(input: {name: "Load", fhirVersion: R4}) { project { id } } }`, nil, &p)
	project := p.CreateProject.Project.ID
	var r struct {
		CreateRole struct{ Role struct{ ID string } }
	}
	c.must(secret, project, `mutation { createRole(input: {name: "Staff", accessPolicy: {rule: [{resource: "*", action: "*", effect: Allow}]}}) { role { id } } }`, nil, &r)
	var a struct {
		CreateApplication struct{ Application struct{ ID string } }
	}
	c.must(secret, project, `mutation { createApplication(input: {name: "Load", allowedCallbackUrls: []}) { application { id } } }`, nil, &a)
	var first string
	for i := 0; i < n; i += 100 {
		var rows []map[string]any
		for j := i; j < min(i+100, n); j++ {
			rows = append(rows, map[string]any{"email": fmt.Sprintf("user%04d@load.example", j), "applicationId": a.CreateApplication.Application.ID,
				"roles": []string{r.CreateRole.Role.ID}, "resource": map[string]any{"resourceType": "Patient"}})
		}
		var out struct {
			InviteUsers struct {
				Results []struct{ InvitationURL string }
			}
		}
		c.must(secret, project, `mutation($in: [InviteUserInput!]!) { inviteUsers(input: $in) { results { invitationUrl } } }`, map[string]any{"in": rows}, &out)
		if first == "" {
			first = out.InviteUsers.Results[0].InvitationURL
		}
	}
	u, _ := url.Parse(first)
	c.must("", "", `mutation($t: String!) { acceptInvitation(input: {ticket: $t, password: "load-test-password"}) { user { id } } }`, map[string]any{"t": u.Query().Get("ticket")}, nil)
	var s struct{ SignIn struct{ AccessToken string } }
	c.must("", "", `mutation($a: ID!) { signIn(input: {applicationId: $a, email: "user0000@load.example", password: "load-test-password"}) { accessToken } }`,
		map[string]any{"a": a.CreateApplication.Application.ID}, &s)
	return project, s.SignIn.AccessToken
}

type caller struct {
	url  string
	http *http.Client
}

func (c *caller) do(token, project, query string, vars map[string]any) (json.RawMessage, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, c.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if project != "" {
		req.Header.Set("X-Oystehr-Project-Id", project)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	var out struct {
		Data   json.RawMessage
		Errors []struct{ Message string }
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("status %d: %s", res.StatusCode, raw)
	}
	if len(out.Errors) > 0 {
		return nil, fmt.Errorf("%s", out.Errors[0].Message)
	}
	return out.Data, nil
}

func (c *caller) must(token, project, query string, vars map[string]any, out any) {
	data, err := c.do(token, project, query, vars)
	if err != nil {
		log.Fatalf("setup: %v", err)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			log.Fatal(err)
		}
	}
}
