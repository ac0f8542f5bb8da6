package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"atrium/iam"
)

// ErrorPresenter maps every error to a top-level GraphQL error whose
// extensions.code comes from iam's one table of codes (plus gqlgen's own
// GRAPHQL_PARSE_FAILED / GRAPHQL_VALIDATION_FAILED for malformed documents).
// Errors that are not *iam.Error are internal: their detail goes to the log
// with the request id, the client sees a generic message.
func ErrorPresenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gerr := graphql.DefaultErrorPresenter(ctx, err)
		var e *iam.Error
		switch {
		case errors.As(err, &e):
		case gerr.Extensions["code"] == "COMPLEXITY_LIMIT_EXCEEDED":
			gerr.Extensions["code"] = iam.BadUserInput.GraphQL()
			return gerr
		case gerr.Extensions["code"] != nil:
			// gqlgen's parse and validation errors keep their code.
			return gerr
		case isInputError(err):
			// Argument coercion failed (a value of the wrong type or an
			// unknown enum value): gqlgen's message says which.
			gerr.Extensions = map[string]any{"code": iam.BadUserInput.GraphQL()}
			return gerr
		case argumentField(ctx, gerr) != "":
			// A custom scalar refused its value (a Time that is not a
			// date, a JSON object that is a string): the client's mistake.
			e = iam.Invalid(argumentField(ctx, gerr), "%s", scalarProblem(err))
		default:
			log.ErrorContext(ctx, "internal error", "error", err.Error(), "path", gerr.Path.String())
			e, _ = iam.Public(err)
		}
		if e.Code == iam.Unavailable {
			log.WarnContext(ctx, "the store did not answer", "error", err.Error(), "path", gerr.Path.String())
		}
		gerr.Message = e.Message
		gerr.Extensions = map[string]any{"code": e.Code.GraphQL()}
		if e.Field != "" {
			gerr.Extensions["field"] = e.Field
		}
		publishLimit(ctx, e, gerr)
		return gerr
	}
}

// isInputError tells gqlgen's own errors (arguments that do not coerce) from
// errors returned by resolvers: gqlgen reports the former as *gqlerror.Error,
// while resolvers never return one.
func isInputError(err error) bool {
	var g *gqlerror.Error
	return errors.As(err, &g) && g.Err == nil
}

// argumentField is the input path ("filter.since", "input.resource") of an
// error gqlgen raised while decoding a field's arguments, or "" for any
// other error. gqlgen reports both argument and resolver errors on the
// field's context, but only argument errors carry a path that goes on past
// the field, into its arguments.
func argumentField(ctx context.Context, gerr *gqlerror.Error) string {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return ""
	}
	field := fc.Path()
	if len(gerr.Path) <= len(field) || gerr.Path[:len(field)].String() != field.String() {
		return ""
	}
	var b strings.Builder
	for _, el := range gerr.Path[len(field):] {
		switch el := el.(type) {
		case ast.PathName:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(string(el))
		case ast.PathIndex:
			fmt.Fprintf(&b, "[%d]", int(el))
		}
	}
	return b.String()
}

// scalarProblem says what a custom scalar wanted, in words a client can
// act on; gqlgen's own messages name Go types.
func scalarProblem(err error) string {
	switch {
	case strings.Contains(err.Error(), "time should be"): // graphql.UnmarshalTime
		return "must be an RFC 3339 date-time, such as 2026-12-01T09:30:00Z"
	case strings.Contains(err.Error(), "is not a map"): // graphql.UnmarshalMap
		return "must be a JSON object"
	}
	return "has the wrong type for this field"
}

// Recover turns a panic in a resolver into an internal error and logs it.
func Recover(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "panic in resolver", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		return iam.Errorf(iam.Internal, "internal server error")
	}
}
