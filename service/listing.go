package service

// Paging, shared by every listing: a page request is checked here and read
// through the store, which returns the cursor after each item.

import (
	"errors"

	"atrium/iam"
	"atrium/store"
)

// Page sizes of listings.
const (
	DefaultPageSize = 25
	MaxPageSize     = 100
)

// listPage checks a page request and reads the page through list. It asks
// for one item more than the page holds, to learn whether another follows.
func listPage[T any](first *int64, after string, desc bool, list func(store.Page) ([]T, []string, error)) (items []T, cursors []string, hasNext bool, err error) {
	limit := int64(DefaultPageSize)
	if first != nil {
		if *first < 1 || *first > MaxPageSize {
			return nil, nil, false, iam.Invalid("first", "must be between 1 and %d", MaxPageSize)
		}
		limit = *first
	}
	items, cursors, err = list(store.Page{Desc: desc, After: after, Limit: int(limit) + 1})
	switch {
	case errors.Is(err, store.ErrBadCursor):
		return nil, nil, false, iam.Invalid("after", "%v", err)
	case err != nil:
		return nil, nil, false, err
	case int64(len(items)) > limit:
		return items[:limit], cursors[:limit], true, nil
	}
	return items, cursors, false, nil
}
