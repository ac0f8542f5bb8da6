// Package codegen_test runs the TypeScript codegen recipe of this directory
// (codegen.ts, GraphQL Code Generator's client preset) against a live
// Atrium, and checks that it generates the same types as from
// schema.graphqls. .ci/run installs the npm packages (npm ci).
package codegen_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"atrium/atriumtest"
	"atrium/testenv"
)

func TestMain(m *testing.M) { atriumtest.Main(m) }

// codegenGuard bounds one run of the generator; no assertion depends on it.
const codegenGuard = 2 * time.Minute

// generate runs graphql-codegen with codegen.ts against schema and returns
// the generated graphql.ts.
func generate(t *testing.T, bin, schema string) string {
	t.Helper()
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), codegenGuard)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--config", "codegen.ts")
	cmd.Env = append(os.Environ(), "ATRIUM_SCHEMA="+schema, "ATRIUM_CODEGEN_OUT="+out+"/")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("graphql-codegen against %s: %v\n%s", schema, err, b)
	}
	b, err := os.ReadFile(filepath.Join(out, "graphql.ts"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestTypeScriptCodegenAgainstLiveServer(t *testing.T) {
	bin, err := filepath.Abs(filepath.Join("node_modules", ".bin", "graphql-codegen"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		testenv.Missing(t, testenv.Node, "no "+bin+"; run: (cd examples/codegen && npm ci)")
	}
	if _, err := exec.LookPath("node"); err != nil {
		testenv.Missing(t, testenv.Node, "node is not on PATH; install it: apt-get install -y nodejs npm")
	}
	s := atriumtest.NewServer(t)
	live := generate(t, bin, s.URL+"/graphql")
	for _, want := range []string{"export type ProjectQuery = ", "export const ProjectDocument = ", "export type UpdateProjectInput = "} {
		if !strings.Contains(live, want) {
			t.Errorf("the generated graphql.ts has no %q", want)
		}
	}
	if file := generate(t, bin, "../../schema.graphqls"); file != live {
		t.Errorf("the types generated from the live server (%d bytes) differ from those generated from schema.graphqls (%d bytes)", len(live), len(file))
	}
}
