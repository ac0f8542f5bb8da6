package service

// Paging, shared by every listing: a page request is checked here and read
// through the store, which returns the cursor of each item.

import (
	"context"
	"errors"

	"atrium/iam"
	"atrium/store"
)

// Page sizes of listings.
const (
	DefaultPageSize = 25
	MaxPageSize     = 100
)

// PageArgs ask for a page the way Relay's connection arguments do: the
// first First items after After, or the last Last items before Before
// (After and Before may both bound the range). Neither First nor Last: the
// first DefaultPageSize items.
type PageArgs struct {
	First, Last   *int64
	After, Before string
}

// Paging is where a page lies in its listing: the cursor of each item, and
// whether items follow it or precede it. As the Relay specification allows,
// HasNextPage is known when paging forward (First) and false when paging
// backward; HasPreviousPage the other way round.
type Paging struct {
	Cursors                      []string
	HasNextPage, HasPreviousPage bool
}

// listPage checks a page request and reads the page through list. It asks
// for one item more than the page holds, to learn whether another follows
// (or, backward, precedes).
func listPage[T any](args PageArgs, desc bool, list func(store.Page) ([]T, []string, error)) (items []T, paging Paging, err error) {
	limit, fromEnd := int64(DefaultPageSize), false
	switch {
	case args.First != nil && args.Last != nil:
		return nil, Paging{}, iam.Invalid("last", "give first (to page forward) or last (to page backward), not both")
	case args.First != nil:
		if limit, err = pageSize("first", *args.First); err != nil {
			return nil, Paging{}, err
		}
	case args.Last != nil:
		if limit, err = pageSize("last", *args.Last); err != nil {
			return nil, Paging{}, err
		}
		fromEnd = true
	}
	items, cursors, err := list(store.Page{Desc: desc, After: args.After, Before: args.Before, FromEnd: fromEnd, Limit: int(limit) + 1})
	if ce, ok := errors.AsType[*store.CursorError](err); ok {
		return nil, Paging{}, iam.Invalid(ce.Arg, "%v", ce)
	}
	if err != nil {
		return nil, Paging{}, err
	}
	more := int64(len(items)) > limit
	switch {
	case more && fromEnd: // the extra item is the first
		items, cursors = items[1:], cursors[1:]
	case more:
		items, cursors = items[:limit], cursors[:limit]
	}
	return items, Paging{Cursors: cursors, HasNextPage: more && !fromEnd, HasPreviousPage: more && fromEnd}, nil
}

func pageSize(arg string, n int64) (int64, error) {
	if n < 1 || n > MaxPageSize {
		return 0, iam.Invalid(arg, "must be between 1 and %d", MaxPageSize)
	}
	return n, nil
}

// RolePage is one page of a project's roles, ordered by name.
type RolePage struct {
	Roles []iam.Role
	Paging
}

// RolesPage lists a page of the project's roles, ordered by name.
func (s *Service) RolesPage(ctx context.Context, args PageArgs) (_ *RolePage, err error) {
	sc, op, err := s.begin(ctx, ucRolesConnection, "")
	defer op.end(&err)
	if err != nil {
		return nil, err
	}
	page := &RolePage{}
	page.Roles, page.Paging, err = listPage(args, false, func(p store.Page) ([]iam.Role, []string, error) {
		return sc.tenant.RolePage(ctx, p)
	})
	return page, err
}

// ApplicationPage is one page of a project's applications, ordered by name.
type ApplicationPage struct {
	Applications []iam.Application
	Paging
}

// ApplicationsPage lists a page of the project's applications, ordered by
// name.
func (s *Service) ApplicationsPage(ctx context.Context, args PageArgs) (_ *ApplicationPage, err error) {
	sc, op, err := s.begin(ctx, ucApplicationsConnection, "")
	defer op.end(&err)
	if err != nil {
		return nil, err
	}
	page := &ApplicationPage{}
	page.Applications, page.Paging, err = listPage(args, false, func(p store.Page) ([]iam.Application, []string, error) {
		return sc.tenant.ApplicationPage(ctx, p)
	})
	return page, err
}
