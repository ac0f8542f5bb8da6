package api_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"atrium/atriumtest"
)

// The published schema carries no directive of the code generator (those
// live in gqlgen.yml), and the custom scalars name their specifications.
func TestPublishedSchemaHasNoGeneratorDirectives(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	var out struct {
		Schema struct {
			Directives []struct{ Name string }
			Types      []struct {
				Name           string
				Kind           string
				SpecifiedByURL *string
			}
		} `json:"__schema"`
	}
	s.Client("", "").MustDo(t, `{ __schema { directives { name } types { name kind specifiedByURL } } }`, nil, &out)
	var names []string
	for _, d := range out.Schema.Directives {
		names = append(names, d.Name)
	}
	slices.Sort(names)
	for _, n := range names {
		if strings.HasPrefix(n, "go") {
			t.Errorf("introspection shows gqlgen's directive @%s (all: %v)", n, names)
		}
	}
	for _, n := range []string{"guard", "authenticated", "public", "deprecated", "specifiedBy"} {
		if !slices.Contains(names, n) {
			t.Errorf("introspection does not show @%s (all: %v)", n, names)
		}
	}
	want := map[string]string{
		"Time": "https://www.rfc-editor.org/rfc/rfc3339",
		"JSON": "https://www.rfc-editor.org/rfc/rfc8259",
	}
	for _, ty := range out.Schema.Types {
		if ty.Kind != "SCALAR" {
			continue
		}
		got := ""
		if ty.SpecifiedByURL != nil {
			got = *ty.SpecifiedByURL
		}
		if got != want[ty.Name] {
			t.Errorf("scalar %s: specifiedByURL %q, want %q", ty.Name, got, want[ty.Name])
		}
		delete(want, ty.Name)
	}
	if len(want) != 0 {
		t.Errorf("scalars missing from introspection: %v", want)
	}

	sdl, err := os.ReadFile("../schema.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(sdl), "@go") {
		t.Error("schema.graphqls uses a @go… directive; put the generator's settings in gqlgen.yml")
	}
}
