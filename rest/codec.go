package rest

// This file holds the wire format: reading path, query and JSON body, and
// writing answers and errors ({message, code, atriumCode, field}).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"atrium/iam"
)

// request is one call being decoded.
type request struct {
	r *http.Request
}

// path returns a path parameter.
func (q *request) path(name string) string { return q.r.PathValue(name) }

// decode reads the JSON body into v. An empty body is {}; a body that is not
// declared as JSON, is not JSON, has fields v lacks, or values of the wrong
// type is a BAD_USER_INPUT naming what is wrong.
func (q *request) decode(v any) error {
	raw, err := io.ReadAll(q.r.Body)
	if err != nil {
		return unreadable(err)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	if mt, _, _ := mime.ParseMediaType(q.r.Header.Get("Content-Type")); mt != "application/json" && !strings.HasSuffix(mt, "+json") {
		return iam.Invalid("body", "the body must be JSON sent with Content-Type: application/json (got %q)", q.r.Header.Get("Content-Type"))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return bodyError(err)
	}
	if dec.More() {
		return iam.Invalid("body", "the body must hold one JSON object, with nothing after it")
	}
	return nil
}

// unreadable is the error of a body that could not be read: over the size
// limit (writeError answers 413), or cut off.
func unreadable(err error) error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return err
	}
	return iam.Invalid("body", "the request body could not be read")
}

// bodyError turns a JSON decoding failure into a BAD_USER_INPUT that names
// the field, without echoing the body or Go's type names.
func bodyError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var field *fieldError
	switch {
	case errors.As(err, &field):
		return iam.Invalid(field.field, "%s", field.msg)
	case errors.As(err, &syntax):
		return iam.Invalid("body", "the body is not valid JSON (at byte %d)", syntax.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return iam.Invalid("body", "the body is not valid JSON (it ends too early)")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return iam.Invalid("body", "the body must be a JSON object, not %s", typ.Value)
		}
		return iam.Invalid(typ.Field, "must be %s, not %s", jsonKind(typ.Type.Kind().String()), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return iam.Invalid(name, "is not a field of this request, or one Atrium does not support")
	}
	if !strings.HasPrefix(err.Error(), "json:") {
		// Our own decoders' messages (e.g. an access policy's rule) are
		// meant for the client; encoding/json's other ones name Go types.
		return iam.Invalid("body", "%v", err)
	}
	return iam.Invalid("body", "the body could not be read as this request's JSON")
}

// fieldError is a decoding failure found by a field's own UnmarshalJSON.
type fieldError struct{ field, msg string }

func (e *fieldError) Error() string { return e.field + ": " + e.msg }

// jsonKind names a Go kind the way a JSON user thinks of it.
func jsonKind(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	case "int", "int64", "float64":
		return "a number"
	}
	return "a " + kind
}

// optional is a body field that may be absent, null or a value (PATCH
// semantics: absent leaves a field alone, null clears it).
type optional[T any] struct {
	set  bool
	null bool
	v    T
}

func (o *optional[T]) UnmarshalJSON(b []byte) error {
	o.set = true
	if string(b) == "null" {
		o.null = true
		return nil
	}
	return json.Unmarshal(b, &o.v)
}

// ptr is the value as a pointer, nil when absent or null.
func (o optional[T]) ptr() *T {
	if !o.set || o.null {
		return nil
	}
	return &o.v
}

// writeJSON writes v as the answer.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"message":"internal server error","code":500,"atriumCode":"INTERNAL_SERVER_ERROR"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// problem is every error answer. code is the HTTP status, as the SDK reads
// it (its retries compare body.code with 408, 429, 500, 502, 503, 504);
// atriumCode is Atrium's closed-set code, field the input at fault.
type problem struct {
	Message    string `json:"message"`
	Code       int    `json:"code"`
	AtriumCode string `json:"atriumCode"`
	Field      string `json:"field,omitempty"`
}

// Transport codes, beside the domain's closed set: the route does not exist
// for that verb.
const (
	codeNotFound         = string(iam.NotFound)
	codeMethodNotAllowed = "METHOD_NOT_ALLOWED"
)

func writeProblem(w http.ResponseWriter, status int, code, message, field string) {
	writeJSON(w, status, problem{Message: message, Code: status, AtriumCode: code, Field: field})
}

// writeError answers err. A domain error keeps its message and names its
// field in the message too (the SDK shows only the message); anything else
// is internal: logged, and answered with a generic message.
func writeError(ctx context.Context, log *slog.Logger, w http.ResponseWriter, err error) {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		writeProblem(w, http.StatusRequestEntityTooLarge, string(iam.BadUserInput), "body: request body too large (limit 1 MiB)", "body")
		return
	}
	e, internal := iam.Public(err)
	if internal {
		log.ErrorContext(ctx, "internal error", "error", err.Error())
	}
	status := e.Code.HTTPStatus()
	field := strings.TrimPrefix(e.Field, "input.")
	msg := e.Message
	if field != "" {
		msg = fmt.Sprintf("%s: %s", field, msg)
	}
	writeProblem(w, status, string(e.Code), msg, field)
}

// queryParams reads the query string of a listing: only the names given are
// accepted, each at most once.
func (q *request) queryParams(names ...string) (map[string]string, error) {
	out := map[string]string{}
	for k, vs := range q.r.URL.Query() {
		if !slices.Contains(names, k) {
			return nil, iam.Invalid(k, "is not a query parameter of this endpoint (it takes %s)", strings.Join(names, ", "))
		}
		for _, v := range vs[1:] {
			if v != vs[0] {
				return nil, iam.Invalid(k, "give one value (got %d)", len(vs))
			}
		}
		out[k] = vs[0]
	}
	return out, nil
}
