package listing_test

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"atrium/atriumtest"
	"atrium/client"
)

// listedUser is a user as the listing shows it.
type listedUser struct {
	ID, Name, Email, Profile, Status string
	CreatedAt                        time.Time
}

const usersQuery = `query($first: Int, $after: String, $filter: UserFilter, $orderBy: UserOrder) {
	users(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
		totalCount
		pageInfo { hasNextPage endCursor }
		edges { cursor node { id name email profile status createdAt } }
	}
}`

type usersPage struct {
	Users struct {
		TotalCount int
		PageInfo   struct {
			HasNextPage bool
			EndCursor   *string
		}
		Edges []struct {
			Cursor string
			Node   listedUser
		}
	}
}

// pageAll follows endCursor from the first page until hasNextPage is false
// and returns every user in the order served. Every page must report
// totalCount want, be full unless it is the last, and end with endCursor.
func pageAll(t *testing.T, c *atriumtest.Client, first int, filter, order map[string]any, want int) []listedUser {
	t.Helper()
	var all []listedUser
	var after any
	for page := 1; ; page++ {
		if page > want/first+2 {
			t.Fatalf("page %d: paging does not end (%d users so far, %d expected)", page, len(all), want)
		}
		var out usersPage
		vars := map[string]any{"first": first, "after": after}
		if filter != nil {
			vars["filter"] = filter
		}
		if order != nil {
			vars["orderBy"] = order
		}
		c.MustDo(t, usersQuery, vars, &out)
		u := out.Users
		if u.TotalCount != want {
			t.Fatalf("page %d: totalCount %d, want %d", page, u.TotalCount, want)
		}
		if len(u.Edges) > first || (u.PageInfo.HasNextPage && len(u.Edges) != first) {
			t.Fatalf("page %d: %d edges with first %d and hasNextPage %v", page, len(u.Edges), first, u.PageInfo.HasNextPage)
		}
		if n := len(u.Edges); n == 0 {
			if u.PageInfo.EndCursor != nil || u.PageInfo.HasNextPage {
				t.Fatalf("page %d: empty page with pageInfo %+v", page, u.PageInfo)
			}
		} else if u.PageInfo.EndCursor == nil || *u.PageInfo.EndCursor != u.Edges[n-1].Cursor {
			t.Fatalf("page %d: endCursor %v is not the last edge's cursor %q", page, u.PageInfo.EndCursor, u.Edges[n-1].Cursor)
		}
		for _, e := range u.Edges {
			all = append(all, e.Node)
		}
		if !u.PageInfo.HasNextPage {
			return all
		}
		after = *u.PageInfo.EndCursor
	}
}

// userOrders are the orders of a listing and how to compare two users in each
// (ties broken by id, in the same direction).
var userOrders = []struct {
	field, dir string
	key        func(u listedUser) string
}{
	{"CREATED_AT", "ASC", func(u listedUser) string { return u.CreatedAt.UTC().Format("2006-01-02T15:04:05.000000000Z") }},
	{"CREATED_AT", "DESC", func(u listedUser) string { return u.CreatedAt.UTC().Format("2006-01-02T15:04:05.000000000Z") }},
	{"NAME", "ASC", func(u listedUser) string { return u.Name }},
	{"NAME", "DESC", func(u listedUser) string { return u.Name }},
	{"EMAIL", "ASC", func(u listedUser) string { return u.Email }},
	{"EMAIL", "DESC", func(u listedUser) string { return u.Email }},
}

// checkListing asserts that got holds exactly the users of want, each
// once, with the stored values, in the order (key, then id; reversed for
// DESC).
func checkListing(t *testing.T, got []listedUser, want map[string]listedUser, key func(listedUser) string, desc bool) {
	t.Helper()
	seen := map[string]bool{}
	for i, u := range got {
		if seen[u.ID] {
			t.Fatalf("user %s (%q) listed twice (position %d)", u.ID, u.Name, i)
		}
		seen[u.ID] = true
		w, ok := want[u.ID]
		if !ok {
			t.Fatalf("user %s (%q, %s) listed but not expected", u.ID, u.Name, u.Email)
		}
		if u.Name != w.Name || u.Email != w.Email || u.Profile != w.Profile || u.Status != w.Status {
			t.Fatalf("user %s listed as %+v, want %+v", u.ID, u, w)
		}
		if i > 0 {
			prev := got[i-1]
			c := cmp.Or(strings.Compare(key(prev), key(u)), strings.Compare(prev.ID, u.ID))
			if (!desc && c >= 0) || (desc && c <= 0) {
				t.Fatalf("out of order at %d: %q/%s then %q/%s", i, key(prev), prev.ID, key(u), u.ID)
			}
		}
	}
	if len(seen) != len(want) {
		var missing []string
		for id, w := range want {
			if !seen[id] {
				missing = append(missing, w.Name+" <"+w.Email+">")
			}
		}
		t.Fatalf("%d of %d users missing, e.g. %v", len(missing), len(want), missing[:min(5, len(missing))])
	}
}

// Names with duplicates, case differences, regex metacharacters and non-ASCII
// letters; emails in an order unrelated to creation or names.
var listNames = []string{
	"Ann Smith", "anne", "JOANNA", "Bob", "bob", "Carol (locum)", "Dr. Who", "Drx Ray",
	"Élodie", "élodie", "Zed", "zed", "Mia", "Ann Smith", "Bob", "a+b", "Zoë",
}

func TestUsersPaging(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	op := s.Operator(s.Sandbox)
	app := atriumtest.CreateNamedApplication(t, op, "Portal")
	roles := []string{atriumtest.CreateFullAccessRole(t, op, "R0"), atriumtest.CreateFullAccessRole(t, op, "R1"), atriumtest.CreateFullAccessRole(t, op, "R2")}

	const total = 250
	want := map[string]listedUser{}
	var ids []string
	tickets := map[int]string{}
	roleOf := map[string][]string{}
	var sharedProfile string
	for start := 0; start < total; start += 100 {
		var rows []map[string]any
		for i := start; i < min(start+100, total); i++ {
			name := listNames[(i*7)%len(listNames)]
			if i%4 == 0 {
				name = fmt.Sprintf("%s %03d", name, (i*13)%total)
			}
			email := fmt.Sprintf("%s.%03d@%s", []string{"Zoe", "adam", "mike", "Beth"}[i%4], (i*101)%total, []string{"example.org", "b.example"}[i%2])
			row := map[string]any{"email": email, "username": "  " + name + " ", "applicationId": app}
			switch i % 3 {
			case 0:
				row["roles"] = []string{roles[0]}
			case 1:
				row["roles"] = []string{roles[1]}
			default:
				row["roles"] = []string{roles[1], roles[2]}
			}
			if sharedProfile != "" && i%40 == 7 {
				row["profile"] = sharedProfile
			} else {
				row["resource"] = map[string]any{"resourceType": "Practitioner"}
			}
			rows = append(rows, row)
		}
		var out struct {
			InviteUsers struct {
				Results []struct {
					User *struct {
						ID, Profile string
						CreatedAt   time.Time
					}
					InvitationURL *string
					Error         *struct{ Code, Message string }
				}
			}
		}
		op.MustDo(t, `mutation($rows: [InviteUserInput!]!) { inviteUsers(input: $rows) {
			results { user { id profile createdAt } invitationUrl error { code message } } } }`, map[string]any{"rows": rows}, &out)
		if len(out.InviteUsers.Results) != len(rows) {
			t.Fatalf("batch at %d: %d results for %d rows", start, len(out.InviteUsers.Results), len(rows))
		}
		for j, r := range out.InviteUsers.Results {
			i := start + j
			if r.Error != nil || r.User == nil || r.InvitationURL == nil {
				t.Fatalf("row %d: %+v", i, r.Error)
			}
			if i == 0 {
				sharedProfile = r.User.Profile
			}
			if i == 5 || i == 77 || i == 140 {
				tickets[i] = atriumtest.Ticket(t, *r.InvitationURL)
			}
			row := rows[j]
			want[r.User.ID] = listedUser{
				ID: r.User.ID, Name: strings.TrimSpace(row["username"].(string)), Email: strings.ToLower(row["email"].(string)),
				Profile: r.User.Profile, Status: "INVITED", CreatedAt: r.User.CreatedAt,
			}
			ids = append(ids, r.User.ID)
			roleOf[r.User.ID] = row["roles"].([]string)
		}
	}
	for i, ticket := range tickets {
		s.Accept(t, ticket, testPassword)
		w := want[ids[i]]
		w.Status = "ACTIVE"
		want[ids[i]] = w
	}
	op.MustDo(t, `mutation($id: ID!) { disableUser(input: {id: $id}) { user { id } } }`, map[string]any{"id": ids[140]}, nil)
	w := want[ids[140]]
	w.Status = "DISABLED"
	want[ids[140]] = w
	// A user of another project never shows up.
	other := s.CreateProject(t, "Other")
	otherOp := s.Operator(other)
	atriumtest.Invite(t, otherOp, client.InviteUserInput{Email: ptr("zoe.000@example.org"), Username: ptr("Ann Smith"), ApplicationId: atriumtest.CreateNamedApplication(t, otherOp, "Other"), Roles: []string{atriumtest.CreateFullAccessRole(t, otherOp, "R")}})

	// The data really differ between orders.
	byCreated := pageAll(t, op, 100, nil, nil, total)
	if slices.IsSortedFunc(byCreated, func(a, b listedUser) int { return strings.Compare(a.Name, b.Name) }) ||
		slices.IsSortedFunc(byCreated, func(a, b listedUser) int { return strings.Compare(a.Email, b.Email) }) {
		t.Fatal("test data: creation order equals name or email order")
	}

	for _, o := range userOrders {
		t.Run("order "+o.field+" "+o.dir, func(t *testing.T) {
			t.Parallel()
			got := pageAll(t, op, 40, nil, map[string]any{"field": o.field, "direction": o.dir}, total)
			checkListing(t, got, want, o.key, o.dir == "DESC")
		})
	}

	subset := func(keep func(id string, u listedUser) bool) map[string]listedUser {
		out := map[string]listedUser{}
		for id, u := range want {
			if keep(id, u) {
				out[id] = u
			}
		}
		return out
	}
	nameHas := func(part string) map[string]listedUser {
		return subset(func(_ string, u listedUser) bool {
			return strings.Contains(strings.ToLower(u.Name), strings.ToLower(part))
		})
	}
	holds := func(role string) map[string]listedUser {
		return subset(func(id string, _ listedUser) bool { return slices.Contains(roleOf[id], role) })
	}
	one := want[ids[123]]
	for fi, tc := range []struct {
		name   string
		filter map[string]any
		want   map[string]listedUser
		min    int
	}{
		{"name substring, any case", map[string]any{"name": "aNN"}, nameHas("ann"), 20},
		{"name with regex metacharacters", map[string]any{"name": "dr. "}, nameHas("dr. "), 5},
		{"name with parentheses", map[string]any{"name": "(LOCUM)"}, nameHas("(locum)"), 5},
		{"name with plus", map[string]any{"name": "a+b"}, nameHas("a+b"), 5},
		{"name with a non-ASCII letter in another case", map[string]any{"name": "éLODIE"}, nameHas("élodie"), 10},
		{"email exact", map[string]any{"email": one.Email}, map[string]listedUser{one.ID: one}, 1},
		{"email exact, other spelling", map[string]any{"email": "  " + strings.ToUpper(one.Email)}, map[string]listedUser{one.ID: one}, 1},
		{"email is not a substring match", map[string]any{"email": one.Email[1:]}, map[string]listedUser{}, 0},
		{"profile exact", map[string]any{"profile": sharedProfile}, subset(func(_ string, u listedUser) bool { return u.Profile == sharedProfile }), 5},
		{"roleId R0", map[string]any{"roleId": roles[0]}, holds(roles[0]), 80},
		{"roleId R1", map[string]any{"roleId": roles[1]}, holds(roles[1]), 160},
		{"roleId R2", map[string]any{"roleId": roles[2]}, holds(roles[2]), 80},
		{"status INVITED", map[string]any{"status": "INVITED"}, subset(func(_ string, u listedUser) bool { return u.Status == "INVITED" }), 247},
		{"status ACTIVE", map[string]any{"status": "ACTIVE"}, subset(func(_ string, u listedUser) bool { return u.Status == "ACTIVE" }), 2},
		{"status DISABLED", map[string]any{"status": "DISABLED"}, subset(func(_ string, u listedUser) bool { return u.Status == "DISABLED" }), 1},
		{"role and name", map[string]any{"roleId": roles[2], "name": "bob"}, subset(func(id string, u listedUser) bool {
			return slices.Contains(roleOf[id], roles[2]) && strings.Contains(strings.ToLower(u.Name), "bob")
		}), 5},
	} {
		// About four pages per filter, each filter in another order.
		o := userOrders[fi%len(userOrders)]
		first := max(1, (len(tc.want)+3)/4)
		t.Run(fmt.Sprintf("filter %s/%s %s/first %d", tc.name, o.field, o.dir, first), func(t *testing.T) {
			t.Parallel()
			if len(tc.want) < tc.min {
				t.Fatalf("test data: %d users match, want at least %d", len(tc.want), tc.min)
			}
			got := pageAll(t, op, first, tc.filter, map[string]any{"field": o.field, "direction": o.dir}, len(tc.want))
			checkListing(t, got, tc.want, o.key, o.dir == "DESC")
		})
	}

	t.Run("default page size", func(t *testing.T) {
		t.Parallel()
		var out usersPage
		op.MustDo(t, `{ users { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }`, nil, &out)
		if len(out.Users.Edges) != 25 || !out.Users.PageInfo.HasNextPage || out.Users.TotalCount != total {
			t.Fatalf("default page: %d edges, %+v, totalCount %d", len(out.Users.Edges), out.Users.PageInfo, out.Users.TotalCount)
		}
		for i, e := range out.Users.Edges {
			if e.Node.ID != byCreated[i].ID {
				t.Fatalf("default order at %d: %s, want %s", i, e.Node.ID, byCreated[i].ID)
			}
		}
		// Any edge's cursor resumes right after that edge.
		var next usersPage
		op.MustDo(t, usersQuery, map[string]any{"first": 5, "after": out.Users.Edges[9].Cursor}, &next)
		for i, e := range next.Users.Edges {
			if e.Node.ID != byCreated[10+i].ID {
				t.Fatalf("resumed at 10+%d: %s, want %s", i, e.Node.ID, byCreated[10+i].ID)
			}
		}
		var max usersPage
		op.MustDo(t, usersQuery, map[string]any{"first": 100}, &max)
		if len(max.Users.Edges) != 100 {
			t.Fatalf("first 100: %d edges", len(max.Users.Edges))
		}
	})

	t.Run("bad arguments", func(t *testing.T) {
		t.Parallel()
		var page usersPage
		op.MustDo(t, usersQuery, map[string]any{"first": 3, "orderBy": map[string]any{"field": "NAME"}}, &page)
		nameCursor := page.Users.PageInfo.EndCursor
		enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
		for _, tc := range []struct {
			name, field string
			vars        map[string]any
		}{
			{"first 0", "first", map[string]any{"first": 0}},
			{"first 101", "first", map[string]any{"first": 101}},
			{"first negative", "first", map[string]any{"first": -1}},
			{"garbage after", "after", map[string]any{"after": "!!not a cursor!!"}},
			{"base64 of garbage", "after", map[string]any{"after": enc("garbage")}},
			{"cursor without id", "after", map[string]any{"after": enc(`{"o":"name","k":"x"}`)}},
			{"created cursor with a bad date", "after", map[string]any{"after": enc(`{"f":"createdAt","k":"yesterday","t":true,"i":"x"}`)}},
			{"cursor of an unknown order", "after", map[string]any{"after": enc(`{"f":"passwordHash","k":"x","i":"x"}`)}},
			{"NAME cursor with EMAIL order", "after", map[string]any{"after": *nameCursor, "orderBy": map[string]any{"field": "EMAIL"}}},
			{"NAME cursor with the default order", "after", map[string]any{"after": *nameCursor}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				op.Fails(t, "BAD_USER_INPUT", tc.field, usersQuery, tc.vars)
			})
		}
	})
}

// Users page backward (last/before) in every order exactly as they page
// forward: the same users, each once, in the same order, 9 at a time (60
// users: the last page is not full).
func TestUsersPageBackwardInEveryOrder(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	op := s.Operator(s.Sandbox)
	app := atriumtest.CreateNamedApplication(t, op, "Portal")
	role := atriumtest.CreateFullAccessRole(t, op, "Staff")
	const total = 60
	var rows []map[string]any
	for i := range total {
		rows = append(rows, map[string]any{"email": fmt.Sprintf("%s.%03d@example.org", []string{"zoe", "adam", "mike"}[i%3], (i*37)%total),
			"username": listNames[(i*7)%len(listNames)], "applicationId": app, "roles": []string{role}, "resource": map[string]any{"resourceType": "Patient"}})
	}
	op.MustDo(t, `mutation($rows: [InviteUserInput!]!) { inviteUsers(input: $rows) { results { error { message } } } }`, map[string]any{"rows": rows}, nil)
	for _, o := range userOrders {
		order := fmt.Sprintf("orderBy: {field: %s, direction: %s}", o.field, o.dir)
		// Forward paging is checked page by page in TestUsersPaging; here the
		// whole listing in one page is what backward paging must give.
		forward := pageIDs(t, op, "users", order, 100, false)
		sameListing(t, fmt.Sprintf("users %s %s backward", o.field, o.dir), forward, pageIDs(t, op, "users", order, 9, true), total)
	}
}
