package graph_test

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"atrium/auth"
	"atrium/iam"
	"atrium/service"
)

// disagreements returns one line per place where the schema's access
// directives and the domain's table of use cases say different things: an
// operation without an entry, an entry without an operation (or HTTP
// endpoint), or a directive whose grant, principal kinds or action is not the
// entry's. The directives only document; the table decides.
func disagreements(s *ast.Schema, table []service.UseCase) []string {
	byName := map[string]service.UseCase{}
	for _, uc := range table {
		byName[uc.Name] = uc
	}
	var problems []string
	served := map[string]bool{}
	for _, root := range []*ast.Definition{s.Query, s.Mutation, s.Subscription} {
		if root == nil {
			continue
		}
		for _, f := range root.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			op := root.Name + "." + f.Name
			uc, ok := byName[f.Name]
			if !ok {
				problems = append(problems, fmt.Sprintf("%s has no use case in service/usecases.go", op))
				continue
			}
			served[f.Name] = true
			problems = append(problems, compare(op, f, uc)...)
		}
	}
	for _, uc := range table {
		if !served[uc.Name] && uc.HTTP == "" {
			problems = append(problems, fmt.Sprintf("use case %s is served by no GraphQL operation and no HTTP endpoint", uc.Name))
		}
	}
	return problems
}

func compare(op string, f *ast.FieldDefinition, uc service.UseCase) []string {
	str := func(d *ast.Directive, name string) string {
		if a := d.Arguments.ForName(name); a != nil && a.Value != nil {
			return a.Value.Raw
		}
		return ""
	}
	var problems []string
	differ := func(what, schema, table any) {
		problems = append(problems, fmt.Sprintf("%s: the schema says %s %v, the use case %v", op, what, schema, table))
	}
	if d := f.Directives.ForName("guard"); d != nil {
		or := service.Grant{Action: str(d, "orAction"), Resource: str(d, "orResource")}
		var ucOr service.Grant
		if uc.Or != nil {
			ucOr = *uc.Or
		}
		switch {
		case !uc.Guarded():
			differ("guard", true, false)
		case str(d, "action") != uc.Action || str(d, "resource") != uc.Resource:
			differ("grant", str(d, "action")+" on "+str(d, "resource"), uc.Action+" on "+uc.Resource)
		case str(d, "id") != uc.ID:
			differ("id from", str(d, "id"), uc.ID)
		case or != ucOr:
			differ("alternative grant", or, ucOr)
		}
	}
	if d := f.Directives.ForName("authenticated"); d != nil {
		kinds := []auth.Kind{auth.Operator, auth.Developer, auth.User, auth.M2MClient}
		if a := d.Arguments.ForName("as"); a != nil && a.Value != nil {
			kinds = nil
			for _, k := range a.Value.Children {
				kinds = append(kinds, auth.Kind(k.Value.Raw))
			}
		}
		switch {
		case uc.Guarded() || uc.Public():
			differ("signed in, no policy", true, false)
		case !sameKinds(kinds, uc.Kinds):
			differ("kinds", kinds, uc.Kinds)
		case str(d, "action") != uc.Action:
			differ("action", str(d, "action"), uc.Action)
		}
	}
	if d := f.Directives.ForName("public"); d != nil {
		switch {
		case !uc.Public():
			differ("public", true, false)
		case str(d, "action") != uc.Action:
			differ("action", str(d, "action"), uc.Action)
		}
	}
	return problems
}

func sameKinds(a, b []auth.Kind) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func TestSchemaAgreesWithUseCases(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("../schema.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range disagreements(loadSchema(t, string(src)), service.UseCases()) {
		t.Error(p)
	}
}

// The comparison catches each kind of disagreement, or the test above
// proves nothing.
func TestDisagreementsAreFound(t *testing.T) {
	t.Parallel()
	const header = `
directive @guard(action: String!, resource: String!, id: String, orAction: String, orResource: String) on FIELD_DEFINITION
directive @authenticated(as: [PrincipalKind!], action: String) on FIELD_DEFINITION
directive @public(action: String) on FIELD_DEFINITION
enum PrincipalKind { OPERATOR USER DEVELOPER M2M_CLIENT }
`
	anyone := []auth.Kind{auth.Operator, auth.Developer, auth.User, auth.M2MClient}
	role := service.UseCase{Name: "role", Action: "IAM:GetRole", Resource: "IAM:Role", ID: "id", Kinds: anyone}
	me := service.UseCase{Name: "me", Kinds: []auth.Kind{auth.User}}
	signIn := service.UseCase{Name: "signIn", Action: "App:SignIn", Target: "User"}
	token := service.UseCase{Name: "token", Action: "IAM:IssueM2MClientToken", Target: "M2MClient", HTTP: "POST /oauth/token"}
	table := []service.UseCase{role, me, signIn, token}
	good := `type Query {
		role(id: ID!): Int @guard(action: "IAM:GetRole", resource: "IAM:Role", id: "id")
		me: Int @authenticated(as: [USER])
	}
	type Mutation { signIn: Int @public(action: "App:SignIn") }`
	if problems := disagreements(loadSchema(t, header+good), table); len(problems) != 0 {
		t.Fatalf("agreeing schema: %q", problems)
	}
	for _, tc := range []struct{ name, schema, want string }{
		{"operation without entry", strings.Replace(good, "me: Int", "me: Int  other: Int @public", 1), "Query.other has no use case"},
		{"entry without operation", strings.Replace(good, `me: Int @authenticated(as: [USER])`, "", 1), "use case me is served by no"},
		{"other action", strings.Replace(good, `action: "IAM:GetRole"`, `action: "IAM:ListAllRoles"`, 1), "grant"},
		{"other id", strings.Replace(good, `id: "id")`, `)`, 1), "id from"},
		{"alternative grant", strings.Replace(good, `id: "id")`, `id: "id", orAction: "IAM:ListAllRoles", orResource: "IAM:Role")`, 1), "alternative grant"},
		{"other kinds", strings.Replace(good, "[USER]", "[USER, M2M_CLIENT]", 1), "kinds"},
		{"guarded in the schema only", strings.Replace(good, `@authenticated(as: [USER])`, `@guard(action: "IAM:GetRole", resource: "IAM:Role")`, 1), "guard"},
		{"public in the schema only", strings.Replace(good, `@authenticated(as: [USER])`, `@public`, 1), "public"},
		{"other public action", strings.Replace(good, `"App:SignIn"`, `"App:SignUp"`, 1), "action"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			problems := disagreements(loadSchema(t, header+tc.schema), table)
			if len(problems) != 1 || !strings.Contains(problems[0], tc.want) {
				t.Errorf("problems = %q; want one containing %q", problems, tc.want)
			}
		})
	}
}

// The schema's UserStatus is the domain's list of statuses, which the
// service's tests walk.
func TestUserStatusesAreTheDomains(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("../schema.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	var schema []string
	for _, v := range loadSchema(t, string(src)).Types["UserStatus"].EnumValues {
		schema = append(schema, v.Name)
	}
	var domain []string
	for _, s := range iam.UserStatuses() {
		domain = append(domain, string(s))
	}
	if !slices.Equal(schema, domain) {
		t.Errorf("UserStatus in the schema %q, in iam %q", schema, domain)
	}
}
