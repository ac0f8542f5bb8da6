// Package listing_test holds the API's listing tests: every connection
// paged forward and backward in every order and filter over a few hundred
// documents. They are apart from the api package's other tests so that
// neither package's run nears go test's per-package timeout under -race.
package listing_test

import (
	"testing"

	"atrium/atriumtest"
)

func TestMain(m *testing.M) { atriumtest.Main(m) }

// ptr is a pointer to v, for the client's optional inputs.
func ptr[T any](v T) *T { return &v }

// testPassword is the password of the users who accept their invitations.
const testPassword = "Pass-Phrase-7c1e9a-correct-horse"
