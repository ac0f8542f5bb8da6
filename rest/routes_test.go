package rest

// The route table against the domain's use-case table.

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"atrium/service"
)

// TestRoutesAreUseCases proves that every REST route calls a use case of
// the domain's table (which authorizes and audits it), except the two that
// are not domain operations and those Atrium has no use case for yet; that
// a route with an id in its path calls a use case guarded on that id; and
// that exactly the changes (non-GET) call audited use cases.
func TestRoutesAreUseCases(t *testing.T) {
	table := map[string]service.UseCase{}
	for _, uc := range service.UseCases() {
		table[uc.Name] = uc
	}
	outside := []string{"GET /version", "GET /openapi.json"}
	for _, rt := range routes() {
		key := rt.method + " " + rt.path
		switch {
		case rt.useCase == "":
			if !slices.Contains(outside, key) {
				t.Errorf("%s calls no use case of the domain", key)
			}
			continue
		}
		uc, ok := table[rt.useCase]
		if !ok {
			t.Errorf("%s names %q, which is not in service.UseCases()", key, rt.useCase)
			continue
		}
		if hasID := pathParam.MatchString(rt.path); hasID != (uc.ID != "") {
			t.Errorf("%s: id in the path %v, but use case %s guards an id: %v", key, hasID, uc.Name, uc.ID != "")
		}
		if audited := rt.method != http.MethodGet; audited != uc.Audited() {
			t.Errorf("%s: a change %v, but use case %s audited %v", key, audited, uc.Name, uc.Audited())
		}
		if uc.Public() {
			t.Errorf("%s calls the public use case %s", key, uc.Name)
		}
	}
}

// TestOpenAPIDocumentsTheRoutes compares the description with the table:
// every route documented, nothing documented that is not a route.
func TestOpenAPIDocumentsTheRoutes(t *testing.T) {
	doc := openAPI(routes())
	var documented, routed []string
	for path, ops := range doc["paths"].(map[string]map[string]any) {
		for method := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	for _, rt := range routes() {
		routed = append(routed, rt.method+" "+rt.path)
	}
	slices.Sort(documented)
	slices.Sort(routed)
	if !slices.Equal(documented, routed) {
		t.Errorf("documented %v\nrouted     %v", documented, routed)
	}
	if doc["openapi"] != "3.1.0" {
		t.Errorf("openapi = %v", doc["openapi"])
	}
}

// TestEverythingIsBounded: a deprecated listing reads page after page, and
// refuses a listing longer than maxV1Items instead of reading on.
func TestEverythingIsBounded(t *testing.T) {
	read := func(total int) (func(*int64, string) ([]int, []string, bool, error), *int) {
		calls := 0
		return func(first *int64, after string) ([]int, []string, bool, error) {
			calls++
			start := 0
			if after != "" {
				start, _ = strconv.Atoi(after)
			}
			var page []int
			var cursors []string
			for i := start; i < total && len(page) < int(*first); i++ {
				page, cursors = append(page, i+1), append(cursors, strconv.Itoa(i+1))
			}
			return page, cursors, start+len(page) < total, nil
		}, &calls
	}
	f, calls := read(250)
	got, err := everything("items", "/x/v2/list", f, func(i *int) int { return *i })
	if list, _ := got.([]int); err != nil || len(list) != 250 || list[249] != 250 || *calls != 3 {
		t.Fatalf("250 items: %d items, %v, %d reads", len(list), err, *calls)
	}
	f, calls = read(5000)
	if _, err := everything("items", "/x/v2/list", f, func(i *int) int { return *i }); err == nil || !strings.Contains(err.Error(), "/v1/x/v2/list") || *calls != maxV1Items/100 {
		t.Fatalf("5000 items: %v after %d reads", err, *calls)
	}
}
