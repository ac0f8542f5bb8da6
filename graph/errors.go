package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
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

// Recover turns a panic in a resolver into an internal error and logs it.
func Recover(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "panic in resolver", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		return iam.Errorf(iam.Internal, "internal server error")
	}
}
