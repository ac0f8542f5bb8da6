package rest_test

// The official @oystehr/sdk against a real Atrium: node runs the scripts in
// sdktest/, which call every method of the SDK's project resources and
// check each answer against the SDK's types.

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"atrium/atriumtest"
	"atrium/testenv"
)

// sdkPath is where .ci/run installs the SDK.
const sdkPath = "../.ci/node/node_modules/@oystehr/sdk/dist/esm/index.js"

// requireSDK returns node and the SDK's entry point; when either is missing
// the test skips, or fails where everything is required (testenv).
func requireSDK(t *testing.T) (node, sdk string) {
	t.Helper()
	node, err := exec.LookPath("node")
	sdk, _ = filepath.Abs(sdkPath)
	if _, serr := os.Stat(sdk); err != nil || serr != nil {
		testenv.Missing(t, testenv.Node, "node or @oystehr/sdk is missing (npm install --prefix .ci/node @oystehr/sdk@4.2.6, as .ci/run does)")
	}
	return node, sdk
}

// summary is the last line a script prints.
type summary struct {
	Methods  []string `json:"methods"`
	Called   int      `json:"called"`
	Steps    int      `json:"steps"`
	Passed   int      `json:"passed"`
	Failures []string `json:"failures"`
}

// runScript runs one script against s and returns its summary.
func runScript(t *testing.T, s *atriumtest.Server, script string, env ...string) summary {
	t.Helper()
	node, sdk := requireSDK(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("sdktest", script))
	cmd.Env = append(os.Environ(), append([]string{
		"OYSTEHR_SDK=" + sdk,
		"ATRIUM_URL=" + s.URL,
		"ATRIUM_TOKEN=" + atriumtest.AdminSecret,
		"ATRIUM_PROJECT=" + s.Sandbox,
	}, env...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var sum summary
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
		t.Fatalf("%s printed no summary (%v): stdout %s stderr %s", script, runErr, stdout.String(), stderr.String())
	}
	for _, f := range sum.Failures {
		t.Errorf("%s: %s", script, f)
	}
	if runErr != nil && len(sum.Failures) == 0 {
		t.Errorf("%s: %v: %s", script, runErr, stderr.String())
	}
	t.Logf("%s: %d SDK methods called, %d/%d steps passed", script, sum.Called, sum.Passed, sum.Steps)
	return sum
}

// TestSDKResources calls every method of the version, project, role,
// application, user, m2m and developer resources.
func TestSDKResources(t *testing.T) {
	s := atriumtest.NewServer(t)
	sum := runScript(t, s, "resources.mjs")
	if sum.Called < 39 { // the seven resources have 39 methods in 4.2.6
		t.Errorf("only %d SDK methods called: %v", sum.Called, sum.Methods)
	}
}
