package rest

// This file is the seam between the REST transport and the domain: each
// route names the use case it calls (service.UseCases, the domain's table),
// and the use case itself authorizes the caller and records the audit
// event. The transport only tells the domain which input fields a request
// gave (names, never values), as GraphQL does.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"

	"atrium/service"
)

// call runs the handler of rt with the names of the request's input fields
// noted for the audit trail.
func call(ctx context.Context, svc *service.Service, rt route, q *request) (any, error) {
	if rt.method != http.MethodGet {
		ctx = service.WithInputFields(ctx, inputFields(rt, q))
	}
	return rt.handle(ctx, svc, q)
}

// inputFields are the names of the path's id and of the body's top-level
// fields. The id is "id" whatever the path calls it, as in GraphQL inputs.
func inputFields(rt route, q *request) []string {
	var names []string
	if pathParam.MatchString(rt.path) {
		names = append(names, "id")
	}
	raw, err := io.ReadAll(q.r.Body)
	q.r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(raw), failedReader{err}))
	var top map[string]json.RawMessage
	if err == nil && json.Unmarshal(raw, &top) == nil {
		for k := range top {
			if !slices.Contains(names, k) {
				names = append(names, k)
			}
		}
	}
	slices.Sort(names)
	if names == nil {
		names = []string{}
	}
	return names
}

// failedReader ends a body that was read once with the error that read
// ended with (nil: a plain end), so the decoder sees what the first reader
// saw, a body over the size limit included.
type failedReader struct{ err error }

func (f failedReader) Read([]byte) (int, error) {
	if f.err == nil {
		return 0, io.EOF
	}
	return 0, f.err
}
