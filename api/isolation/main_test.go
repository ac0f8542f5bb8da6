// Package isolation_test is the tenant-isolation matrix of the API
// (TestIsolationMatrix), apart from the api package's other tests so that
// neither package's run nears go test's per-package timeout under -race.
package isolation_test

import (
	"testing"

	"atrium/atriumtest"
)

func TestMain(m *testing.M) { atriumtest.Main(m) }

// ptr is a pointer to v, for the client's optional inputs.
func ptr[T any](v T) *T { return &v }

// testPassword is the password of the matrix's signed-in users.
const testPassword = "Pass-Phrase-7c1e9a-correct-horse"
