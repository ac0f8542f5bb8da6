package isolation_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"atrium/atriumtest"
)

// The isolation matrix's proof that its judge does fail.

// selfTest shows that the judge does fail: answers holding B's data are
// caught, an error repeating the caller's own input is not.
func (g *matrixGen) selfTest(t *testing.T) {
	bRole, bName := g.env.bVal[entityRole]["id"], "bonly-role-Kv3"
	fake := func(data, errs string) *atriumtest.Response {
		raw := `{"data":` + data
		if errs != "" {
			raw += `,"errors":` + errs
		}
		raw += "}"
		r := &atriumtest.Response{}
		if err := json.Unmarshal([]byte(raw), r); err != nil {
			t.Fatal(err)
		}
		r.Raw = []byte(raw)
		return r
	}
	tests := []struct {
		name       string
		r          *atriumtest.Response
		sent       string
		wantErrors bool
	}{
		{"B's role in the data", fake(`{"role":{"__typename":"Role","id":"`+bRole+`","name":"x"}}`, ""), `{"id":"` + bRole + `"}`, true},
		{"B's role name in the data", fake(`{"roles":[{"__typename":"Role","id":"x","name":"`+bName+`"}]}`, ""), `{}`, true},
		{"B's name in an error", fake(`null`, `[{"message":"role `+bName+` is held","extensions":{"code":"CONFLICT"}}]`), `{"id":"` + bRole + `"}`, true},
		{"B's id in an error, not sent", fake(`null`, `[{"message":"role `+bRole+` not found","extensions":{"code":"NOT_FOUND"}}]`), `{}`, true},
		{"B's id in an error, sent", fake(`null`, `[{"message":"role `+bRole+` not found","extensions":{"code":"NOT_FOUND"}}]`), `{"id":"` + bRole + `"}`, false},
		{"B's id in a row error, sent", fake(`{"inviteUsers":{"results":[{"__typename":"InviteUserResult","error":{"__typename":"RowError","message":"role `+bRole+` not found"}}]}}`, ""), `{"r":"` + bRole + `"}`, false},
		{"A's data", fake(`{"role":{"__typename":"Role","id":"`+g.env.aVal[entityRole]+`","name":"iso-a-target-role"}}`, ""), `{}`, false},
	}
	for _, tt := range tests {
		rec := &judgeRecorder{}
		g.leaks(rec, tt.name, tt.r, tt.sent)
		g.onlyA(rec, t, tt.name, matrixCase{}, tt.r.Data, false)
		if got := len(rec.errors) > 0; got != tt.wantErrors {
			t.Errorf("%s: judge reported %q, want errors: %v", tt.name, rec.errors, tt.wantErrors)
		}
	}
	rec := &judgeRecorder{}
	g.onlyA(rec, t, "probe", matrixCase{}, json.RawMessage(`{"users":{"__typename":"UserConnection","edges":[{"node":{"__typename":"User","id":"`+g.env.aVal[entityUser]+`"}}],"totalCount":1}}`), true)
	if len(rec.errors) != 2 {
		t.Errorf("a probe that finds something: judge reported %q, want 2 errors", rec.errors)
	}
}

type judgeRecorder struct{ errors []string }

func (r *judgeRecorder) Helper()           {}
func (r *judgeRecorder) Error(args ...any) { r.errors = append(r.errors, fmt.Sprint(args...)) }
func (r *judgeRecorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
