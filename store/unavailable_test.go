package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// A deadline that ran out while waiting for the database means it did not
// answer; a request its client cancelled, or any other failure, does not.
func TestUnavailable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{context.DeadlineExceeded, true},
		{fmt.Errorf("find: %w", context.DeadlineExceeded), true},
		{context.Canceled, false},
		{fmt.Errorf("find: %w", context.Canceled), false},
		{ErrNotFound, false},
		{errors.New("something else"), false},
	} {
		if got := Unavailable(tc.err); got != tc.want {
			t.Errorf("Unavailable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
