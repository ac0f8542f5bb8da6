package rest

// The listings' query string (filters, sort, sortOrder, limit, cursor) and
// their answer ({data, metadata: {nextCursor}}).

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"atrium/iam"
)

// listQuery is a decoded listing request.
type listQuery struct {
	filter map[string]string
	// first is the page size (nil: the domain's default of 25).
	first *int64
	// after is the cursor, "" for the first page.
	after string
	sort  string
	desc  bool
}

// The query parameters every v2 listing takes beside its filters.
var pageParams = []string{"cursor", "limit", "sort", "sortOrder"}

// listQuery reads a listing's query string. filters are the filters the
// platform defines; supported are those Atrium answers, and sorts the sort
// keys it answers (the first is the default).
func (q *request) listQuery(filters, supported, sortKeys, sorts []string) (listQuery, error) {
	params, err := q.queryParams(slices.Concat(filters, pageParams)...)
	if err != nil {
		return listQuery{}, err
	}
	lq := listQuery{filter: map[string]string{}, sort: sorts[0]}
	for _, f := range filters {
		if v, ok := params[f]; ok && v != "" {
			if !slices.Contains(supported, f) {
				return listQuery{}, iam.Invalid(f, "Atrium cannot filter this listing by %s yet (it filters by %s)", f, strings.Join(supported, ", "))
			}
			lq.filter[f] = v
		}
	}
	if v, ok := params["limit"]; ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return listQuery{}, iam.Invalid("limit", "must be a whole number from 1 to 100, not %q", v)
		}
		lq.first = &n
	}
	// The SDK sends cursor=undefined when a caller passes the nextCursor
	// of no page yet; it means the first page.
	if v := params["cursor"]; v != "undefined" && v != "null" {
		lq.after = v
	}
	if v, ok := params["sort"]; ok {
		if !slices.Contains(sortKeys, v) {
			return listQuery{}, iam.Invalid("sort", "must be one of %s, not %q", strings.Join(sortKeys, ", "), v)
		}
		if !slices.Contains(sorts, v) {
			return listQuery{}, iam.Invalid("sort", "Atrium cannot sort this listing by %s yet (it sorts by %s)", v, strings.Join(sorts, ", "))
		}
		lq.sort = v
	}
	switch v := params["sortOrder"]; v {
	case "", "asc":
	case "desc":
		lq.desc = true
	default:
		return listQuery{}, iam.Invalid("sortOrder", "must be asc or desc, not %q", v)
	}
	return lq, nil
}

// pageErr names the listing's own parameters in the domain's page errors
// (which speak of GraphQL's first and after).
func pageErr(err error) error {
	var e *iam.Error
	if errors.As(err, &e) {
		switch e.Field {
		case "first":
			return iam.Invalid("limit", "must be a whole number from 1 to 100")
		case "after":
			return iam.Invalid("cursor", "is not a cursor of this listing (pass the nextCursor of the previous page, with the same sort)")
		}
	}
	return err
}

// listPage is the answer of a v2 listing.
type listPage[T any] struct {
	Data     []T          `json:"data"`
	Metadata pageMetadata `json:"metadata"`
}

type pageMetadata struct {
	// NextCursor is null on the last page.
	NextCursor *string `json:"nextCursor"`
}

// page builds a listing's answer from a domain page (its items, the
// cursor after each, and whether more follow).
func page[E, T any](items []E, cursors []string, hasNext bool, conv func(*E) T) listPage[T] {
	out := listPage[T]{Data: make([]T, len(items))}
	for i := range items {
		out.Data[i] = conv(&items[i])
	}
	if hasNext && len(cursors) > 0 {
		out.Metadata.NextCursor = &cursors[len(cursors)-1]
	}
	return out
}

// The deprecated v1 listings answer everything at once; to keep their cost
// bounded they read at most this many items, and refuse larger projects.
const maxV1Items = 1000

// everything reads a deprecated listing page by page, up to maxV1Items,
// and converts each item with conv.
func everything[E, T any](what, v2 string, read func(first *int64, after string) ([]E, []string, bool, error), conv func(*E) T) (any, error) {
	all := []T{}
	size, after := int64(100), ""
	for {
		items, cursors, hasNext, err := read(&size, after)
		if err != nil {
			return nil, err
		}
		for i := range items {
			all = append(all, conv(&items[i]))
		}
		if !hasNext || len(items) == 0 {
			return all, nil
		}
		if len(all) >= maxV1Items {
			return nil, iam.Invalid("limit", "this project has more than %d %s, more than the deprecated listing answers: use GET /v1%s, which pages", maxV1Items, what, v2)
		}
		after = cursors[len(cursors)-1]
	}
}
