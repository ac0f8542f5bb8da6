package service

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"atrium/access"
	"atrium/auth"
	"atrium/iam"
	"atrium/store"
)

// M2MInput creates or changes a machine client; unset fields are absent.
type M2MInput struct {
	Name         *string
	Description  *string
	JWKSURL      *string
	Roles        Optional[[]string]
	AccessPolicy Optional[*access.Policy]
	// Profile is an existing Patient, Practitioner or Device reference; on
	// create a new Device is made when it is absent.
	Profile *string
}

// M2MClient returns one machine client of the project in scope.
func (s *Service) M2MClient(ctx context.Context, id string) (_ *iam.M2MClient, err error) {
	sc, op, err := s.begin(ctx, ucM2MClient, id)
	defer op.end(&err)
	if err != nil {
		return nil, err
	}
	return s.m2mClient(ctx, sc.tenant, id, "id")
}

func (s *Service) m2mClient(ctx context.Context, t *store.Tenant, id, field string) (*iam.M2MClient, error) {
	c, err := t.M2MClients().Get(ctx, id)
	return c, asNotFound(err, "machine client", id, field)
}

// M2MPage is one page of machine clients.
type M2MPage struct {
	Clients []iam.M2MClient
	Paging
}

// M2MClients lists the project's machine clients, oldest first.
func (s *Service) M2MClients(ctx context.Context, args PageArgs, f iam.M2MFilter, order iam.UserOrder, desc bool) (_ *M2MPage, err error) {
	sc, op, err := s.begin(ctx, ucM2MClients, "")
	defer op.end(&err)
	if err != nil {
		return nil, err
	}
	page := &M2MPage{}
	page.Clients, page.Paging, err = listPage(args, desc, func(p store.Page) ([]iam.M2MClient, []string, error) {
		return sc.tenant.ListM2MClients(ctx, f, order, p)
	})
	noteProfiles(ctx, sc.tenant.ProjectID(), page.Clients, func(c *iam.M2MClient) string { return c.Profile })
	return page, err
}

// CreateM2MClient creates a machine client with a Device profile (unless an
// existing profile is given). Its secret is only ever shown by
// RotateM2MClientSecret.
func (s *Service) CreateM2MClient(ctx context.Context, in M2MInput) (_ *iam.M2MClient, err error) {
	sc, op, err := s.begin(ctx, ucCreateM2MClient, "")
	defer op.end(&err)
	if err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, iam.Invalid("input.name", "is required")
	}
	c, err := s.newM2MClient(ctx, sc.tenant, in)
	if err != nil {
		return nil, err
	}
	op.target(c.ID)
	return c, nil
}

func (s *Service) newM2MClient(ctx context.Context, t *store.Tenant, in M2MInput) (*iam.M2MClient, error) {
	c := &iam.M2MClient{ID: uuid.NewString(), ClientID: newClientID(), RoleIDs: []string{}}
	if err := s.applyM2M(ctx, t, c, in); err != nil {
		return nil, err
	}
	if err := needsAccess("input.roles", c.RoleIDs, c.AccessPolicy); err != nil {
		return nil, err
	}
	var profile *iam.Profile
	if in.Profile == nil {
		device := map[string]any{"resourceType": "Device", "deviceName": []any{map[string]any{"name": c.Name, "type": "user-friendly-name"}}}
		profile, _ = newProfile("input.profile", device, []string{"Device"}, t.ProjectID(), "m2m/"+c.ClientID)
	}
	if err := s.withProfile(ctx, t, profile, &c.Profile, func() error { return t.M2MClients().Insert(ctx, c) }); err != nil {
		return nil, err
	}
	return c, nil
}

// applyM2M checks the present fields of in and copies them onto c.
func (s *Service) applyM2M(ctx context.Context, t *store.Tenant, c *iam.M2MClient, in M2MInput) error {
	var err error
	if in.Name != nil {
		if c.Name, err = checkName("input.name", *in.Name); err != nil {
			return err
		}
	}
	if in.Description != nil {
		if c.Description, err = checkDescription("input.description", *in.Description); err != nil {
			return err
		}
	}
	if in.JWKSURL != nil {
		if *in.JWKSURL != "" {
			if err := iam.ValidWebURL(*in.JWKSURL); err != nil {
				return iam.Invalid("input.jwksUrl", "%v", err)
			}
		}
		c.JWKSURL = *in.JWKSURL
	}
	if in.Roles.Set {
		if c.RoleIDs, err = s.rolesOf(ctx, t, "input.roles", in.Roles.Value); err != nil {
			return err
		}
	}
	if in.AccessPolicy.Set {
		if in.AccessPolicy.Value != nil {
			if err := checkPolicy("input.accessPolicy", *in.AccessPolicy.Value); err != nil {
				return err
			}
		}
		c.AccessPolicy = in.AccessPolicy.Value
	}
	if in.Profile != nil {
		if c.Profile, err = s.existingProfile(ctx, t, "input.profile", *in.Profile); err != nil {
			return err
		}
	}
	return nil
}

// UpdateM2MClient changes the present fields of a machine client; it must
// keep a role or an inline policy.
func (s *Service) UpdateM2MClient(ctx context.Context, id string, in M2MInput) (_ *iam.M2MClient, err error) {
	sc, op, err := s.begin(ctx, ucUpdateM2MClient, id)
	defer op.end(&err)
	if err != nil {
		return nil, err
	}
	// Check references before the compare-and-swap loop, which may re-run.
	probe := &iam.M2MClient{}
	if err := s.applyM2M(ctx, sc.tenant, probe, in); err != nil {
		return nil, err
	}
	c, err := sc.tenant.M2MClients().Update(ctx, id, 0, func(c *iam.M2MClient) error {
		mergeM2M(c, probe, in)
		return needsAccess("input.roles", c.RoleIDs, c.AccessPolicy)
	})
	return c, asNotFound(err, "machine client", id, "input.id")
}

// mergeM2M copies the fields in sets from the checked probe onto c.
func mergeM2M(c, probe *iam.M2MClient, in M2MInput) {
	if in.Name != nil {
		c.Name = probe.Name
	}
	if in.Description != nil {
		c.Description = probe.Description
	}
	if in.JWKSURL != nil {
		c.JWKSURL = probe.JWKSURL
	}
	if in.Roles.Set {
		c.RoleIDs = probe.RoleIDs
	}
	if in.AccessPolicy.Set {
		c.AccessPolicy = probe.AccessPolicy
	}
	if in.Profile != nil {
		c.Profile = probe.Profile
	}
}

// DeleteM2MClient deletes a machine client; its tokens stop working at once.
func (s *Service) DeleteM2MClient(ctx context.Context, id string) (err error) {
	sc, op, err := s.begin(ctx, ucDeleteM2MClient, id)
	defer op.end(&err)
	if err != nil {
		return err
	}
	c, err := s.m2mClient(ctx, sc.tenant, id, "input.id")
	if err != nil {
		return err
	}
	err = sc.tenant.M2MClients().Delete(ctx, id)
	if err != nil {
		return asNotFound(err, "machine client", id, "input.id")
	}
	if err == nil {
		s.retireProfile(ctx, sc.tenant, c.Profile)
	}
	return err
}

// RotateM2MClientSecret gives a machine client a new secret, returned only
// here; the old one, and every token issued under it, stop working at once.
func (s *Service) RotateM2MClientSecret(ctx context.Context, id string) (_ string, err error) {
	sc, op, err := s.begin(ctx, ucRotateM2MClientSecret, id)
	defer op.end(&err)
	if err != nil {
		return "", err
	}
	secret := auth.NewSecret()
	_, err = sc.tenant.M2MClients().Update(ctx, id, 0, func(c *iam.M2MClient) error {
		c.SecretHash = auth.HashSecret(secret)
		c.SecretVersion++
		return nil
	})
	return secret, asNotFound(err, "machine client", id, "input.id")
}

// M2MClientRoles resolves the roles a machine client holds.
func (s *Service) M2MClientRoles(ctx context.Context, c *iam.M2MClient) ([]iam.Role, error) {
	return loadRoles(ctx, s, c.ProjectID, c.RoleIDs)
}

// M2MMe returns the calling machine client.
func (s *Service) M2MMe(ctx context.Context) (_ *iam.M2MClient, err error) {
	sc, op, err := s.begin(ctx, ucM2MMe, "")
	defer op.end(&err)
	if err != nil {
		return nil, err
	}
	return s.activeM2M(ctx, &sc.Principal)
}

// activeM2M reads the machine client a token names, and refuses the token
// when the client is gone or its secret was rotated after the token was
// issued.
func (s *Service) activeM2M(ctx context.Context, p *auth.Principal) (*iam.M2MClient, error) {
	c, err := s.db.Tenant(p.ProjectID).M2MClients().Get(ctx, p.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, iam.Errorf(iam.Unauthenticated, "this machine client no longer exists")
	}
	if err != nil {
		return nil, err
	}
	return c, retiredM2MToken(c.SecretVersion, p)
}

// retiredM2MToken refuses a machine token issued under an older secret than
// the client's current one (version).
func retiredM2MToken(version int64, p *auth.Principal) error {
	if version != p.CredentialVersion {
		return iam.Errorf(iam.Unauthenticated, "this token was issued under a secret that has since been rotated: get a new token with the current secret")
	}
	return nil
}

// ErrInvalidClient is the client-credentials failure (RFC 6749 §5.2
// invalid_client): unknown client or wrong secret, indistinguishably.
var ErrInvalidClient = iam.Errorf(iam.Unauthenticated, "unknown client or wrong secret")

// ClientCredentials checks a machine client's id and secret (the OAuth 2.0
// client-credentials grant) and issues an access token bound to its project.
func (s *Service) ClientCredentials(ctx context.Context, clientID, secret string) (token string, expiresIn time.Duration, err error) {
	_, op, err := s.begin(ctx, ucIssueM2MClientToken, "")
	defer op.end(&err)
	c, err := s.db.M2MClientByClientID(ctx, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return "", 0, ErrInvalidClient
	}
	if err != nil {
		return "", 0, err
	}
	op.inProject(c.ProjectID)
	op.actor(auth.M2MClient, c.ID)
	op.target(c.ID)
	if !auth.SecretMatches(secret, c.SecretHash) {
		return "", 0, ErrInvalidClient
	}
	token, exp, err := s.tokens.Issue(ctx, auth.Principal{Kind: auth.M2MClient, ID: c.ID, ProjectID: c.ProjectID, CredentialVersion: c.SecretVersion})
	return token, exp.Sub(s.now()).Round(time.Second), err
}
