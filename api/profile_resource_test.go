package api_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"atrium/atriumtest"
)

// profileResource gives each user, developer and machine client its stored
// FHIR resource, and a page of users with their profiles costs one store
// command more than the page without them, whatever its size.
func TestProfileResourceIsOneBatchPerPage(t *testing.T) {
	t.Parallel()
	counter := &commandCounter{}
	s := atriumtest.NewServer(t, atriumtest.WithMonitor(counter.monitor()))
	op := s.Operator(s.Sandbox)
	app := createApplication(t, op, "Portal")
	role := createRole(t, op, "Staff")
	const total = 40
	var rows []map[string]any
	for i := range total {
		rows = append(rows, map[string]any{"email": fmt.Sprintf("p%02d@example.com", i), "applicationId": app, "roles": []string{role},
			"resource": map[string]any{"resourceType": "Practitioner", "name": []any{map[string]any{"family": fmt.Sprintf("Family%02d", i), "given": []any{"Ann", "Lee"}}}}})
	}
	op.MustDo(t, `mutation($rows: [InviteUserInput!]!) { inviteUsers(input: $rows) { results { error { message } } } }`, map[string]any{"rows": rows}, nil)
	op.MustDo(t, `mutation($r: ID!) { inviteDeveloper(input: {email: "dev@example.com", roles: [$r], practitioner: {resourceType: "Practitioner", name: [{family: "Dev"}]}}) { developer { id } } }`,
		map[string]any{"r": role}, nil)
	op.MustDo(t, `mutation($r: ID!) { createM2MClient(input: {name: "Backend", roles: [$r]}) { m2mClient { id } } }`, map[string]any{"r": role}, nil)

	type profiled struct {
		Profile         string
		ProfileResource map[string]any
	}
	var out struct {
		Users struct{ Edges []struct{ Node profiled } }
	}
	page := func(first int, withProfiles bool) []string {
		fields := "profile"
		if withProfiles {
			fields += " profileResource"
		}
		return counter.during(func() {
			op.MustDo(t, fmt.Sprintf(`{ users(first: %d) { edges { node { %s } } } }`, first, fields), nil, &out)
		})
	}
	for _, first := range []int{5, total} {
		without, with := page(first, false), page(first, true)
		extra := slices.Clone(with)
		for _, c := range without {
			if i := slices.Index(extra, c); i >= 0 {
				extra = slices.Delete(extra, i, i+1)
			}
		}
		if !slices.Equal(extra, []string{"find profiles"}) {
			t.Errorf("users(first: %d): with profiles %q, without %q: the profiles cost %q, want one find", first, with, without, extra)
		}
		if len(out.Users.Edges) != first {
			t.Fatalf("users(first: %d): %d edges", first, len(out.Users.Edges))
		}
		for _, e := range out.Users.Edges {
			r := e.Node.ProfileResource
			if r == nil || r["resourceType"].(string)+"/"+r["id"].(string) != e.Node.Profile {
				t.Fatalf("profileResource of %s: %v", e.Node.Profile, r)
			}
			name := r["name"].([]any)[0].(map[string]any)
			if !strings.HasPrefix(name["family"].(string), "Family") || !slices.Equal(name["given"].([]any), []any{"Ann", "Lee"}) {
				t.Fatalf("profileResource of %s lost its nested fields: %v", e.Node.Profile, r)
			}
		}
	}

	var others struct {
		Developers struct{ Edges []struct{ Node profiled } }
		M2mClients struct{ Edges []struct{ Node profiled } }
	}
	op.MustDo(t, `{ developers { edges { node { profile profileResource } } } m2mClients { edges { node { profile profileResource } } } }`, nil, &others)
	var got []string
	for _, e := range append(others.Developers.Edges, others.M2mClients.Edges...) {
		r := e.Node.ProfileResource
		if r == nil || r["resourceType"].(string)+"/"+r["id"].(string) != e.Node.Profile {
			t.Fatalf("profileResource of %s: %v", e.Node.Profile, r)
		}
		got = append(got, r["resourceType"].(string))
	}
	if !slices.Contains(got, "Practitioner") || !slices.Contains(got, "Device") {
		t.Fatalf("developer and machine client profiles: %v", got)
	}
}
