package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"atrium/iam"
)

// GraphQL over HTTP (https://graphql.github.io/graphql-over-http/draft/),
// in place of gqlgen's GET and POST transports, which answer a validation
// failure 422 under application/json, always write a "data" entry, and echo
// an undecodable body (passwords included) in the error message.
//
//   - The answer is application/graphql-response+json when the Accept header
//     asks for it, application/json otherwise (also when Accept is absent or
//     a wildcard, as for clients that predate the newer type).
//   - A request that is not a GraphQL request (a body that is not JSON of the
//     right shape, no query, a content type other than application/json) is
//     refused with 400 or 415 and a fixed message: nothing of what was sent
//     comes back.
//   - A request that fails before execution (parse, validation, variable
//     coercion, the limits) has no "data" entry, and answers 200 under
//     application/json or 400 under application/graphql-response+json.
//   - GET runs queries only; a mutation over GET is 405.
//
// Every error carries a code of the one closed set, through the error
// presenter.
type graphQLHTTP struct{}

var _ graphql.Transport = graphQLHTTP{}

const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// Supports implements graphql.Transport: every request that is not a
// websocket upgrade, so that Do answers every method, and every body it
// cannot read, with a coded error (gqlgen's own answer to a request no
// transport takes has no code).
func (graphQLHTTP) Supports(r *http.Request) bool {
	return r.Header.Get("Upgrade") == ""
}

// Do implements graphql.Transport.
func (graphQLHTTP) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	media := responseMedia(r.Header.Get("Accept"))
	w.Header().Set("Content-Type", media+"; charset=utf-8")
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		e := iam.Errorf(iam.BadUserInput, "send GraphQL requests with POST (or GET for queries), not %s", r.Method)
		writeErrors(w, http.StatusMethodNotAllowed, exec.DispatchError(ctx, gqlerror.List{{Message: e.Message, Err: e}}))
		return
	}
	start := graphql.Now()
	params, status, err := readParams(r)
	if err != nil {
		writeErrors(w, status, exec.DispatchError(ctx, gqlerror.List{{Message: err.Message, Err: err}}))
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}

	oc, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		status := http.StatusOK
		if media == mediaGraphQLResponse {
			status = http.StatusBadRequest
		}
		writeErrors(w, status, exec.DispatchError(graphql.WithOperationContext(ctx, oc), errs))
		return
	}
	if r.Method == http.MethodGet && oc.Operation.Operation != ast.Query {
		w.Header().Set("Allow", http.MethodPost)
		e := iam.Errorf(iam.BadUserInput, "a %s must be sent with POST; GET runs queries only", oc.Operation.Operation)
		writeErrors(w, http.StatusMethodNotAllowed, exec.DispatchError(ctx, gqlerror.List{{Message: e.Message, Err: e}}))
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, oc)
	writeResponse(w, http.StatusOK, responses(ctx))
}

// responseMedia picks the answer's media type from an Accept header: the
// first of the two GraphQL types it names, application/json for a
// wildcard or no header, and the newer type when it names neither.
func responseMedia(accept string) string {
	if strings.TrimSpace(accept) == "" {
		return mediaJSON
	}
	for part := range strings.SplitSeq(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case mediaJSON, "*/*", "application/*":
			return mediaJSON
		case mediaGraphQLResponse:
			return mediaGraphQLResponse
		}
	}
	return mediaGraphQLResponse
}

// readParams reads a GraphQL request from the query string (GET) or a JSON
// body (POST). On failure it returns the status and a coded error whose
// message names what is wrong without repeating any of what was sent.
func readParams(r *http.Request) (*graphql.RawParams, int, *iam.Error) {
	p := &graphql.RawParams{}
	if r.Method == http.MethodGet {
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return nil, http.StatusBadRequest, iam.Errorf(iam.BadUserInput, "the query string is not URL-encoded")
		}
		p.Query, p.OperationName = q.Get("query"), q.Get("operationName")
		for name, into := range map[string]*map[string]any{"variables": &p.Variables, "extensions": &p.Extensions} {
			if v := q.Get(name); v != "" && decodeJSON(strings.NewReader(v), into) != nil {
				return nil, http.StatusBadRequest, iam.Errorf(iam.BadUserInput, "the %s parameter is not a JSON object", name)
			}
		}
		if err := withQuery(p); err != nil {
			return nil, http.StatusBadRequest, err
		}
		return p, 0, nil
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != mediaJSON {
		return nil, http.StatusUnsupportedMediaType, iam.Errorf(iam.BadUserInput, "send the request as Content-Type: application/json")
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, http.StatusRequestEntityTooLarge, iam.Errorf(iam.BadUserInput, "request body too large (limit 1 MiB)")
		}
		return nil, http.StatusBadRequest, iam.Errorf(iam.BadUserInput, "the request body could not be read")
	}
	if decodeJSON(bytes.NewReader(body), p) != nil {
		return nil, http.StatusBadRequest, iam.Errorf(iam.BadUserInput,
			`the request body is not a GraphQL request: send a JSON object {"query": string, "operationName": string, "variables": object}`)
	}
	if err := withQuery(p); err != nil {
		return nil, http.StatusBadRequest, err
	}
	return p, 0, nil
}

// withQuery refuses a request without a query, unless it names a persisted
// one (automatic persisted queries send only the hash).
func withQuery(p *graphql.RawParams) *iam.Error {
	if p.Query == "" && p.Extensions["persistedQuery"] == nil {
		return iam.Errorf(iam.BadUserInput, "the request has no query")
	}
	return nil
}

// decodeJSON decodes exactly one JSON value into v, keeping numbers exact.
func decodeJSON(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data")
	}
	return nil
}

// writeErrors writes a response of errors raised before execution: it has
// no "data" entry, as the GraphQL specification requires.
func writeErrors(w http.ResponseWriter, status int, resp *graphql.Response) {
	writeResponse(w, status, struct {
		Errors     gqlerror.List  `json:"errors"`
		Extensions map[string]any `json:"extensions,omitempty"`
	}{resp.Errors, resp.Extensions})
}

func writeResponse(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"errors":[{"message":"internal server error","extensions":{"code":"`+string(iam.Internal)+`"}}]}`)
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
