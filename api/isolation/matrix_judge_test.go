package isolation_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"atrium/atriumtest"
)

// The judge of the isolation matrix: it runs each synthesised call and
// decides whether the answer reveals or changes anything of B.

func (g *matrixGen) runOp(t *testing.T, p *matrixPrincipal, op *matrixOp) {
	t.Helper()
	if op.err != nil {
		return // reported when the schema was read; not covered
	}
	ok := true
	for _, v := range op.variants {
		doc, vars, err := g.document(op, v)
		if err != nil {
			t.Errorf("%s %s (%s): %v", op.root, op.name, v.name, err)
			ok = false
			continue
		}
		w, err := g.expect(p, op, v)
		if err != nil {
			t.Errorf("%s %s (%s) as %s: %v", op.root, op.name, v.name, p.name, err)
			ok = false
			continue
		}
		r := g.env.s.Client(p.token, p.project).Do(t, doc, vars)
		g.calls[p.name]++
		sent, _ := json.Marshal(vars)
		g.judge(t, p, op, v, string(sent), r, w)
	}
	if ok {
		if g.covered[p.name] == nil {
			g.covered[p.name] = map[string]bool{}
		}
		g.covered[p.name][op.name] = true
	}
}

// runForeignHeader calls every guarded operation with B's project header:
// a token of A (bound to A, or a developer who is no member of B) must find
// no project.
func (g *matrixGen) runForeignHeader(t *testing.T, p *matrixPrincipal) {
	t.Helper()
	for _, op := range g.ops {
		if op.access != "guard" || op.err != nil {
			continue
		}
		v := op.variants[0]
		doc, vars, err := g.document(op, v)
		if err != nil {
			t.Errorf("%s: %v", op.name, err)
			continue
		}
		r := g.env.s.Client(p.token, g.env.b).Do(t, doc, vars)
		g.calls[p.name]++
		where := fmt.Sprintf("%s %s (%s) as %s with B's header", op.root, op.name, v.name, p.name)
		sent, _ := json.Marshal(vars)
		g.leaks(t, where, r, string(sent)+" "+g.env.b)
		if code := r.Code(); code != "NOT_FOUND" {
			t.Errorf("%s: want NOT_FOUND (no such project), got %q: %s", where, code, r.Raw)
		} else if !strings.Contains(r.Errors[0].Message, "project") {
			t.Errorf("%s: NOT_FOUND for another reason than the project: %s", where, r.Errors[0].Message)
		}
		if g.coveredForeign[p.name] == nil {
			g.coveredForeign[p.name] = map[string]bool{}
		}
		g.coveredForeign[p.name][op.name] = true
	}
}

// expect is the answer a call must give.
func (g *matrixGen) expect(p *matrixPrincipal, op *matrixOp, v *matrixVariant) (matrixWant, error) {
	c := matrixCases[op.name]
	if c.want != nil {
		if w, ok := c.want(p, v); ok {
			return w, nil
		}
	}
	switch op.access {
	case "public":
		return matrixWant{}, fmt.Errorf("public operation %s has no matrixCases entry saying how it must answer B's ids", op.name)
	case "authenticated":
		if len(op.as) > 0 && !slices.Contains(op.as, p.kind) {
			return matrixWant{code: "FORBIDDEN"}, nil
		}
		if len(v.bRefs) > 0 {
			return matrixWant{code: anyRefusal}, nil
		}
		return matrixWant{empty: len(v.bProbes) > 0}, nil
	case "guard":
		// Every principal has full access in A: only isolation can refuse,
		// and it must not reveal that B's entity exists.
		if len(v.bRefs) > 0 {
			w := matrixWant{code: "NOT_FOUND"}
			if len(v.bRefs) == 1 {
				w.field = errorFieldOf(v.bRefs[0])
			}
			return w, nil
		}
		return matrixWant{empty: len(v.bProbes) > 0}, nil
	}
	return matrixWant{}, fmt.Errorf("operation %s has no access directive", op.name)
}

// errorFieldOf is the error field that names a slot: "input[].roles" →
// "input[0].roles[0]".
func errorFieldOf(s matrixSlot) string {
	f := strings.ReplaceAll(s.path, "[]", "[0]")
	if s.list {
		f += "[0]"
	}
	return f
}

// judgeReport is what the judge reports to: a *testing.T, or the recorder of the
// self-test.
type judgeReport interface {
	Helper()
	Error(args ...any)
	Errorf(format string, args ...any)
}

func (g *matrixGen) judge(t *testing.T, p *matrixPrincipal, op *matrixOp, v *matrixVariant, sent string, r *atriumtest.Response, w matrixWant) {
	t.Helper()
	where := fmt.Sprintf("%s %s (%s) as %s", op.root, op.name, v.name, p.name)
	c := matrixCases[op.name]
	seesAll := c.operatorSeesAll && p.kind == "OPERATOR"
	if !seesAll {
		g.leaks(t, where, r, sent)
	}
	for _, e := range r.Errors {
		if !refusalCodes[e.Extensions.Code] {
			t.Errorf("%s: error code %q is not a refusal (NOT_FOUND, FORBIDDEN, BAD_USER_INPUT, UNAUTHENTICATED, CONFLICT): %s", where, e.Extensions.Code, e.Message)
		}
	}
	switch w.code {
	case "":
		if len(r.Errors) > 0 {
			t.Errorf("%s: want an answer, got %s: %s", where, r.Code(), r.Errors[0].Message)
		}
	case anyRefusal:
		if len(r.Errors) == 0 {
			t.Errorf("%s: want a refusal, got data %s", where, r.Data)
		}
	default:
		switch {
		case r.Code() != w.code:
			t.Errorf("%s: want %s, got %q: %s", where, w.code, r.Code(), r.Raw)
		case w.field != "" && r.Errors[0].Extensions.Field != w.field:
			t.Errorf("%s: %s names field %q, want %q (%s)", where, w.code, r.Errors[0].Extensions.Field, w.field, r.Errors[0].Message)
		}
	}
	if len(r.Errors) > 0 && !onlyNulls(dataOf(r)) {
		t.Errorf("%s: refused, yet data is %s", where, r.Data)
	}
	if !seesAll {
		g.onlyA(t, t, where, c, r.Data, w.empty)
	}
	if c.check != nil {
		c.check(t, where, v, r)
	}
}

// leaks fails for any of B's ids or names in the answer. An error message
// may repeat what the request carried (role "<id>" not found); the data may
// not, and nothing may carry what the request did not.
func (g *matrixGen) leaks(t judgeReport, where string, r *atriumtest.Response, sent string) {
	t.Helper()
	var strict, echo []string
	collectStrings(dataOf(r), false, &strict, &echo)
	var top map[string]json.RawMessage
	_ = json.Unmarshal(r.Raw, &top)
	for k, v := range top {
		if k != "data" {
			echo = append(echo, string(v))
		}
	}
	strictText := strings.ToLower(strings.Join(strict, "\x00"))
	echoText := strings.ToLower(strings.Join(echo, "\x00"))
	sentText := strings.ToLower(sent)
	for needle, what := range g.env.needles {
		n := strings.ToLower(needle)
		if strings.Contains(strictText, n) {
			t.Errorf("LEAK %s: the data holds B's %s %q: %s", where, what, needle, r.Raw)
		}
		if strings.Contains(echoText, n) && !strings.Contains(sentText, n) {
			t.Errorf("LEAK %s: the answer holds B's %s %q, which the request did not carry: %s", where, what, needle, r.Raw)
		}
	}
}

// collectStrings collects the strings of v: those inside a RowError (an error
// reported in the data) go to echo, the others to strict.
func collectStrings(v any, inError bool, strict, echo *[]string) {
	switch x := v.(type) {
	case string:
		if inError {
			*echo = append(*echo, x)
		} else {
			*strict = append(*strict, x)
		}
	case []any:
		for _, e := range x {
			collectStrings(e, inError, strict, echo)
		}
	case map[string]any:
		in := inError || x["__typename"] == "RowError"
		for _, e := range x {
			collectStrings(e, in, strict, echo)
		}
	}
}

// entityTypes are the types whose objects are data of some project.
var entityTypes = map[string]string{
	"Role": "role", "Application": "application", "User": "user", "Developer": "developer", "M2MClient": "m2mClient",
	"Project": "", "AuditEvent": "",
}

// onlyA checks that every entity in the data is one of A's (read back as
// the operator in A), and that a call probing with B's values found nothing.
func (g *matrixGen) onlyA(t judgeReport, tb testing.TB, where string, c matrixCase, data json.RawMessage, empty bool) {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil || v == nil {
		return
	}
	var walk func(any)
	walk = func(x any) {
		switch x := x.(type) {
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			tn, _ := x["__typename"].(string)
			id, _ := x["id"].(string)
			if _, entity := entityTypes[tn]; entity && empty {
				t.Errorf("%s: probing with B's values must find nothing, found a %s %q", where, tn, id)
			}
			if n, ok := x["totalCount"].(float64); ok && empty && n != 0 {
				t.Errorf("%s: probing with B's values must count nothing, counted %v", where, n)
			}
			switch field := entityTypes[tn]; {
			case tn == "Project":
				if id != g.env.a && !c.newProject {
					t.Errorf("%s: the data names project %q, not A", where, id)
				}
			case field != "" && id != "":
				if !g.inProjectA(tb, tn, field, id) {
					t.Errorf("%s: the data holds %s %q, which is not one of A's", where, tn, id)
				}
			}
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
}

func (g *matrixGen) inProjectA(t testing.TB, typ, field, id string) bool {
	t.Helper()
	key := typ + "/" + id
	if in, ok := g.inA[key]; ok {
		return in
	}
	r := g.env.s.Client(atriumtest.AdminSecret, g.env.a).Do(t, fmt.Sprintf(`query($id: ID!) { %s(id: $id) { id } }`, field), map[string]any{"id": id})
	in := len(r.Errors) == 0
	g.inA[key] = in
	return in
}

// onlyNulls reports whether v holds nothing but nulls: the data of a refused
// call is null, or a nullable field's null (node), or a list of nulls
// (nodes).
func onlyNulls(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case []any:
		return !slices.ContainsFunc(x, func(e any) bool { return !onlyNulls(e) })
	case map[string]any:
		for _, e := range x {
			if !onlyNulls(e) {
				return false
			}
		}
		return true
	}
	return false
}

// dataOf decodes the data of an answer.
func dataOf(r *atriumtest.Response) any {
	var v any
	_ = json.Unmarshal(r.Data, &v)
	return v
}
