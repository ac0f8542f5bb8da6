package iam

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Code is one of the closed set of error codes a client can see.
type Code string

// The codes. Anything that is not an *Error is reported as Internal, with the
// detail in the log and a generic message for the client.
const (
	BadUserInput    Code = "BAD_USER_INPUT"
	Unauthenticated Code = "UNAUTHENTICATED"
	Forbidden       Code = "FORBIDDEN"
	NotFound        Code = "NOT_FOUND"
	Conflict        Code = "CONFLICT"
	RateLimited     Code = "RATE_LIMITED"
	Unavailable     Code = "UNAVAILABLE"
	Internal        Code = "INTERNAL_SERVER_ERROR"
)

// codes is the one table from a code to what each transport shows: GraphQL
// copies the code to extensions.code unchanged; HTTP answers with the status.
var codes = map[Code]int{
	BadUserInput:    http.StatusBadRequest,
	Unauthenticated: http.StatusUnauthorized,
	Forbidden:       http.StatusForbidden,
	NotFound:        http.StatusNotFound,
	Conflict:        http.StatusConflict,
	RateLimited:     http.StatusTooManyRequests,
	Unavailable:     http.StatusServiceUnavailable,
	Internal:        http.StatusInternalServerError,
}

// Codes returns every code, for transports and tests that list them.
func Codes() []Code {
	return []Code{BadUserInput, Unauthenticated, Forbidden, NotFound, Conflict, RateLimited, Unavailable, Internal}
}

// HTTPStatus is the HTTP status a transport answers with for the code.
func (c Code) HTTPStatus() int {
	if s, ok := codes[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// GraphQL is the code's GraphQL extensions.code.
func (c Code) GraphQL() string { return string(c) }

// Error is a failure meant for the client: a code, a message safe to show, and
// for BadUserInput the path of the offending input field (e.g.
// "input.accessPolicy.rule[2].action").
type Error struct {
	Code    Code
	Message string
	Field   string
	// RetryAfter, when set, is how long the client should wait before
	// trying again (RATE_LIMITED, UNAVAILABLE); Limit, when set, is the limit
	// the request hit. Every transport publishes both: HTTP as Retry-After
	// and RateLimit-* headers, GraphQL also in the error's extensions.
	RetryAfter time.Duration
	Limit      *RateLimit
}

// RateLimit is a limit as clients are told of it: Limit attempts per
// window, Remaining of them left, and the window ends after Reset.
type RateLimit struct {
	Limit     int
	Remaining int
	Reset     time.Duration
}

// Seconds rounds d up to whole seconds, as headers count them.
func Seconds(d time.Duration) int64 {
	return int64((d + time.Second - 1) / time.Second)
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (%s)", e.Code, e.Message, e.Field)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns a BadUserInput error about one input field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: BadUserInput, Message: fmt.Sprintf(format, args...), Field: field}
}

// ErrUnavailable is the answer when the store does not answer in time.
var ErrUnavailable = Errorf(Unavailable, "the service cannot reach its database right now; try again shortly")

// errInternal is what a client sees of an error that is not an *Error.
var errInternal = Errorf(Internal, "internal server error")

// Public returns the *Error a client may see for err: err itself when it is
// one, else a generic internal error (whose detail belongs in the log, never
// in an answer). internal reports the latter case.
func Public(err error) (e *Error, internal bool) {
	if errors.As(err, &e) {
		return e, false
	}
	return errInternal, true
}

// ErrorCode returns the code of err, Internal for errors that are not *Error.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// HTTPHeaders are the headers an HTTP answer carrying e adds: Retry-After
// (seconds) and, for a limit, RateLimit-Limit, RateLimit-Remaining and
// RateLimit-Reset (seconds until the window ends), as Auth0 and the IETF
// draft name them. Empty for an error without either.
func (e *Error) HTTPHeaders() http.Header {
	h := http.Header{}
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(Seconds(e.RetryAfter), 10))
	}
	if l := e.Limit; l != nil {
		h.Set("RateLimit-Limit", strconv.Itoa(l.Limit))
		h.Set("RateLimit-Remaining", strconv.Itoa(l.Remaining))
		h.Set("RateLimit-Reset", strconv.FormatInt(Seconds(l.Reset), 10))
	}
	return h
}
