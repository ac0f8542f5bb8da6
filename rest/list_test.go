package rest_test

// The v2 listings of machine clients and developers in every sort key and
// direction the platform defines, paged through small pages: every item
// once, none missing, in the order asked for.

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"atrium/atriumtest"
)

// listed is an item of a v2 listing, by the fields the orders read.
type listed struct{ id, name, email string }

// pageThrough reads a v2 listing page by page (limit 4) and returns the
// items in the order served; it fails on a repeated item or a listing that
// does not end.
func pageThrough(t *testing.T, s *atriumtest.Server, path, sort, order string, total int) []listed {
	t.Helper()
	var all []listed
	seen := map[string]bool{}
	cursor := ""
	for page := 0; ; page++ {
		if page > total/4+2 {
			t.Fatalf("%s sort=%s %s: paging does not end", path, sort, order)
		}
		q := url.Values{"limit": {"4"}, "sort": {sort}, "sortOrder": {order}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		status, _, body := call(t, s, http.MethodGet, path+"?"+q.Encode(), "", "")
		if status != http.StatusOK {
			t.Fatalf("%s?%s: %d %v", path, q.Encode(), status, body)
		}
		data := body["data"].([]any)
		for _, d := range data {
			m := d.(map[string]any)
			item := listed{id: m["id"].(string), name: m["name"].(string)}
			item.email, _ = m["email"].(string)
			if seen[item.id] {
				t.Fatalf("%s sort=%s %s: %s twice", path, sort, order, item.id)
			}
			seen[item.id] = true
			all = append(all, item)
		}
		next, _ := body["metadata"].(map[string]any)["nextCursor"].(string)
		if next == "" {
			return all
		}
		if len(data) != 4 {
			t.Fatalf("%s sort=%s %s: a page of %d before the last", path, sort, order, len(data))
		}
		cursor = next
	}
}

// checkOrders pages through a listing in every sort and direction and
// compares with the order key gives (ties broken by id); a key of nil
// checks only that the descending order is the ascending one reversed.
func checkOrders(t *testing.T, s *atriumtest.Server, path string, want []listed, keys map[string]func(listed) string) {
	t.Helper()
	for sort, key := range keys {
		asc := pageThrough(t, s, path, sort, "asc", len(want))
		desc := pageThrough(t, s, path, sort, "desc", len(want))
		if len(asc) != len(want) || len(desc) != len(want) {
			t.Fatalf("%s sort=%s: %d and %d items, want %d (gaps)", path, sort, len(asc), len(desc), len(want))
		}
		reversed := slices.Clone(desc)
		slices.Reverse(reversed)
		if !slices.Equal(asc, reversed) {
			t.Errorf("%s sort=%s: desc is not asc reversed:\nasc  %v\ndesc %v", path, sort, asc, desc)
		}
		if key == nil {
			continue
		}
		expected := slices.Clone(want)
		slices.SortFunc(expected, func(a, b listed) int { return cmp.Or(cmp.Compare(key(a), key(b)), cmp.Compare(a.id, b.id)) })
		if !slices.Equal(asc, expected) {
			t.Errorf("%s sort=%s asc:\n got  %v\n want %v", path, sort, asc, expected)
		}
	}
}

func TestM2MListSorts(t *testing.T) {
	s := atriumtest.NewServer(t)
	want := pageThrough(t, s, "/m2m/v2/list", "id", "asc", 1) // the project's default client
	for i := range 14 {
		name := fmt.Sprintf("job-%02d", (i*5)%7) // names repeat: ties broken by id
		status, _, body := call(t, s, http.MethodPost, "/m2m", jsonType, `{"name": "`+name+`", "accessPolicy": {"rule": [{"resource": ["*"], "action": ["*"], "effect": "Allow"}]}}`)
		if status != http.StatusOK {
			t.Fatalf("create: %d %v", status, body)
		}
		want = append(want, listed{id: body["id"].(string), name: name})
	}
	byID := func(l listed) string { return "" } // equal keys: the id decides
	checkOrders(t, s, "/m2m/v2/list", want, map[string]func(listed) string{
		"createdAt": nil, "id": byID, "name": func(l listed) string { return l.name },
		"email": byID, "phoneNumber": byID, // machine clients have neither: the id's order
	})
	// GraphQL's m2mClients and developers take the same orders.
	rest := pageThrough(t, s, "/m2m/v2/list", "name", "desc", len(want))
	var gql struct {
		M2MClients struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	s.Operator(s.Sandbox).MustDo(t, `{ m2mClients(first: 100, orderBy: {field: NAME, direction: DESC}) { edges { node { id } } } }`, nil, &gql)
	if len(gql.M2MClients.Edges) != len(rest) {
		t.Fatalf("GraphQL lists %d machine clients, REST %d", len(gql.M2MClients.Edges), len(rest))
	}
	for i, e := range gql.M2MClients.Edges {
		if e.Node.ID != rest[i].id {
			t.Fatalf("GraphQL's order by name desc differs from REST's at %d", i)
		}
	}
}

func TestDeveloperListSorts(t *testing.T) {
	s := atriumtest.NewServer(t)
	_, _, role := call(t, s, http.MethodPost, "/iam/role", jsonType, `{"name": "Staff"}`)
	var want []listed
	for i := range 10 {
		email := fmt.Sprintf("%s%02d@example.com", []string{"zoe", "adam", "mia"}[i%3], (i*7)%10)
		status, _, body := call(t, s, http.MethodPost, "/developer/invite", jsonType,
			`{"email": "`+email+`", "practitioner": {"resourceType": "Practitioner"}, "roles": ["`+role["id"].(string)+`"]}`)
		if status != http.StatusOK {
			t.Fatalf("invite: %d %v", status, body)
		}
		want = append(want, listed{id: body["id"].(string), name: email, email: email}) // the name defaults to the email
	}
	checkOrders(t, s, "/developer/v2/list", want, map[string]func(listed) string{
		"createdAt": nil, "id": func(listed) string { return "" }, "name": func(l listed) string { return l.name },
		"email": func(l listed) string { return l.email }, "phoneNumber": func(listed) string { return "" },
	})
	var gql struct {
		Developers struct {
			Edges []struct{ Node struct{ Email string } }
		}
	}
	s.Operator(s.Sandbox).MustDo(t, `{ developers(first: 100, orderBy: {field: EMAIL}) { edges { node { email } } } }`, nil, &gql)
	emails := pageThrough(t, s, "/developer/v2/list", "email", "asc", len(want))
	if len(gql.Developers.Edges) != len(emails) {
		t.Fatalf("GraphQL lists %d developers, REST %d", len(gql.Developers.Edges), len(emails))
	}
	for i, e := range gql.Developers.Edges {
		if e.Node.Email != emails[i].email {
			t.Fatalf("GraphQL's developers by email differ from REST's at %d", i)
		}
	}
	// A cursor of one order is refused in another.
	_, _, first := call(t, s, http.MethodGet, "/developer/v2/list?limit=2&sort=email", "", "")
	cursor := first["metadata"].(map[string]any)["nextCursor"].(string)
	status, _, body := call(t, s, http.MethodGet, "/developer/v2/list?limit=2&sort=name&cursor="+url.QueryEscape(cursor), "", "")
	problem(t, status, body, http.StatusBadRequest, "BAD_USER_INPUT", "cursor")
}
