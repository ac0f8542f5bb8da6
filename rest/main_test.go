package rest_test

import (
	"testing"

	"atrium/atriumtest"
)

func TestMain(m *testing.M) { atriumtest.Main(m) }
