package listing_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"atrium/atriumtest"
)

// The Relay paging of every connection, forward (first/after) and backward
// (last/before). The users' orders and filters are in users_list_test.go.

// relayPage is one page of any connection, as far as paging goes.
type relayPage struct {
	PageInfo struct {
		HasNextPage, HasPreviousPage bool
		StartCursor, EndCursor       *string
	}
	Edges []struct {
		Cursor string
		Node   struct{ ID string }
	}
}

// pageIDs pages through the connection field (with args, e.g. orderBy)
// size items at a time, forward or backward, checking each page's
// pageInfo, and returns the ids in the listing's order.
func pageIDs(t *testing.T, c *atriumtest.Client, field, args string, size int, backward bool) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for page := 1; ; page++ {
		if page > 1000/size+2 {
			t.Fatalf("%s: paging does not end after %d pages", field, page)
		}
		sel := fmt.Sprintf("first: %d", size)
		if backward {
			sel = fmt.Sprintf("last: %d", size)
		}
		if cursor != "" {
			sel += fmt.Sprintf(", %s: %q", map[bool]string{false: "after", true: "before"}[backward], cursor)
		}
		if args != "" {
			sel += ", " + args
		}
		r := c.Do(t, fmt.Sprintf(`{ %s(%s) { pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id } } } }`, field, sel), nil)
		if len(r.Errors) > 0 {
			t.Fatalf("%s(%s): %s", field, sel, r.Raw)
		}
		var out map[string]relayPage
		if err := json.Unmarshal(r.Data, &out); err != nil {
			t.Fatal(err)
		}
		p := out[field]
		more, other := p.PageInfo.HasNextPage, p.PageInfo.HasPreviousPage
		if backward {
			more, other = other, more
		}
		if other {
			t.Fatalf("%s(%s): paging one way, yet the other way says there is more: %+v", field, sel, p.PageInfo)
		}
		n := len(p.Edges)
		if n > size || (more && n != size) {
			t.Fatalf("%s(%s): %d edges, more %v", field, sel, n, more)
		}
		if n == 0 {
			if p.PageInfo.StartCursor != nil || p.PageInfo.EndCursor != nil || more {
				t.Fatalf("%s(%s): empty page with %+v", field, sel, p.PageInfo)
			}
		} else if p.PageInfo.StartCursor == nil || *p.PageInfo.StartCursor != p.Edges[0].Cursor ||
			p.PageInfo.EndCursor == nil || *p.PageInfo.EndCursor != p.Edges[n-1].Cursor {
			t.Fatalf("%s(%s): start/end cursors %v/%v are not the first and last edges'", field, sel, p.PageInfo.StartCursor, p.PageInfo.EndCursor)
		}
		var got []string
		for _, e := range p.Edges {
			got = append(got, e.Node.ID)
		}
		if backward {
			ids = append(got, ids...)
		} else {
			ids = append(ids, got...)
		}
		if !more {
			return ids
		}
		if backward {
			cursor = *p.PageInfo.StartCursor
		} else {
			cursor = *p.PageInfo.EndCursor
		}
	}
}

// sameListing checks that paging backward gave exactly the forward
// listing: the same ids, each once, in the same order.
func sameListing(t *testing.T, what string, forward, backward []string, want int) {
	t.Helper()
	if len(forward) != want {
		t.Fatalf("%s: %d items forward, want %d", what, len(forward), want)
	}
	seen := map[string]bool{}
	for _, id := range forward {
		if seen[id] {
			t.Fatalf("%s: %s listed twice", what, id)
		}
		seen[id] = true
	}
	if !slices.Equal(forward, backward) {
		t.Fatalf("%s: backward paging differs from forward (%d and %d items)\nforward  %v\nbackward %v", what, len(forward), len(backward), forward, backward)
	}
}

// Developers, machine clients, roles, applications and the audit trail page
// backward exactly as they page forward, over many rows, with page sizes
// that do and do not divide the count.
func TestEveryConnectionPagesBackward(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	op := s.Operator(s.Sandbox)
	role := atriumtest.CreateFullAccessRole(t, op, "Staff")
	const rows = 13
	for i := range rows {
		op.MustDo(t, `mutation($e: String!, $r: ID!) { inviteDeveloper(input: {email: $e, roles: [$r]}) { developer { id } } }`,
			map[string]any{"e": fmt.Sprintf("dev%02d@example.com", i), "r": role}, nil)
		op.MustDo(t, `mutation($n: String!, $r: ID!) { createM2MClient(input: {name: $n, roles: [$r]}) { m2mClient { id } } }`,
			map[string]any{"n": fmt.Sprintf("client %02d", i), "r": role}, nil)
		// Names out of creation order, some equal but for case.
		name := fmt.Sprintf("%c%02d", "bAaC"[i%4], (i*7)%rows)
		op.MustDo(t, `mutation($n: String!) { createRole(input: {name: $n}) { role { id } }
			createApplication(input: {name: $n, allowedCallbackUrls: []}) { application { id } } }`, map[string]any{"n": name}, nil)
	}
	for _, c := range []struct {
		field string
		min   int
	}{{"developers", rows}, {"m2mClients", rows}, {"rolesConnection", rows + 1}, {"applicationsConnection", rows}, {"auditEvents", 4*rows + 1}} {
		all := pageIDs(t, op, c.field, "", 100, false)
		if len(all) < c.min {
			t.Fatalf("%s: %d items, want at least %d", c.field, len(all), c.min)
		}
		for _, size := range []int{4, 13} {
			forward := pageIDs(t, op, c.field, "", size, false)
			backward := pageIDs(t, op, c.field, "", size, true)
			sameListing(t, fmt.Sprintf("%s by %d", c.field, size), forward, backward, len(all))
		}
	}
}

// The paging arguments are checked: first and last together, a last out
// of range and a before that is no cursor are refused, each naming its
// argument; a range bounded on both sides holds what lies between.
func TestPagingArguments(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	op := s.Operator(s.Sandbox)
	role := atriumtest.CreateFullAccessRole(t, op, "Staff")
	for i := range 6 {
		op.MustDo(t, `mutation($n: String!, $r: ID!) { createM2MClient(input: {name: $n, roles: [$r]}) { m2mClient { id } } }`,
			map[string]any{"n": fmt.Sprintf("client %02d", i), "r": role}, nil)
	}
	q := `query($first: Int, $last: Int, $after: String, $before: String) { m2mClients(first: $first, last: $last, after: $after, before: $before) {
		pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id } } } }`
	for _, c := range []struct {
		name, field string
		vars        map[string]any
	}{
		{"first and last", "last", map[string]any{"first": 2, "last": 2}},
		{"last 0", "last", map[string]any{"last": 0}},
		{"last 101", "last", map[string]any{"last": 101}},
		{"garbage before", "before", map[string]any{"last": 2, "before": "!!not a cursor!!"}},
		{"garbage before, paging forward", "before", map[string]any{"first": 2, "before": "bm90IGEgY3Vyc29y"}},
	} {
		r := op.Fails(t, "BAD_USER_INPUT", c.field, q, c.vars)
		t.Logf("%s: %s", c.name, r.Errors[0].Message)
	}
	var all struct{ M2mClients relayPage }
	op.MustDo(t, q, map[string]any{"first": 100}, &all)
	e := all.M2mClients.Edges
	if len(e) < 7 { // 6 and the sandbox's own
		t.Fatalf("%d clients", len(e))
	}
	for _, vars := range []map[string]any{
		{"first": 100, "after": e[1].Cursor, "before": e[5].Cursor},
		{"last": 100, "after": e[1].Cursor, "before": e[5].Cursor},
	} {
		var out struct{ M2mClients relayPage }
		op.MustDo(t, q, vars, &out)
		var got []string
		for _, x := range out.M2mClients.Edges {
			got = append(got, x.Node.ID)
		}
		if want := []string{e[2].Node.ID, e[3].Node.ID, e[4].Node.ID}; !slices.Equal(got, want) {
			t.Errorf("between the 2nd and 6th (%v): %v, want %v", vars, got, want)
		}
	}
	var tail struct{ M2mClients relayPage }
	op.MustDo(t, q, map[string]any{"last": 2}, &tail)
	if p := tail.M2mClients; len(p.Edges) != 2 || p.Edges[1].Node.ID != e[len(e)-1].Node.ID || !p.PageInfo.HasPreviousPage || p.PageInfo.HasNextPage {
		t.Errorf("last 2: %+v", p)
	}
}

// rolesConnection and applicationsConnection list what the deprecated lists
// list, in the same order (by name); the lists are still served, and
// introspection marks them deprecated.
func TestRolesAndApplicationsConnections(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	op := s.Operator(s.Sandbox)
	for _, n := range []string{"Zeta", "alpha", "Mid", "beta", "Alpha"} {
		op.MustDo(t, `mutation($n: String!) { createRole(input: {name: $n}) { role { id } }
			createApplication(input: {name: $n, allowedCallbackUrls: []}) { application { id } } }`, map[string]any{"n": n}, nil)
	}
	var lists struct {
		Roles, Applications []struct{ ID string }
	}
	op.MustDo(t, `{ roles { id } applications { id } }`, nil, &lists)
	for field, list := range map[string][]struct{ ID string }{"rolesConnection": lists.Roles, "applicationsConnection": lists.Applications} {
		var want []string
		for _, x := range list {
			want = append(want, x.ID)
		}
		if got := pageIDs(t, op, field, "", 2, false); !slices.Equal(got, want) {
			t.Errorf("%s: %v, the list: %v", field, got, want)
		}
	}
	var intro struct {
		Type struct {
			Fields []struct {
				Name              string
				IsDeprecated      bool
				DeprecationReason *string
			}
		} `json:"__type"`
	}
	op.MustDo(t, `{ __type(name: "Query") { fields(includeDeprecated: true) { name isDeprecated deprecationReason } } }`, nil, &intro)
	deprecated := map[string]bool{}
	for _, f := range intro.Type.Fields {
		if f.IsDeprecated && f.DeprecationReason != nil {
			deprecated[f.Name] = true
		}
	}
	if !deprecated["roles"] || !deprecated["applications"] || deprecated["rolesConnection"] || deprecated["applicationsConnection"] {
		t.Errorf("deprecated Query fields: %v", deprecated)
	}
}
