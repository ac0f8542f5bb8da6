// Package service holds Atrium's use cases and their rules: projects, roles,
// applications, users and invitations, sign-in, developers, machine clients,
// the access simulator and the audit trail. Transports (GraphQL, the
// invitation page, the token endpoint) decode, call it and encode; it calls
// the store. Every exported method starts by running its entry of the table
// of use cases (usecases.go): begin checks the caller and yields its scope,
// the only way to reach a project's data, and the deferred end records the
// audit event, so no transport and no method can forget either.
//
// One file per room: project.go, role.go, application.go, user.go,
// invitation.go, signin.go, developer.go, m2m.go, simulate.go (the access
// simulator), audit.go; scope.go builds a principal's effective policy for
// the guard and the simulator; profile.go the FHIR profiles every principal
// has; this file the input rules several rooms share, listing.go paging.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"atrium/access"
	"atrium/auth"
	"atrium/iam"
	"atrium/mail"
	"atrium/store"
)

// Service is the entry point of every use case.
type Service struct {
	db       *store.DB
	log      *slog.Logger
	now      func() time.Time
	tokens   *auth.Tokens
	sealer   *auth.Sealer
	mailer   Mailer
	texts    SMSSender
	throttle *auth.Throttle
	bg       *background
	origins  *originCache
	// publicURL is the base of the links Atrium hands out.
	publicURL string
	inviteTTL time.Duration

	// federation is the relying party of the SSO connections (ssoflow.go).
	federation Federation
}

// Mailer sends emails off the request path.
type Mailer interface {
	SendInvitation(mail.Invitation)
	SendPasswordReset(mail.PasswordReset)
}

// Options are the Service's collaborators and settings.
type Options struct {
	Tokens *auth.Tokens
	// Sealer seals what rests in the store but carries secrets.
	Sealer *auth.Sealer
	Mailer Mailer
	// SMS sends text messages (sign-in codes, invitations by phone); nil
	// sends none.
	SMS       SMSSender
	PublicURL string
	InviteTTL time.Duration
	// Clock tells the time of the domain's rules (ticket expiry, throttle
	// windows); nil is the system clock. Tests move it instead of sleeping.
	Clock func() time.Time

	// Federation signs users in through the projects' SSO connections;
	// nil offers none.
	Federation Federation
}

// New returns a Service over db.
func New(db *store.DB, log *slog.Logger, o Options) *Service {
	s := &Service{
		db:        db,
		log:       log,
		now:       func() time.Time { return time.Now().UTC() },
		tokens:    o.Tokens,
		sealer:    o.Sealer,
		mailer:    o.Mailer,
		texts:     o.SMS,
		throttle:  auth.NewThrottle(db.Attempts(), accountLimit, addressLimit),
		publicURL: strings.TrimRight(o.PublicURL, "/"),
		inviteTTL: o.InviteTTL,
	}
	s.federation = o.Federation
	if o.Clock != nil {
		s.now = func() time.Time { return o.Clock().UTC() }
	}
	s.origins = newOriginCache(db, log)
	s.startBackground()
	return s
}

// The sign-in throttle's limits: failed password checks per account (a
// project's user, or a developer) and per client address, each in a fixed
// window. An address may fail more often than an account, as several people
// may share it.
var (
	accountLimit = auth.Limit{Max: 5, Window: 15 * time.Minute}
	addressLimit = auth.Limit{Max: 20, Window: 15 * time.Minute}
)

// clientAddr is the address of the caller, as the transport determined it.
func clientAddr(ctx context.Context) string { return auth.FromContext(ctx).ClientAddr }

// Optional is an input field that may be absent (Set false), or present with
// a value; for nullable fields Value is a pointer and nil means an explicit
// null.
type Optional[T any] struct {
	Set   bool
	Value T
}

// Limits on free text.
const (
	maxNameLen        = 100
	maxDescriptionLen = 1000
)

// checkName trims and checks a required name.
func checkName(field, name string) (string, error) {
	name = strings.TrimSpace(name)
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return "", iam.Invalid(field, "must not be empty")
	case n > maxNameLen:
		return "", iam.Invalid(field, "must be at most %d characters (got %d)", maxNameLen, n)
	}
	if strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return "", iam.Invalid(field, "must not contain control characters")
	}
	return name, nil
}

// checkDescription checks optional free text.
func checkDescription(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if n := utf8.RuneCountInString(s); n > maxDescriptionLen {
		return "", iam.Invalid(field, "must be at most %d characters (got %d)", maxDescriptionLen, n)
	}
	return s, nil
}

// checkPolicy validates an access policy and names the failing input path.
func checkPolicy(field string, p access.Policy) error {
	err := access.Validate(p)
	var ve *access.ValidationError
	if errors.As(err, &ve) {
		path := field
		if ve.Rule >= 0 {
			path = field + ".rule[" + strconv.Itoa(ve.Rule) + "]"
			if ve.Field != "" {
				path += "." + ve.Field
			}
		}
		return iam.Invalid(path, "%s", ve.Error())
	}
	return err
}

// normaliseEmail trims and lower-cases an email and checks its form.
func normaliseEmail(field, email string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	addr, err := netmail.ParseAddress(e)
	if err != nil || addr.Address != e || len(e) > 254 {
		return "", iam.Invalid(field, "%q is not an email address", email)
	}
	return e, nil
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// checkPhone accepts E.164 numbers such as +15555550123.
func checkPhone(field, phone string) (string, error) {
	p := strings.TrimSpace(phone)
	if !e164.MatchString(p) {
		return "", iam.Invalid(field, "%q is not a phone number in E.164 form, such as +15555550123", phone)
	}
	return p, nil
}

// Password rules.
const (
	minPasswordLen = 8
	maxPasswordLen = 128
)

// checkPassword applies the password policy: 8 to 128 characters, not the
// email address.
func checkPassword(field, password, email string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case n < minPasswordLen:
		return iam.Invalid(field, "the password must be at least %d characters", minPasswordLen)
	case n > maxPasswordLen:
		return iam.Invalid(field, "the password must be at most %d characters", maxPasswordLen)
	case email != "" && strings.EqualFold(strings.TrimSpace(password), email):
		return iam.Invalid(field, "the password must not be your email address")
	}
	return nil
}

// rolesOf checks that every id names a role of the tenant and returns the ids
// without duplicates.
func (s *Service) rolesOf(ctx context.Context, t *store.Tenant, field string, ids []string) ([]string, error) {
	unique := dedupe(ids)
	if len(unique) > 100 {
		return nil, iam.Invalid(field, "at most 100 roles")
	}
	found, err := t.RolesByID(ctx, unique)
	if err != nil {
		return nil, err
	}
	for i, id := range ids {
		if !slices.ContainsFunc(found, func(r iam.Role) bool { return r.ID == id }) {
			return nil, notFound("role", id, fmt.Sprintf("%s[%d]", field, i))
		}
	}
	return unique, nil
}

func dedupe(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// needsAccess enforces the platform's rule for users and machine clients:
// at least one role or an inline access policy.
func needsAccess(field string, roles []string, policy *access.Policy) error {
	if len(roles) == 0 && policy == nil {
		return iam.Invalid(field, "give at least one role or an accessPolicy (or both)")
	}
	return nil
}

// notFound is the answer for an id that names nothing in the project in
// scope, whether it exists nowhere or in another project.
func notFound(what, id, field string) error {
	return &iam.Error{Code: iam.NotFound, Message: fmt.Sprintf("%s %q not found in this project", what, id), Field: field}
}

// ignoreNotFound is nil for the store's ErrNotFound and err otherwise.
func ignoreNotFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// asNotFound turns the store's ErrNotFound into notFound and passes any
// other error through.
func asNotFound(err error, what, id, field string) error {
	if errors.Is(err, store.ErrNotFound) {
		return notFound(what, id, field)
	}
	return err
}

// expectedVersion checks an optional expectedVersion input: absent is 0 (no
// check), a given value must be a version (≥ 1).
func expectedVersion(v *int64) (int64, error) {
	if v == nil {
		return 0, nil
	}
	if *v < 1 {
		return 0, iam.Invalid("input.expectedVersion", "must be a version (1 or more); leave it out to skip the check")
	}
	return *v, nil
}

func staleVersion(what string, expected int64) error {
	return iam.Errorf(iam.Conflict, "the %s is no longer at version %d: it was changed meanwhile; read it again and retry", what, expected)
}
