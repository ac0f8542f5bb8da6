package isolation_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"atrium/graph"
)

// The synthesiser of the isolation matrix: it reads the schema by
// introspection and builds, for each operation, calls whose ids name B's
// entities.

type schemaTypeRef struct {
	Kind   string
	Name   string
	OfType *schemaTypeRef
}

// named returns the named type under the wrappers, and whether there is a
// list among them.
func (r schemaTypeRef) named() (string, bool) {
	list := false
	for r.OfType != nil {
		list = list || r.Kind == "LIST"
		r = *r.OfType
	}
	return r.Name, list
}

func (r schemaTypeRef) String() string {
	switch r.Kind {
	case "NON_NULL":
		return r.OfType.String() + "!"
	case "LIST":
		return "[" + r.OfType.String() + "]"
	}
	return r.Name
}

type schemaInputValue struct {
	Name string
	Type schemaTypeRef
}

type schemaField struct {
	Name string
	Args []schemaInputValue
	Type schemaTypeRef
}

type schemaType struct {
	Kind        string
	Name        string
	Fields      []schemaField
	InputFields []schemaInputValue
	EnumValues  []struct{ Name string }
	// PossibleTypes are the object types of an interface.
	PossibleTypes []struct{ Name string }
}

const matrixIntrospection = `query MatrixIntrospection {
	__schema {
		queryType { name fields { name } }
		mutationType { name fields { name } }
		types {
			kind name
			fields(includeDeprecated: true) { name args { name type { ...T } } type { ...T } }
			inputFields { name type { ...T } }
			enumValues(includeDeprecated: true) { name }
			possibleTypes { name }
		}
	}
}
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }`

type matrixSlot struct {
	path     string // "id", "input.roles", "input[].applicationId", "filter.email"
	entity   string
	attr     string // id, email, name, profile
	list     bool   // a list of ids: B's value is a one-element list
	probe    bool   // a filter field: B's value must select nothing
	required bool
}

type matrixVariant struct {
	name    string
	assign  map[string]any
	bRefs   []matrixSlot
	bProbes []matrixSlot
}

type matrixOp struct {
	root, name string
	field      schemaField
	access     string   // guard, authenticated, public
	as         []string // kinds of @authenticated(as:)
	slots      []matrixSlot
	variants   []*matrixVariant
	err        error // why it cannot be synthesised
}

type matrixWant struct {
	code  string // "" success; anyRefusal; or a code
	field string
	empty bool
}

const anyRefusal = "any refusal"

type matrixGen struct {
	env            *matrixEnv
	types          map[string]*schemaType
	ops            []*matrixOp
	byName         map[string]*matrixOp
	covered        map[string]map[string]bool
	coveredForeign map[string]map[string]bool
	calls          map[string]int
	inA            map[string]bool
}

// selectionDepth is how many object levels below an operation's result
// are selected: enough for users { edges { node { roles { accessPolicy { rule } } } } }.
const selectionDepth = 5

func newMatrixGen(t *testing.T, env *matrixEnv) *matrixGen {
	t.Helper()
	g := &matrixGen{env: env, types: map[string]*schemaType{}, byName: map[string]*matrixOp{},
		covered: map[string]map[string]bool{}, coveredForeign: map[string]map[string]bool{}, calls: map[string]int{}, inA: map[string]bool{}}
	var out struct {
		Schema struct {
			QueryType, MutationType struct {
				Name   string
				Fields []struct{ Name string }
			}
			Types []schemaType
		} `json:"__schema"`
	}
	env.s.Client("", "").MustDo(t, matrixIntrospection, nil, &out)
	for i := range out.Schema.Types {
		g.types[out.Schema.Types[i].Name] = &out.Schema.Types[i]
	}
	// The access directive of each operation, from the schema the server
	// executes (introspection does not show applied directives).
	served := graph.NewExecutableSchema(graph.Config{}).Schema()
	for _, root := range []struct {
		kind, name string
		def        *ast.Definition
	}{{"query", out.Schema.QueryType.Name, served.Query}, {"mutation", out.Schema.MutationType.Name, served.Mutation}} {
		typ := g.types[root.name]
		if typ == nil || len(typ.Fields) == 0 {
			t.Fatalf("introspection shows no %s type", root.kind)
		}
		for _, f := range typ.Fields {
			op := &matrixOp{root: root.kind, name: f.Name, field: f}
			g.ops = append(g.ops, op)
			g.byName[f.Name] = op
			op.access, op.as, op.err = accessOf(root.def, f.Name)
			if op.err == nil {
				op.err = g.prepare(op)
			}
			if op.err != nil {
				t.Errorf("%s %s cannot be synthesised: %v", root.kind, f.Name, op.err)
			}
		}
	}
	if len(g.ops) < 30 {
		t.Fatalf("introspection found only %d operations", len(g.ops))
	}
	return g
}

func accessOf(def *ast.Definition, name string) (string, []string, error) {
	if def == nil {
		return "", nil, fmt.Errorf("the served schema has no such root type")
	}
	f := def.Fields.ForName(name)
	if f == nil {
		return "", nil, fmt.Errorf("introspection shows %s, which the served schema does not have", name)
	}
	var found []string
	var as []string
	for _, d := range f.Directives {
		switch d.Name {
		case "guard", "public":
			found = append(found, d.Name)
		case "authenticated":
			found = append(found, d.Name)
			if a := d.Arguments.ForName("as"); a != nil && a.Value != nil {
				for _, c := range a.Value.Children {
					as = append(as, c.Value.Raw)
				}
			}
		}
	}
	if len(found) != 1 {
		return "", nil, fmt.Errorf("has access directives %v, want exactly one", found)
	}
	return found[0], as, nil
}

// prepare finds the operation's slots, builds its variants and checks that
// each variant and the selection can be built.
func (g *matrixGen) prepare(op *matrixOp) error {
	c := matrixCases[op.name]
	for _, a := range op.field.Args {
		if err := g.findSlots(op, c, a.Name, a.Name, a.Type, a.Type.Kind == "NON_NULL", false, "", 0); err != nil {
			return err
		}
	}
	bOf := func(s matrixSlot) any { return g.slotValue(s, true) }
	mark := func(v *matrixVariant, s matrixSlot) {
		v.assign[s.path] = bOf(s)
		if s.probe {
			v.bProbes = append(v.bProbes, s)
		} else {
			v.bRefs = append(v.bRefs, s)
		}
	}
	if len(op.slots) == 0 {
		op.variants = []*matrixVariant{{name: "plain", assign: map[string]any{}}}
	} else {
		all := &matrixVariant{name: "allB", assign: map[string]any{}}
		for _, s := range op.slots {
			mark(all, s)
		}
		op.variants = append(op.variants, all)
		if len(op.slots) > 1 {
			for _, s := range op.slots {
				v := &matrixVariant{name: "B:" + s.path, assign: map[string]any{}}
				mark(v, s)
				for _, o := range op.slots {
					if o.path == s.path || o.probe {
						continue
					}
					if c.exclusive != "" && strings.HasPrefix(o.path, c.exclusive) && strings.HasPrefix(s.path, c.exclusive) {
						continue
					}
					v.assign[o.path] = g.slotValue(o, false)
				}
				op.variants = append(op.variants, v)
			}
		}
		for _, s := range op.slots {
			for _, e := range c.alsoAs[s.path] {
				alt := s
				alt.entity = e
				v := &matrixVariant{name: "B:" + s.path + " as " + e, assign: map[string]any{}}
				mark(v, alt)
				op.variants = append(op.variants, v)
			}
		}
		if op.root == "query" && !slices.ContainsFunc(op.slots, func(s matrixSlot) bool { return s.required }) {
			op.variants = append(op.variants, &matrixVariant{name: "plain", assign: map[string]any{}})
		}
	}
	if _, err := g.selection(op.field.Type, selectionDepth); err != nil {
		return err
	}
	for _, v := range op.variants {
		if _, _, err := g.document(op, v); err != nil {
			return fmt.Errorf("variant %s: %w", v.name, err)
		}
	}
	return nil
}

func (g *matrixGen) slotValue(s matrixSlot, b bool) any {
	var v string
	if b {
		v = g.env.bVal[s.entity][s.attr]
	} else {
		v = g.env.aVal[s.entity]
	}
	if s.list {
		return []any{v}
	}
	return v
}

// entityOf tells the entity an ID names from its name ("id": from the
// operation's name).
func entityOf(op, field string) string {
	n := strings.ToLower(field)
	if n == "id" {
		n = strings.ToLower(op)
	}
	for _, e := range []struct{ part, entity string }{
		{"m2m", entityM2M}, {"developer", entityDev}, {"application", entityApp}, {"role", entityRole}, {"ssoconnection", entitySSO}, {"user", entityUser},
	} {
		if strings.Contains(n, e.part) {
			return e.entity
		}
	}
	return ""
}

func (g *matrixGen) findSlots(op *matrixOp, c matrixCase, path, name string, t schemaTypeRef, required, inFilter bool, filterEntity string, depth int) error {
	if depth > 6 {
		return fmt.Errorf("%s: input nests too deep", path)
	}
	nt, list := t.named()
	typ := g.types[nt]
	if typ == nil {
		return fmt.Errorf("%s: unknown type %q", path, nt)
	}
	switch typ.Kind {
	case "INPUT_OBJECT":
		p := path
		if list {
			p += "[]"
		}
		fe, isFilter := strings.CutSuffix(typ.Name, "Filter")
		if isFilter {
			fe = entityOf("", fe)
		}
		for _, f := range typ.InputFields {
			if err := g.findSlots(op, c, p+"."+f.Name, f.Name, f.Type, required && f.Type.Kind == "NON_NULL", inFilter || isFilter, fe, depth+1); err != nil {
				return err
			}
		}
		return nil
	case "SCALAR", "ENUM":
	default:
		return fmt.Errorf("%s: cannot build an input of kind %s", path, typ.Kind)
	}
	entity, attr := c.slots[path], "id"
	switch {
	case entity != "":
	case nt == "ID":
		if entity = entityOf(op.name, name); entity == "" {
			return fmt.Errorf("cannot tell which entity the ID %s names: add it to matrixCases[%q].slots", path, op.name)
		}
	case nt == "String" && name == "profile":
		entity = entityProfile
	case nt == "String" && inFilter && g.env.bVal[filterEntity][name] != "":
		entity, attr = filterEntity, name
	default:
		return nil
	}
	if entity == entityProfile {
		attr = "profile"
	}
	if a := c.attrs[path]; a != "" {
		attr = a
	}
	if g.env.bVal[entity][attr] == "" || (!inFilter && g.env.aVal[entity] == "") {
		return fmt.Errorf("%s: no value of B (or A) for %s %s", path, entity, attr)
	}
	op.slots = append(op.slots, matrixSlot{path: path, entity: entity, attr: attr, list: list, probe: inFilter, required: required})
	return nil
}

// document builds the call of op for variant v: the document and its
// variables.
func (g *matrixGen) document(op *matrixOp, v *matrixVariant) (string, map[string]any, error) {
	c := matrixCases[op.name]
	b := &matrixBuild{v: v, c: c}
	vars := map[string]any{}
	var defs, args []string
	for _, a := range op.field.Args {
		val, ok, err := g.build(b, a.Name, a.Name, a.Type)
		if err != nil {
			return "", nil, err
		}
		if !ok {
			continue
		}
		vars[a.Name] = val
		defs = append(defs, fmt.Sprintf("$%s: %s", a.Name, a.Type))
		args = append(args, fmt.Sprintf("%s: $%s", a.Name, a.Name))
	}
	sel, err := g.selection(op.field.Type, selectionDepth)
	if err != nil {
		return "", nil, err
	}
	doc := op.root + " Matrix"
	if len(defs) > 0 {
		doc += "(" + strings.Join(defs, ", ") + ")"
	}
	doc += " { " + op.name
	if len(args) > 0 {
		doc += "(" + strings.Join(args, ", ") + ")"
	}
	return doc + " " + sel + " }", vars, nil
}

type matrixBuild struct {
	v *matrixVariant
	c matrixCase
}

// has reports whether the variant or the fills give any value under prefix.
func (b *matrixBuild) has(prefix string) bool {
	for k := range b.v.assign {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	for k := range b.c.fill {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

func (g *matrixGen) build(b *matrixBuild, path, name string, t schemaTypeRef) (any, bool, error) {
	required := t.Kind == "NON_NULL"
	if required {
		t = *t.OfType
	}
	return g.buildValue(b, path, name, t, required)
}

func (g *matrixGen) buildValue(b *matrixBuild, path, name string, t schemaTypeRef, required bool) (any, bool, error) {
	if v, ok := b.v.assign[path]; ok {
		return v, true, nil
	}
	if f, ok := b.c.fill[path]; ok {
		return f(g.env), true, nil
	}
	switch t.Kind {
	case "LIST":
		elem := *t.OfType
		if elem.Kind == "NON_NULL" {
			elem = *elem.OfType
		}
		el, ok, err := g.buildValue(b, path+"[]", name, elem, required)
		if err != nil || !ok {
			return nil, false, err
		}
		return []any{el}, true, nil
	case "INPUT_OBJECT":
		if !required && !b.has(path+".") {
			return nil, false, nil
		}
		typ := g.types[t.Name]
		obj := map[string]any{}
		for _, f := range typ.InputFields {
			v, ok, err := g.build(b, path+"."+f.Name, f.Name, f.Type)
			if err != nil {
				return nil, false, err
			}
			if ok {
				obj[f.Name] = v
			}
		}
		return obj, true, nil
	case "SCALAR", "ENUM":
		if !required {
			return nil, false, nil
		}
		v, err := g.synth(path, name, t)
		return v, err == nil, err
	}
	return nil, false, fmt.Errorf("%s: cannot build a value of kind %s", path, t.Kind)
}

// synth makes a plausible value for a required scalar or enum.
func (g *matrixGen) synth(path, name string, t schemaTypeRef) (any, error) {
	typ := g.types[t.Name]
	if typ != nil && typ.Kind == "ENUM" && len(typ.EnumValues) > 0 {
		return typ.EnumValues[0].Name, nil
	}
	n := strings.ToLower(name)
	switch t.Name {
	case "String":
		g.env.seq++
		switch {
		case strings.Contains(n, "email"):
			return g.env.freshEmail(), nil
		case strings.Contains(n, "password"):
			return matrixWrongPassword, nil
		case n == "ticket":
			return fmt.Sprintf("iso-made-up-ticket-%d", g.env.seq), nil
		case n == "description":
			return "iso description", nil
		case strings.HasSuffix(n, "name"):
			return fmt.Sprintf("iso-new-%d", g.env.seq), nil
		case n == "action":
			return "IAM:GetRole", nil
		case n == "resource":
			return "IAM:Role", nil
		case strings.Contains(n, "origin"):
			return "https://app.example.com", nil
		case strings.Contains(n, "url") || strings.Contains(n, "uri"):
			return "https://app.example.com/callback", nil
		}
	case "Int":
		if n == "first" {
			return 5, nil
		}
		return 1, nil
	case "Float":
		return 1.5, nil
	case "Boolean":
		return false, nil
	case "Time":
		return time.Now().UTC().Format(time.RFC3339), nil
	case "JSON":
		if strings.Contains(n, "practitioner") || strings.Contains(n, "resource") {
			return map[string]any{"resourceType": "Practitioner"}, nil
		}
	}
	return nil, fmt.Errorf("cannot synthesise a value for the required %s %s: add it to matrixCases's fill", t.Name, path)
}

// selection selects __typename and every scalar of an object type, and its
// object fields depth levels down.
func (g *matrixGen) selection(t schemaTypeRef, depth int) (string, error) {
	return g.aliasedSelection(t, depth, "")
}

// aliasedSelection is selection with each field but id aliased
// <alias><field>, so that the fragments of an interface's types, whose
// fields of one name may differ in type, do not conflict.
func (g *matrixGen) aliasedSelection(t schemaTypeRef, depth int, alias string) (string, error) {
	nt, _ := t.named()
	typ := g.types[nt]
	if typ == nil {
		return "", fmt.Errorf("unknown type %q", nt)
	}
	switch typ.Kind {
	case "SCALAR", "ENUM":
		return "", nil
	case "INTERFACE": // each object type that implements it
		parts := []string{"__typename"}
		for _, pt := range typ.PossibleTypes {
			sub, err := g.aliasedSelection(schemaTypeRef{Kind: "OBJECT", Name: pt.Name}, depth, pt.Name+"_")
			if err != nil {
				return "", err
			}
			parts = append(parts, "... on "+pt.Name+" "+sub)
		}
		return "{ " + strings.Join(parts, " ") + " }", nil
	case "OBJECT":
	default:
		return "", fmt.Errorf("cannot select from a %s (%s)", typ.Kind, nt)
	}
	parts := []string{"__typename"}
	for _, f := range typ.Fields {
		if strings.HasPrefix(f.Name, "__") || slices.ContainsFunc(f.Args, func(a schemaInputValue) bool { return a.Type.Kind == "NON_NULL" }) {
			continue
		}
		ft, _ := f.Type.named()
		k := g.types[ft]
		if k == nil {
			return "", fmt.Errorf("unknown type %q", ft)
		}
		name := f.Name
		if alias != "" && f.Name != "id" {
			name = alias + f.Name + ": " + f.Name
		}
		if k.Kind == "SCALAR" || k.Kind == "ENUM" {
			parts = append(parts, name)
			continue
		}
		if depth == 0 {
			continue
		}
		sub, err := g.selection(f.Type, depth-1)
		if err != nil {
			return "", err
		}
		parts = append(parts, name+" "+sub)
	}
	return "{ " + strings.Join(parts, " ") + " }", nil
}
