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
	"atrium/requestid"
)

// commandCounter records the MongoDB commands a server's driver starts
// for requests while it is armed: a command with no request id in its
// context is the service's own background work (the periodic sweep of
// expired attempts, codes and logins), whose timing no test controls.
type commandCounter struct {
	mu       sync.Mutex
	armed    bool
	commands []string
}

// ignored are driver housekeeping commands, not store round trips.
var ignored = []string{"hello", "ismaster", "ping", "endsessions", "buildinfo", "saslstart", "saslcontinue", "killcursors"}

func (c *commandCounter) monitor() *event.CommandMonitor {
	return &event.CommandMonitor{Started: func(ctx context.Context, e *event.CommandStartedEvent) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if !c.armed || requestid.From(ctx) == "" || slices.Contains(ignored, strings.ToLower(e.CommandName)) {
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

	// What each read costs: for the operator the guard's read of the project;
	// for a user the guard's read of the user (its own document proves the
	// project); one page of users; one read of the project's roles, shared
	// by the guard's policy and every roles{...} of the page.
	for _, c := range []struct {
		who, first string
		got, want  []string
	}{
		{"operator", "10", opTen, []string{"find projects", "find roles", "find users"}},
		{"operator", "100", opHundred, []string{"find projects", "find roles", "find users"}},
		{"user", "10", userTen, []string{"find roles", "find users", "find users"}},
		{"user", "100", userHundred, []string{"find roles", "find users", "find users"}},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s, users(first: %s) { roles }: commands %q, want %q", c.who, c.first, c.got, c.want)
		}
	}

	// The page's roles are read only when asked for (a user's guard reads
	// the project's roles for its policy either way).
	for _, c := range []struct {
		who  string
		c    *atriumtest.Client
		want []string
	}{{"operator", op, []string{"find projects", "find users"}}, {"user", uc, []string{"find roles", "find users", "find users"}}} {
		got := counter.during(func() { c.c.MustDo(t, `{ users(first: 25) { edges { node { id email } } } }`, nil, nil) })
		if !slices.Equal(got, c.want) {
			t.Errorf("%s, users(first: 25) without roles: commands %q, want %q", c.who, got, c.want)
		}
	}
}

// updateProject reads the project once: the guard's read is the one the
// update starts from.
func TestUpdateProjectReadsOnce(t *testing.T) {
	t.Parallel()
	counter := &commandCounter{}
	s := atriumtest.NewServer(t, atriumtest.WithMonitor(counter.monitor()))
	op := s.Operator(s.Sandbox)
	var out struct {
		UpdateProject struct{ Project struct{ Name string } }
	}
	got := counter.during(func() {
		op.MustDo(t, `mutation { updateProject(input: {name: "Renamed"}) { project { name } } }`, nil, &out)
	})
	if out.UpdateProject.Project.Name != "Renamed" {
		t.Fatalf("updateProject answered %+v", out)
	}
	reads, writes := 0, 0
	for _, c := range got {
		switch c {
		case "find projects":
			reads++
		case "update projects":
			writes++
		}
	}
	if reads != 1 || writes != 1 {
		t.Fatalf("updateProject: %d reads and %d writes of the project, want 1 and 1 (commands %q)", reads, writes, got)
	}
	// A stale copy is not a lost update: the name is stored.
	var p struct{ Project struct{ Name string } }
	op.MustDo(t, `{ project { name } }`, nil, &p)
	if p.Project.Name != "Renamed" {
		t.Fatalf("project name %q after the update", p.Project.Name)
	}
}
