package graph_test

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"atrium/access"
)

// accessDirectives are the directives of which every operation carries
// exactly one.
var accessDirectives = []string{"guard", "authenticated", "public"}

// checkGuards returns one line per operation (field of Query, Mutation or
// Subscription) that is not guarded properly: no access directive or more
// than one, an @guard whose action (or orAction) is not catalogued or acts on
// another resource type than its resource (orResource), or whose id argument
// names no argument of the field.
func checkGuards(s *ast.Schema) []string {
	var problems []string
	for _, root := range []*ast.Definition{s.Query, s.Mutation, s.Subscription} {
		if root == nil {
			continue
		}
		for _, f := range root.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue // introspection, added by the parser
			}
			op := root.Name + "." + f.Name
			var found []*ast.Directive
			for _, d := range f.Directives {
				for _, name := range accessDirectives {
					if d.Name == name {
						found = append(found, d)
					}
				}
			}
			if len(found) != 1 {
				problems = append(problems, fmt.Sprintf("%s has %d of @guard, @authenticated, @public; want exactly one", op, len(found)))
				continue
			}
			switch d := found[0]; d.Name {
			case "guard":
				problems = append(problems, checkGuard(s, op, f, d)...)
			default:
				problems = append(problems, checkAuditAction(op, root == s.Mutation, d)...)
			}
		}
	}
	return problems
}

func checkGuard(s *ast.Schema, op string, f *ast.FieldDefinition, d *ast.Directive) []string {
	arg := func(name string) (string, bool) {
		a := d.Arguments.ForName(name)
		if a == nil || a.Value == nil || a.Value.Kind != ast.StringValue {
			return "", false
		}
		return a.Value.Raw, true
	}
	var problems []string
	pair := func(actionArg, resourceArg string) access.ActionSpec {
		action, _ := arg(actionArg)
		resource, _ := arg(resourceArg)
		spec, ok := access.Lookup(action)
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s: @guard %s %q is not in the catalogue", op, actionArg, action))
		case spec.ResourceType != resource:
			problems = append(problems, fmt.Sprintf("%s: @guard %s %q acts on %s, not on %s %q", op, actionArg, action, spec.ResourceType, resourceArg, resource))
		}
		return spec
	}
	spec := pair("action", "resource")
	// The alternative grant, when there is one, is checked the same way; one
	// half of it without the other would be silently ignored.
	_, hasOrAction := arg("orAction")
	_, hasOrResource := arg("orResource")
	switch {
	case hasOrAction && hasOrResource:
		pair("orAction", "orResource")
	case hasOrAction || hasOrResource:
		problems = append(problems, fmt.Sprintf("%s: @guard has only one of orAction and orResource", op))
	}
	if id, ok := arg("id"); ok {
		if !argumentPathExists(s, f.Arguments, id) {
			problems = append(problems, fmt.Sprintf("%s: @guard id %q names no argument of the field", op, id))
		} else if spec.TypeWide {
			problems = append(problems, fmt.Sprintf("%s: @guard action %q is type-wide but the guard names one id (%q)", op, spec.Name, id))
		}
	}
	return problems
}

// actionName is the form of every action: Service:ActionName.
var actionName = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*:[A-Z][A-Za-z0-9]*$`)

// checkAuditAction checks the action of @public and @authenticated: it names
// what audit events record, so every mutation needs one, well formed (it
// need not be catalogued: signing in is not a grantable action).
func checkAuditAction(op string, mutation bool, d *ast.Directive) []string {
	a := d.Arguments.ForName("action")
	switch {
	case a == nil && mutation:
		return []string{fmt.Sprintf("%s: @%s on a mutation needs an action (what its audit events record)", op, d.Name)}
	case a != nil && (a.Value == nil || a.Value.Kind != ast.StringValue || !actionName.MatchString(a.Value.Raw)):
		return []string{fmt.Sprintf("%s: @%s action %s is not of the form Service:ActionName", op, d.Name, a.Value)}
	}
	return nil
}

// argumentPathExists follows a dotted path ("id", "input.id") through the
// field's arguments and input object fields; the last step must be a scalar.
func argumentPathExists(s *ast.Schema, args ast.ArgumentDefinitionList, path string) bool {
	names := strings.Split(path, ".")
	a := args.ForName(names[0])
	if a == nil {
		return false
	}
	t := a.Type
	for _, name := range names[1:] {
		def := s.Types[t.Name()]
		if def == nil || def.Kind != ast.InputObject {
			return false
		}
		f := def.Fields.ForName(name)
		if f == nil {
			return false
		}
		t = f.Type
	}
	def := s.Types[t.Name()]
	return t.Elem == nil && def != nil && def.Kind == ast.Scalar
}

func loadSchema(t *testing.T, src string) *ast.Schema {
	t.Helper()
	s, err := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphqls", Input: src})
	if err != nil {
		t.Fatalf("schema: %v", err)
	}
	return s
}

func TestEveryOperationIsGuarded(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("../schema.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	s := loadSchema(t, string(src))
	if s.Query == nil || len(s.Query.Fields) == 0 || s.Mutation == nil || len(s.Mutation.Fields) == 0 {
		t.Fatal("the schema has no Query or Mutation fields: the check would pass vacuously")
	}
	for _, p := range checkGuards(s) {
		t.Error(p)
	}
}

// The checker itself must catch each kind of mistake, or the test above
// proves nothing.
func TestCheckGuardsCatchesMistakes(t *testing.T) {
	t.Parallel()
	const header = `
directive @guard(action: String!, resource: String!, id: String, orAction: String, orResource: String) on FIELD_DEFINITION
directive @authenticated(action: String) on FIELD_DEFINITION
directive @public(action: String) on FIELD_DEFINITION
input In { id: ID! nested: Nested }
input Nested { id: ID! }
`
	for _, tc := range []struct{ name, schema, want string }{
		{"no directive", `type Query { a: Int @public b: Int }`, "Query.b has 0"},
		{"new mutation without directive", `type Query { a: Int @public } type Mutation { deleteEverything: Int }`, "Mutation.deleteEverything has 0"},
		{"two directives", `type Query { a: Int @public @authenticated }`, "Query.a has 2"},
		{"mutation without audit action", `type Query { a: Int @public } type Mutation { m: Int @authenticated }`, "needs an action"},
		{"public mutation without audit action", `type Query { a: Int @public } type Mutation { m: Int @public }`, "needs an action"},
		{"malformed audit action", `type Query { a: Int @public(action: "signIn") }`, "not of the form"},
		{"unknown action", `type Query { a: Int @guard(action: "IAM:GetRol", resource: "IAM:Role") }`, `"IAM:GetRol" is not in the catalogue`},
		{"wrong resource", `type Query { a: Int @guard(action: "IAM:GetRole", resource: "App:User") }`, "acts on IAM:Role"},
		{"id names no argument", `type Query { a(x: ID!): Int @guard(action: "IAM:GetRole", resource: "IAM:Role", id: "id") }`, `id "id" names no argument`},
		{"id names no input field", `type Query { a(input: In!): Int @guard(action: "IAM:GetRole", resource: "IAM:Role", id: "input.roleId") }`, "names no argument"},
		{"id names an object", `type Query { a(input: In!): Int @guard(action: "IAM:GetRole", resource: "IAM:Role", id: "input.nested") }`, "names no argument"},
		{"unknown orAction", `type Query { a: Int @guard(action: "IAM:GetRole", resource: "IAM:Role", orAction: "App:ListUsers", orResource: "App:User") }`, `orAction "App:ListUsers" is not in the catalogue`},
		{"orAction on the wrong resource", `type Query { a: Int @guard(action: "IAM:GetRole", resource: "IAM:Role", orAction: "App:ListAllUsers", orResource: "Project:Settings") }`, "acts on App:User, not on orResource"},
		{"orAction alone", `type Query { a: Int @guard(action: "IAM:GetRole", resource: "IAM:Role", orAction: "App:ListAllUsers") }`, "only one of orAction and orResource"},
		{"type-wide action with id", `type Query { a(id: ID!): Int @guard(action: "IAM:CreateRole", resource: "IAM:Role", id: "id") }`, "type-wide"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			problems := checkGuards(loadSchema(t, header+tc.schema))
			if len(problems) != 1 || !strings.Contains(problems[0], tc.want) {
				t.Errorf("problems = %q; want one containing %q", problems, tc.want)
			}
		})
	}
	ok := header + `type Mutation {
		m: Int @authenticated(action: "Project:CreateProject")
		n: Int @public(action: "App:SignIn")
		o: Int @guard(action: "IAM:CreateRole", resource: "IAM:Role")
	}
	type Query {
		a: Int @public
		b: Int @authenticated
		c(input: In!): Int @guard(action: "IAM:GetRole", resource: "IAM:Role", id: "input.nested.id")
		d: Int @guard(action: "Project:GetProjectInfo", resource: "Project:Settings")
		e: Int @guard(action: "Project:ListAllUsers", resource: "Project:Settings", orAction: "App:ListAllUsers", orResource: "App:User")
	}`
	if problems := checkGuards(loadSchema(t, ok)); len(problems) != 0 {
		t.Errorf("well-guarded schema: %q", problems)
	}
}
