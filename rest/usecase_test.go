package rest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"atrium/atriumtest"
)

// TestRoutesRunTheirUseCase sends a request to every documented operation
// and checks, in the server's debug log, that the use case it names is the
// one that ran (the domain logs each use case as it begins), so a handler
// cannot call another use case than its route declares.
func TestRoutesRunTheirUseCase(t *testing.T) {
	s := atriumtest.NewServer(t)
	_, _, doc := call(t, s, http.MethodGet, "/openapi.json", "", "")
	n := 0
	for path, ops := range doc["paths"].(map[string]any) {
		for method, op := range ops.(map[string]any) {
			want, _ := op.(map[string]any)["x-atrium-use-case"].(string)
			if want == "" {
				continue
			}
			n++
			rid := "uc-" + strings.NewReplacer("/", "-", "{", "", "}", "").Replace(method+path)
			p := strings.NewReplacer("{id}", "00000000-0000-4000-8000-000000000000", "{roleId}", "00000000-0000-4000-8000-000000000000").Replace(path)
			call(t, s, strings.ToUpper(method), p, jsonType, "", "X-Request-Id", rid)
			ran := ranFor(s.Log.String(), rid)
			if len(ran) == 0 || ran[0] != want {
				t.Errorf("%s %s declares use case %s, ran %v", method, path, want, ran)
			}
			for _, uc := range ran {
				if uc != want {
					t.Errorf("%s %s ran %s besides %s", method, path, uc, want)
				}
			}
		}
	}
	if n < 30 {
		t.Errorf("only %d operations name a use case", n)
	}
}

// ranFor lists the use cases the debug log shows for one request id.
func ranFor(log, requestID string) []string {
	var out []string
	for _, line := range strings.Split(log, "\n") {
		if !strings.Contains(line, `"msg":"use case"`) || !strings.Contains(line, `"request_id":"`+requestID+`"`) {
			continue
		}
		var entry struct{ Name string }
		_ = json.Unmarshal([]byte(line), &entry)
		out = append(out, entry.Name)
	}
	return out
}
