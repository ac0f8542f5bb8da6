package isolation_test

import (
	"testing"

	"atrium/atriumtest"
)

// TestIsolationMatrix is the proof of tenant isolation: it reads the schema
// by introspection and calls every query and mutation as each principal of
// project A (a user, a developer who is a member of A only, a machine client,
// and the operator with A's header), with arguments synthesised from the
// argument types so that every id names an entity of project B. Every call
// must answer NOT_FOUND (or another refusal) or data of A only, never any of
// B's ids or names, and B must be unchanged afterwards.
//
// The list of operations comes from the introspected schema, not from a hand
// list: an operation the synthesiser cannot build, or whose answer it cannot
// judge, fails the test until it is covered (matrixCases).
//
// Its parts: the two projects (matrix_projects_test.go), the synthesiser
// (matrix_synth_test.go) and the cases it needs help with
// (matrix_cases_test.go), the judge (matrix_judge_test.go) and the judge's
// self-test (matrix_selftest_test.go).
func TestIsolationMatrix(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	env := setupMatrix(t, s)
	g := newMatrixGen(t, env)
	t.Run("judge self-test", func(t *testing.T) { g.selfTest(t) })

	// B as it is before anyone of A touches it.
	before := env.snapshotB(t, g)

	// Queries first, for every principal, so that A's audit trail (which
	// auditEvents lists) holds no refused attempt yet; then mutations.
	principals := env.principals()
	for _, phase := range []string{"query", "mutation"} {
		for _, p := range principals {
			t.Run(phase+"/"+p.name, func(t *testing.T) {
				for _, op := range g.ops {
					if op.root != phase {
						continue
					}
					g.runOp(t, p, op)
				}
			})
		}
	}

	// A token of A with B's project header reaches nothing: every guarded
	// operation answers NOT_FOUND for the project.
	for _, p := range principals[:3] {
		t.Run("foreign-header/"+p.name, func(t *testing.T) {
			g.runForeignHeader(t, p)
		})
	}

	// Coverage: every operation of the schema, for every principal.
	for _, op := range g.ops {
		for _, p := range principals {
			if !g.covered[p.name][op.name] {
				t.Errorf("operation %s.%s is not covered for %s: %v", op.root, op.name, p.name, op.err)
			}
		}
		if op.access == "guard" {
			for _, p := range principals[:3] {
				if !g.coveredForeign[p.name][op.name] {
					t.Errorf("guarded operation %s is not covered with B's header for %s", op.name, p.name)
				}
			}
		}
	}
	for name := range matrixCases {
		if g.byName[name] == nil {
			t.Errorf("matrixCases names %q, which the schema does not have", name)
		}
	}
	for _, p := range principals {
		n := 0
		for _, op := range g.ops {
			if g.covered[p.name][op.name] {
				n++
			}
		}
		t.Logf("%s: %d of %d operations covered (%d calls)", p.name, n, len(g.ops), g.calls[p.name])
	}

	// B is unchanged (the audit trails first: checkB asks B's machine
	// client for a token, which B's trail records).
	t.Run("audit trails", func(t *testing.T) { env.checkAudit(t) })
	t.Run("B unchanged", func(t *testing.T) {
		after := env.snapshotB(t, g)
		if before != after {
			t.Errorf("B changed during the matrix:\nbefore %s\nafter  %s", before, after)
		}
		env.checkB(t)
	})
	// Developers are above projects: A may invite B's developer by email
	// (a membership of A, same account). That must reveal nothing else of B
	// and must not undo B's pending invitation.
	t.Run("inviting B's developer into A", func(t *testing.T) { env.inviteBDeveloper(t) })
}
