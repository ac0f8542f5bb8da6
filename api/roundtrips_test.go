package api_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/event"

	"atrium/atriumtest"
	"atrium/client"
)

// commandCounter records the MongoDB commands a server's driver starts
// while it is armed.
type commandCounter struct {
	mu       sync.Mutex
	armed    bool
	commands []string
}

// ignored are driver housekeeping commands, not store round trips.
var ignored = []string{"hello", "ismaster", "ping", "endsessions", "buildinfo", "saslstart", "saslcontinue", "killcursors"}

func (c *commandCounter) monitor() *event.CommandMonitor {
	return &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if !c.armed || slices.Contains(ignored, strings.ToLower(e.CommandName)) {
			return
		}
		target := ""
		if v, err := e.Command.LookupErr(e.CommandName); err == nil {
			target, _ = v.StringValueOK()
		}
		if v, err := e.Command.LookupErr("collection"); err == nil && target == "" {
			target, _ = v.StringValueOK() // getMore names its collection here
		}
		c.commands = append(c.commands, e.CommandName+" "+collKind(target))
	}}
}

// during returns the commands started while f runs.
func (c *commandCounter) during(f func()) []string {
	c.mu.Lock()
	c.armed, c.commands = true, nil
	c.mu.Unlock()
	f()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.armed = false
	out := c.commands
	sort.Strings(out)
	return out
}

// Resolving the roles of a page of users costs the same few round trips for
// 10 users as for 100.
func TestUsersRolesRoundTrips(t *testing.T) {
	t.Parallel()
	counter := &commandCounter{}
	s := atriumtest.NewServer(t, atriumtest.WithMonitor(counter.monitor()))
	op := s.Operator(s.Sandbox)
	app := createApplication(t, op, "Portal")
	var roles []string
	name := map[string]string{}
	for i := range 5 {
		id := atriumtest.CreateRole(t, op, fmt.Sprintf("Role %d", i), atriumtest.Allow("*", "*"))
		roles = append(roles, id)
		name[id] = fmt.Sprintf("Role %d", i)
	}
	const total = 120
	wantRoles := map[string][]string{}
	for start := 0; start < total; start += 100 {
		var rows []map[string]any
		for i := start; i < min(start+100, total); i++ {
			held := []string{roles[i%5]}
			if i%2 == 0 {
				held = append(held, roles[(i+1)%5])
			}
			if i%3 == 0 {
				held = append(held, roles[(i+3)%5])
			}
			rows = append(rows, map[string]any{"email": fmt.Sprintf("user%03d@example.com", i), "applicationId": app, "roles": held,
				"resource": map[string]any{"resourceType": "Practitioner"}})
		}
		var out struct {
			InviteUsers struct {
				Results []struct {
					User  *struct{ ID string }
					Error *struct{ Message string }
				}
			}
		}
		op.MustDo(t, `mutation($rows: [InviteUserInput!]!) { inviteUsers(input: $rows) { results { user { id } error { message } } } }`,
			map[string]any{"rows": rows}, &out)
		for j, r := range out.InviteUsers.Results {
			if r.User == nil {
				t.Fatalf("row %d: %+v", start+j, r.Error)
			}
			var names []string
			for _, id := range rows[j]["roles"].([]string) {
				names = append(names, name[id])
			}
			sort.Strings(names)
			wantRoles[r.User.ID] = names
		}
	}

	run := func(c *atriumtest.Client, first int) []string {
		t.Helper()
		var out struct {
			Users struct {
				Edges []struct {
					Node struct {
						ID    string
						Roles []struct{ Name string }
					}
				}
			}
		}
		cmds := counter.during(func() {
			c.MustDo(t, fmt.Sprintf(`{ users(first: %d) { edges { node { id roles { name } } } } }`, first), nil, &out)
		})
		if len(out.Users.Edges) != first {
			t.Fatalf("first %d: %d users", first, len(out.Users.Edges))
		}
		for _, e := range out.Users.Edges {
			var got []string
			for _, r := range e.Node.Roles {
				got = append(got, r.Name)
			}
			sort.Strings(got)
			if !slices.Equal(got, wantRoles[e.Node.ID]) {
				t.Fatalf("roles of %s: %v, want %v", e.Node.ID, got, wantRoles[e.Node.ID])
			}
		}
		return cmds
	}

	// The operator: the guard reads the project only. A user: the guard also
	// reads the user and its roles.
	opTen, opHundred := run(op, 10), run(op, 100)
	t.Logf("operator: users(first: 10): %d commands %q; users(first: 100): %d commands %q", len(opTen), opTen, len(opHundred), opHundred)
	u := s.SignedInUser(t, op, client.InviteUserInput{Email: ptr("counter@example.com"), ApplicationId: app, Roles: []string{roles[0]}}, testPassword)
	wantRoles[u.ID] = []string{"Role 0"}
	// The sign-in's audit events are written off the answer path; reading
	// the trail waits for them, so that none lands in a count below.
	op.MustDo(t, `{ auditEvents(first: 1) { edges { node { id } } } }`, nil, nil)
	uc := s.Client(u.Token, "")
	userTen, userHundred := run(uc, 10), run(uc, 100)
	t.Logf("user: users(first: 10): %d commands %q; users(first: 100): %d commands %q", len(userTen), userTen, len(userHundred), userHundred)

	// What each read should cost: the guard's reads (the project; for a user
	// also the user and its roles), one page of users, one batch of roles.
	// Commands beyond these come from three known bugs, reported as such;
	// anything else fails.
	known := map[string]string{
		"getMore users": "the users cursor is read in two batches when first is 100: store/page.go list sets a limit of " +
			"first+1 = 101 but no batch size; the embedded engine's default first batch is 101 and it leaves the cursor " +
			"open when a batch is full, so the driver sends getMore; set SetBatchSize(int32(p.Limit)+1) on the find options",
		"find roles": "the roles of one page were fetched in more than one batch: service/loader.go WithLoaders batches " +
			"by a 2 ms wait (dataloadgen.WithWait), so under load the concurrent roles resolvers of a page miss the " +
			"window; prime the loader with the roles of the whole page in one RolesByID (or use a gqlgen batch resolver)",
		"find applications": "a request without an Origin header reloaded the CORS origins of every application: " +
			"api/api.go corsHandler's AllowOriginRequestFunc is called by rs/cors with origin \"\" and asks " +
			"svc.OriginAllowed, whose cache (service/application.go originCache, 5 s TTL) then scans the applications " +
			"collection of all projects under its mutex; return false for an empty origin before the lookup",
	}
	var bugs []string
	for _, c := range []struct {
		who, first string
		got, want  []string
	}{
		{"operator", "10", opTen, []string{"find projects", "find roles", "find users"}},
		{"operator", "100", opHundred, []string{"find projects", "find roles", "find users"}},
		{"user", "10", userTen, []string{"find projects", "find roles", "find roles", "find users", "find users"}},
		{"user", "100", userHundred, []string{"find projects", "find roles", "find roles", "find users", "find users"}},
	} {
		extra := slices.Clone(c.got)
		for _, cmd := range c.want {
			i := slices.Index(extra, cmd)
			if i < 0 {
				t.Fatalf("%s, users(first: %s): %q lacks %q; the expected reads are %q", c.who, c.first, c.got, cmd, c.want)
			}
			extra = slices.Delete(extra, i, i+1)
		}
		for _, cmd := range extra {
			why, ok := known[cmd]
			if !ok {
				t.Fatalf("%s, users(first: %s): unexpected %q in %q", c.who, c.first, cmd, c.got)
			}
			bugs = append(bugs, why)
		}
	}
	if len(bugs) > 0 {
		slices.Sort(bugs)
		t.Fatalf("BUG: users(first: N) costs more round trips than the 3 (operator) / 5 (user) it should:\n%s", strings.Join(slices.Compact(bugs), "\n"))
	}
	// Without those bugs: the same count for 10 and 100 users, at most 3.
	if len(opTen) != len(opHundred) || len(opHundred) > 3 || len(userTen) != len(userHundred) {
		t.Fatalf("round trips: operator %d/%d, user %d/%d", len(opTen), len(opHundred), len(userTen), len(userHundred))
	}
}
