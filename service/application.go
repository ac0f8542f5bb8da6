package service

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"atrium/auth"
	"atrium/iam"
	"atrium/store"
)

// ApplicationInput creates or changes an application; nil fields are absent
// (on create: defaults; on update: unchanged).
type ApplicationInput struct {
	Name                   *string
	Description            *string
	LoginRedirectURI       *string
	LoginWithEmailEnabled  *bool
	AllowedCallbackURLs    []string
	AllowedCORSOriginsURLs []string
	ShouldSendInviteEmail  *bool
	AllowedLogoutURLs      []string
	AllowedWebOriginsURLs  []string
	LogoURI                *string
	RefreshTokenEnabled    *bool
	MFAEnabled             *bool
	PasswordlessSMS        *bool
}

// check validates the fields that are present.
func (in ApplicationInput) check() error {
	if in.Name != nil {
		if _, err := checkName("input.name", *in.Name); err != nil {
			return err
		}
	}
	if in.Description != nil {
		if _, err := checkDescription("input.description", *in.Description); err != nil {
			return err
		}
	}
	if in.LoginRedirectURI != nil && *in.LoginRedirectURI != "" {
		if err := iam.ValidWebURL(*in.LoginRedirectURI); err != nil {
			return iam.Invalid("input.loginRedirectUri", "%v", err)
		}
	}
	if err := checkList("input.allowedCallbackUrls", in.AllowedCallbackURLs, iam.ValidWebURL); err != nil {
		return err
	}
	if err := checkList("input.allowedLogoutUrls", in.AllowedLogoutURLs, iam.ValidWebURL); err != nil {
		return err
	}
	if err := checkList("input.allowedWebOriginsUrls", in.AllowedWebOriginsURLs, iam.ValidOrigin); err != nil {
		return err
	}
	if in.LogoURI != nil && *in.LogoURI != "" {
		if err := iam.ValidWebURL(*in.LogoURI); err != nil {
			return iam.Invalid("input.logoUri", "%v", err)
		}
	}
	return checkList("input.allowedCORSOriginsUrls", in.AllowedCORSOriginsURLs, iam.ValidOrigin)
}

const maxURLs = 50

func checkList(field string, list []string, valid func(string) error) error {
	if len(list) > maxURLs {
		return iam.Invalid(field, "at most %d entries", maxURLs)
	}
	for i, v := range list {
		if err := valid(v); err != nil {
			return iam.Invalid(fmt.Sprintf("%s[%d]", field, i), "%v", err)
		}
	}
	return nil
}

// apply copies the present fields onto a; check has accepted them.
func (in ApplicationInput) apply(a *iam.Application) {
	if in.Name != nil {
		a.Name = strings.TrimSpace(*in.Name)
	}
	if in.Description != nil {
		a.Description = strings.TrimSpace(*in.Description)
	}
	if in.LoginRedirectURI != nil {
		a.LoginRedirectURI = *in.LoginRedirectURI
	}
	if in.LoginWithEmailEnabled != nil {
		a.LoginWithEmailEnabled = *in.LoginWithEmailEnabled
	}
	if in.AllowedCallbackURLs != nil {
		a.AllowedCallbackURLs = in.AllowedCallbackURLs
	}
	if in.AllowedCORSOriginsURLs != nil {
		a.AllowedCORSOriginsURLs = normalOrigins(in.AllowedCORSOriginsURLs)
	}
	if in.ShouldSendInviteEmail != nil {
		a.ShouldSendInviteEmail = *in.ShouldSendInviteEmail
	}
	if in.AllowedLogoutURLs != nil {
		a.AllowedLogoutURLs = in.AllowedLogoutURLs
	}
	if in.AllowedWebOriginsURLs != nil {
		a.AllowedWebOriginsURLs = normalOrigins(in.AllowedWebOriginsURLs)
	}
	if in.LogoURI != nil {
		a.LogoURI = *in.LogoURI
	}
	if in.RefreshTokenEnabled != nil {
		a.RefreshTokenEnabled = *in.RefreshTokenEnabled
	}
	if in.MFAEnabled != nil {
		a.MFAEnabled = *in.MFAEnabled
	}
	if in.PasswordlessSMS != nil {
		a.PasswordlessSMS = *in.PasswordlessSMS
	}
}

// normalOrigins is the normal form of origins check accepted.
func normalOrigins(list []string) []string {
	out := make([]string, len(list))
	for i, o := range list {
		out[i], _ = iam.NormalOrigin(o)
	}
	return out
}

// Application returns one application of the project in scope.
func (s *Service) Application(ctx context.Context, id string) (_ *iam.Application, err error) {
	sc, op, err := s.begin(ctx, ucApplication, id)
	defer op.end(&err)
	if err != nil {
		return nil, err
	}
	return s.application(ctx, sc.tenant, id, "id")
}

func (s *Service) application(ctx context.Context, t *store.Tenant, id, field string) (*iam.Application, error) {
	a, err := t.Applications().Get(ctx, id)
	return a, asNotFound(err, "application", id, field)
}

// Applications lists the applications of the project in scope.
func (s *Service) Applications(ctx context.Context) (_ []iam.Application, err error) {
	sc, op, err := s.begin(ctx, ucApplications, "")
	defer op.end(&err)
	if err != nil {
		return nil, err
	}
	return sc.tenant.ListApplications(ctx)
}

// CreateApplication creates an application; name and allowedCallbackUrls
// (possibly empty) are required. Email sign-in is on unless turned off.
func (s *Service) CreateApplication(ctx context.Context, in ApplicationInput) (_ *iam.Application, err error) {
	sc, op, err := s.begin(ctx, ucCreateApplication, "")
	defer op.end(&err)
	if err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, iam.Invalid("input.name", "is required")
	}
	if in.AllowedCallbackURLs == nil {
		return nil, iam.Invalid("input.allowedCallbackUrls", "is required (it may be an empty list)")
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	a := &iam.Application{ID: uuid.NewString(), ClientID: newClientID(), LoginWithEmailEnabled: true, AllowedCORSOriginsURLs: []string{},
		AllowedLogoutURLs: []string{}, AllowedWebOriginsURLs: []string{}}
	in.apply(a)
	if err := sc.tenant.Applications().Insert(ctx, a); err != nil {
		return nil, err
	}
	s.origins.invalidate()
	op.target(a.ID)
	return a, nil
}

// UpdateApplication changes the present fields of an application.
func (s *Service) UpdateApplication(ctx context.Context, id string, in ApplicationInput) (_ *iam.Application, err error) {
	sc, op, err := s.begin(ctx, ucUpdateApplication, id)
	defer op.end(&err)
	if err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	a, err := sc.tenant.Applications().Update(ctx, id, 0, func(a *iam.Application) error {
		in.apply(a)
		return nil
	})
	s.origins.invalidate()
	return a, asNotFound(err, "application", id, "input.id")
}

// DeleteApplication deletes an application. Its users stay; they can no
// longer sign in through it.
func (s *Service) DeleteApplication(ctx context.Context, id string) (err error) {
	sc, op, err := s.begin(ctx, ucDeleteApplication, id)
	defer op.end(&err)
	if err != nil {
		return err
	}
	err = sc.tenant.Applications().Delete(ctx, id)
	s.origins.invalidate()
	return asNotFound(err, "application", id, "input.id")
}

// RotateApplicationSecret gives an application a new client secret and
// returns it; only its hash is stored, and the old secret stops working.
func (s *Service) RotateApplicationSecret(ctx context.Context, id string) (_ string, err error) {
	sc, op, err := s.begin(ctx, ucRotateApplicationSecret, id)
	defer op.end(&err)
	if err != nil {
		return "", err
	}
	secret := auth.NewSecret()
	_, err = sc.tenant.Applications().Update(ctx, id, 0, func(a *iam.Application) error {
		a.SecretHash = auth.HashSecret(secret)
		return nil
	})
	return secret, asNotFound(err, "application", id, "input.id")
}

// ErrInvalidApplicationClient is VerifyApplicationSecret's answer for an
// unknown client, one without a secret (a public client) or a wrong secret,
// indistinguishably.
var ErrInvalidApplicationClient = iam.Errorf(iam.Unauthenticated, "unknown client or wrong secret")

// VerifyApplicationSecret checks the client secret of a project's
// application, found by its OAuth client id (client_secret_basic or
// client_secret_post at the project's token endpoint).
func (s *Service) VerifyApplicationSecret(ctx context.Context, projectID, clientID, secret string) (err error) {
	_, op, err := s.begin(ctx, ucVerifyApplicationSecret, "")
	defer op.end(&err)
	if projectID == "" || clientID == "" {
		return ErrInvalidApplicationClient
	}
	a, err := s.db.Tenant(projectID).ApplicationByClientID(ctx, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return ErrInvalidApplicationClient
	}
	if err != nil {
		return err
	}
	op.inProject(projectID)
	op.target(a.ID)
	if !auth.SecretMatches(secret, a.SecretHash) {
		return ErrInvalidApplicationClient
	}
	return nil
}

func newClientID() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// OriginAllowed reports whether some application allows origin for CORS.
// The set is cached for a few seconds and refreshed at once after this
// process changes an application, so no restart is needed.
func (s *Service) OriginAllowed(ctx context.Context, origin string) bool {
	return s.origins.allowed(ctx, origin)
}

type originCache struct {
	db  *store.DB
	log *slog.Logger

	mu      sync.Mutex
	origins []string
	loaded  time.Time
}

const originCacheTTL = 5 * time.Second

func newOriginCache(db *store.DB, log *slog.Logger) *originCache {
	return &originCache{db: db, log: log}
}

func (c *originCache) invalidate() {
	c.mu.Lock()
	c.loaded = time.Time{}
	c.mu.Unlock()
}

func (c *originCache) allowed(ctx context.Context, origin string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.loaded) > originCacheTTL {
		origins, err := c.db.ApplicationOrigins(ctx)
		if err != nil {
			c.log.WarnContext(ctx, "loading application CORS origins", "error", err.Error())
		} else {
			c.origins, c.loaded = origins, time.Now()
		}
	}
	return slices.Contains(c.origins, origin)
}
