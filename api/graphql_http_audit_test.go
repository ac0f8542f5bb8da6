package api_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"atrium/atriumtest"
	"atrium/testenv"
)

// TestGraphQLOverHTTPAudit runs the graphql-http package's server audits
// (npm; the conformance suite of the GraphQL over HTTP specification)
// against a real Atrium. Every MUST audit has to pass; SHOULD and MAY
// audits that do not are logged. .ci/run installs the package under
// .ci/node; without node or the package the test skips with a message,
// unless ATRIUM_REQUIRE_ALL is set.
func TestGraphQLOverHTTPAudit(t *testing.T) {
	t.Parallel()
	modules, err := filepath.Abs(filepath.Join("..", ".ci", "node", "node_modules"))
	if err != nil {
		t.Fatal(err)
	}
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(modules, "graphql-http", "package.json"))
	}
	if err != nil {
		testenv.Missing(t, testenv.Node, "the graphql-http audit needs node and `npm install --prefix .ci/node graphql-http` (as .ci/run does): "+err.Error())
	}
	s := atriumtest.NewServer(t)
	cmd := exec.CommandContext(t.Context(), node, filepath.Join("testdata", "graphql_http_audit.cjs"), s.URL+"/graphql")
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("the audit did not run: %v\n%s", err, stderr.Bytes())
	}
	counts := map[string]int{}
	total := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r struct{ ID, Name, Status, Reason string }
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		total++
		counts[r.Status]++
		switch r.Status {
		case "ok":
		case "error":
			t.Errorf("%s %s: %s", r.ID, r.Name, r.Reason)
		default:
			t.Logf("%s %s %s: %s", r.Status, r.ID, r.Name, r.Reason)
		}
	}
	if total == 0 {
		t.Fatalf("the audit reported nothing: %s", stderr.Bytes())
	}
	t.Logf("%d audits: %d ok, %d warn, %d notice, %d error", total, counts["ok"], counts["warn"], counts["notice"], counts["error"])
}
