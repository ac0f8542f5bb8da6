package service

// SSO connections: a project's links to customers' OpenID Connect identity
// providers, managed by whoever may change the project's settings (the
// catalogue has no actions of their own for them), and the first sign-in
// through one. The client secret is sealed and never returned. The
// relying-party leg (redirect, code exchange, ID-token checks with state,
// nonce and PKCE) gives ssoSignIn the claims it verified; ssoSignIn then
// finds the user linked to that upstream identity, links an existing user
// with the same verified email, or creates one with the project's
// defaultSSOUserRole.

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/google/uuid"

	"atrium/iam"
	"atrium/store"
)

// SSOConnectionInput creates or changes a connection; nil fields are
// absent (on create: defaults; on update: unchanged).
type SSOConnectionInput struct {
	Name     *string
	Issuer   *string
	ClientID *string
	// ClientSecret "" removes the secret (a public client, PKCE only).
	ClientSecret *string
	Scopes       []string
	// ClaimMapping maps upstream claims to Atrium's fields (iam.SSOFields);
	// nil is absent.
	ClaimMapping []SSOClaim
}

// SSOClaim maps one upstream claim to one of Atrium's fields.
type SSOClaim struct{ Claim, Field string }

// Defaults of a new connection.
var (
	defaultSSOScopes       = []string{"openid", "email", "profile"}
	defaultSSOClaimMapping = map[string]string{"email": "email", "email_verified": "email_verified", "name": "name",
		"given_name": "given_name", "family_name": "family_name"}
)

// sealSSOSecret is the seal context of a connection's client secret.
func sealSSOSecret(id string) string { return "sso-secret/" + id }

var scopeToken = regexp.MustCompile(`^[\x21\x23-\x5B\x5D-\x7E]{1,100}$`) // RFC 6749 §3.3

// validIssuer accepts an https URL, or http on the loopback address (tests
// and development) or for a project of this Atrium (an issuer under
// publicURL, which is as secure as Atrium itself), without query or
// fragment.
func validIssuer(raw, publicURL string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%q is not an issuer URL (https://host[/path], no query or fragment)", raw)
	}
	if u.Scheme == "https" || (publicURL != "" && strings.HasPrefix(raw, publicURL+"/p/")) {
		return nil
	}
	if ip := net.ParseIP(u.Hostname()); u.Scheme == "http" && ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%q: an issuer must be an https URL (http only on 127.0.0.1)", raw)
}

// check validates the fields that are present and returns them cleaned.
// publicURL is Atrium's own (validIssuer).
func (in SSOConnectionInput) check(publicURL string) (SSOConnectionInput, error) {
	if in.Name != nil {
		name, err := checkName("input.name", *in.Name)
		if err != nil {
			return in, err
		}
		if name == "email" || name == "sms" {
			return in, iam.Invalid("input.name", "%q is one of Atrium's own sign-in methods; choose another name", name)
		}
		in.Name = &name
	}
	if in.Issuer != nil {
		if err := validIssuer(strings.TrimSpace(*in.Issuer), publicURL); err != nil {
			return in, iam.Invalid("input.issuer", "%v", err)
		}
		issuer := strings.TrimSpace(*in.Issuer)
		in.Issuer = &issuer
	}
	if in.ClientID != nil {
		id := strings.TrimSpace(*in.ClientID)
		if id == "" || len(id) > 255 || strings.IndexFunc(id, func(r rune) bool { return r < 0x21 || r == 0x7f }) >= 0 {
			return in, iam.Invalid("input.clientId", "must be 1 to 255 visible characters")
		}
		in.ClientID = &id
	}
	if in.ClientSecret != nil && len(*in.ClientSecret) > 1024 {
		return in, iam.Invalid("input.clientSecret", "must be at most 1024 characters")
	}
	if in.Scopes != nil {
		if len(in.Scopes) > 20 {
			return in, iam.Invalid("input.scopes", "at most 20 scopes")
		}
		for i, sc := range in.Scopes {
			if !scopeToken.MatchString(sc) {
				return in, iam.Invalid(fmt.Sprintf("input.scopes[%d]", i), "%q is not a scope", sc)
			}
		}
		if !slices.Contains(in.Scopes, "openid") {
			return in, iam.Invalid("input.scopes", "must hold openid")
		}
		in.Scopes = dedupe(in.Scopes)
	}
	if in.ClaimMapping != nil {
		if len(in.ClaimMapping) > 30 {
			return in, iam.Invalid("input.claimMapping", "at most 30 claims")
		}
		claims, fields := map[string]bool{}, map[string]string{}
		for i, m := range in.ClaimMapping {
			at := fmt.Sprintf("input.claimMapping[%d]", i)
			switch {
			case m.Claim == "" || len(m.Claim) > 100:
				return in, iam.Invalid(at+".claim", "a claim name must be 1 to 100 characters")
			case claims[m.Claim]:
				return in, iam.Invalid(at+".claim", "claim %q is mapped twice", m.Claim)
			case !slices.Contains(iam.SSOFields(), m.Field):
				return in, iam.Invalid(at+".field", "%q is not one of %v", m.Field, iam.SSOFields())
			case fields[m.Field] != "":
				return in, iam.Invalid(at+".field", "claims %q and %q both map to %q", fields[m.Field], m.Claim, m.Field)
			}
			claims[m.Claim], fields[m.Field] = true, m.Claim
		}
	}
	return in, nil
}

// applySSO copies the present fields onto c; check has cleaned them.
func (s *Service) applySSO(in SSOConnectionInput, c *iam.SSOConnection) error {
	if in.Name != nil {
		c.Name = *in.Name
	}
	if in.Issuer != nil {
		c.Issuer = *in.Issuer
	}
	if in.ClientID != nil {
		c.ClientID = *in.ClientID
	}
	if in.ClientSecret != nil {
		c.ClientSecret = nil
		if *in.ClientSecret != "" {
			sealed, err := s.sealer.Seal(sealSSOSecret(c.ID), []byte(*in.ClientSecret))
			if err != nil {
				return err
			}
			c.ClientSecret = sealed
		}
	}
	if in.Scopes != nil {
		c.Scopes = in.Scopes
	}
	if in.ClaimMapping != nil {
		c.ClaimMapping = make(map[string]string, len(in.ClaimMapping))
		for _, m := range in.ClaimMapping {
			c.ClaimMapping[m.Claim] = m.Field
		}
	}
	return nil
}

// ssoNameTaken is the answer for a name another connection of the project
// has.
func ssoNameTaken(name string) error {
	return &iam.Error{Code: iam.Conflict, Message: fmt.Sprintf("the project already has an SSO connection named %q", name), Field: "input.name"}
}

// SSOConnections lists the project's SSO connections, by name.
func (s *Service) SSOConnections(ctx context.Context) (_ []iam.SSOConnection, err error) {
	sc, op, err := s.begin(ctx, ucSSOConnections, "")
	defer op.end(&err)
	if err != nil {
		return nil, err
	}
	return sc.tenant.ListSSOConnections(ctx)
}

// MaxSSOConnections is how many SSO connections a project holds at most:
// its login page lists them all ("Continue with <name>").
const MaxSSOConnections = 20

// CreateSSOConnection adds a connection; name, issuer and clientId are
// required, scopes default to openid email profile and the claim mapping
// to the standard claims of the same names. A project holds at most
// MaxSSOConnections (two creates at the same moment may pass it by one).
func (s *Service) CreateSSOConnection(ctx context.Context, in SSOConnectionInput) (_ *iam.SSOConnection, err error) {
	sc, op, err := s.begin(ctx, ucCreateSSOConnection, "")
	defer op.end(&err)
	if err != nil {
		return nil, err
	}
	for field, v := range map[string]*string{"input.name": in.Name, "input.issuer": in.Issuer, "input.clientId": in.ClientID} {
		if v == nil {
			return nil, iam.Invalid(field, "is required")
		}
	}
	if in, err = in.check(s.publicURL); err != nil {
		return nil, err
	}
	existing, err := sc.tenant.ListSSOConnections(ctx)
	if err != nil {
		return nil, err
	}
	if len(existing) >= MaxSSOConnections {
		return nil, iam.Errorf(iam.Conflict, "the project holds %d SSO connections, the most it may; delete one first", len(existing))
	}
	c := &iam.SSOConnection{ID: uuid.NewString(), Scopes: slices.Clone(defaultSSOScopes), ClaimMapping: maps.Clone(defaultSSOClaimMapping)}
	if err := s.applySSO(in, c); err != nil {
		return nil, err
	}
	op.target(c.ID)
	if err := sc.tenant.SSOConnections().Insert(ctx, c); err != nil {
		if errors.Is(err, store.ErrDuplicate) {
			return nil, ssoNameTaken(c.Name)
		}
		return nil, err
	}
	return c, nil
}

// UpdateSSOConnection changes a connection.
func (s *Service) UpdateSSOConnection(ctx context.Context, id string, in SSOConnectionInput) (_ *iam.SSOConnection, err error) {
	sc, op, err := s.begin(ctx, ucUpdateSSOConnection, id)
	defer op.end(&err)
	if err != nil {
		return nil, err
	}
	op.target(id)
	if in, err = in.check(s.publicURL); err != nil {
		return nil, err
	}
	c, err := sc.tenant.SSOConnections().Update(ctx, id, 0, func(c *iam.SSOConnection) error { return s.applySSO(in, c) })
	switch {
	case errors.Is(err, store.ErrDuplicate) && in.Name != nil:
		return nil, ssoNameTaken(*in.Name)
	case err != nil:
		return nil, asNotFound(err, "SSO connection", id, "input.id")
	}
	return c, nil
}

// DeleteSSOConnection removes a connection. The users who arrived through
// it stay, but can no longer sign in through it.
func (s *Service) DeleteSSOConnection(ctx context.Context, id string) (err error) {
	sc, op, err := s.begin(ctx, ucDeleteSSOConnection, id)
	defer op.end(&err)
	if err != nil {
		return err
	}
	op.target(id)
	return asNotFound(sc.tenant.SSOConnections().Delete(ctx, id), "SSO connection", id, "input.id")
}

// ssoSignIn is the first factor of a sign-in through a connection, to an
// application: claims are what the relying-party leg verified of the
// upstream ID token. A connection of another project than the
// application's is not found. The user is the one linked to the upstream
// identity (its ssoData refreshed); else an existing user with the same
// email, when the upstream says it is verified, is linked; else a new
// user is made, with the project's defaultSSOUserRole, authenticationMethod
// the connection's name and ssoData the mapped claims.
func (s *Service) ssoSignIn(ctx context.Context, o *op, connectionID, applicationID string, claims map[string]any) (*LoginStep, error) {
	app, err := s.db.Application(ctx, applicationID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &iam.Error{Code: iam.NotFound, Message: "application not found", Field: "applicationId"}
	}
	if err != nil {
		return nil, err
	}
	o.inProject(app.ProjectID)
	conn, err := s.db.SSOConnection(ctx, connectionID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && conn.ProjectID != app.ProjectID) {
		return nil, notFound("SSO connection", connectionID, "connectionId")
	}
	if err != nil {
		return nil, err
	}
	sub, _ := claims["sub"].(string)
	if sub == "" {
		return nil, iam.Errorf(iam.Unauthenticated, "the identity provider of %q named no subject", conn.Name)
	}
	data := map[string]any{}
	for claim, field := range conn.ClaimMapping {
		if v, ok := claims[claim]; ok {
			data[field] = v
		}
	}
	t := s.db.Tenant(app.ProjectID)
	subject := conn.ID + "/" + sub
	u, err := t.UserBySSOSubject(ctx, subject)
	switch {
	case err == nil:
		u, err = t.Users().Update(ctx, u.ID, 0, func(u *iam.User) error { u.SSOData = data; return nil })
	case errors.Is(err, store.ErrNotFound):
		u, err = s.linkOrCreateSSOUser(ctx, t, app, conn, subject, data)
	}
	if err != nil {
		return nil, err
	}
	o.target(u.ID)
	return s.step(ctx, t, app, u, []string{AMRFederated})
}

// linkOrCreateSSOUser links the user with the upstream identity's verified
// email, or creates a user for it.
func (s *Service) linkOrCreateSSOUser(ctx context.Context, t *store.Tenant, app *iam.Application, conn *iam.SSOConnection, subject string, data map[string]any) (*iam.User, error) {
	raw, _ := data["email"].(string)
	email, err := normaliseEmail("email", raw)
	if raw == "" || err != nil {
		email = ""
	}
	verified := data["email_verified"] == true || data["email_verified"] == "true"
	if email != "" {
		existing, err := t.UserByEmail(ctx, email)
		switch {
		case err == nil && verified:
			return t.Users().Update(ctx, existing.ID, 0, func(u *iam.User) error {
				if u.SSOSubject != "" && u.SSOSubject != subject {
					return iam.Errorf(iam.Conflict, "the user with this email is linked to another identity")
				}
				u.SSOSubject, u.SSOData = subject, data
				if u.Status == iam.Invited {
					u.Status, u.Invitation = iam.Active, nil // the provider vouches for the email
				}
				return nil
			})
		case err == nil:
			return nil, iam.Errorf(iam.Conflict, "a user with this email exists, and %q does not say the email is verified: it is not linked", conn.Name)
		case !errors.Is(err, store.ErrNotFound):
			return nil, err
		}
	}
	p, err := t.Project(ctx)
	if err != nil {
		return nil, err
	}
	if p.DefaultSSOUserRoleID == "" {
		return nil, iam.Errorf(iam.Forbidden, "the project has no defaultSSOUserRole, so nobody new can sign in through %q; ask its developers to set it", conn.Name)
	}
	name, _ := data["name"].(string)
	if name, err = checkName("name", firstNonEmpty(firstNonEmpty(strings.TrimSpace(name), email), subject)); err != nil {
		name = subject
	}
	u := &iam.User{ID: uuid.NewString(), Name: name, Email: email, AuthenticationMethod: conn.Name, RoleIDs: []string{p.DefaultSSOUserRoleID},
		Status: iam.Active, ApplicationID: app.ID, SSOSubject: subject, SSOData: data}
	resource := map[string]any{"resourceType": "Practitioner"}
	if given, family := data["given_name"], data["family_name"]; given != nil || family != nil {
		n := map[string]any{}
		if g, ok := given.(string); ok {
			n["given"] = []any{g}
		}
		if f, ok := family.(string); ok {
			n["family"] = f
		}
		resource["name"] = []any{n}
	}
	profile, err := newProfile("resource", resource, []string{"Practitioner"}, p.ID, "sso/"+subject)
	if err != nil {
		return nil, err
	}
	if err := s.withProfile(ctx, t, profile, &u.Profile, func() error { return t.Users().Insert(ctx, u) }); err != nil {
		if errors.Is(err, store.ErrDuplicate) {
			return nil, iam.Errorf(iam.Conflict, "this identity signed in at the same time from elsewhere; try again")
		}
		return nil, err
	}
	return u, nil
}
