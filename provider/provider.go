// Package provider makes Atrium each project's OpenID Connect provider, at
// the issuer <ATRIUM_PUBLIC_URL>/p/<projectId>: discovery, JWKS, authorize
// (and its callback from the login page), token, userinfo, revocation,
// introspection and end_session, served by github.com/zitadel/oidc/v3's
// pkg/op, and the hosted login page (login.go). It is a transport: its
// storage (storage.go) translates the library's calls into the service's
// use cases (service/oidc.go), which hold the rules, the audit and the
// store; the library holds the protocol.
//
// In front of the library: an unknown or deleted project answers 404 on
// every path, the project goes into the context (each call of the storage
// acts in it and finds nothing of another project), and CORS follows the
// project's applications (allowedCORSOriginsUrls, allowedWebOriginsUrls),
// never the library's allow-all default.
package provider

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"github.com/rs/cors"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"atrium/auth"
	"atrium/iam"
	"atrium/service"
)

// Pattern is the ServeMux pattern the provider is mounted at.
const Pattern = "/p/{projectId}/"

// Paths under the issuer that the provider serves beside the library's.
const (
	loginPath     = "/login"
	loggedOutPath = "/logged-out"
	callbackPath  = "/authorize/callback"
	// endSessionPath is the library's (op.DefaultEndpoints).
	endSessionPath = "/end_session"
)

// Options configure the provider.
type Options struct {
	Service *service.Service
	// Keys sign the project's tokens and publish their public halves.
	Keys *auth.Keys
	// PublicURL is ATRIUM_PUBLIC_URL: the base of every issuer, and the
	// API audience of the access tokens.
	PublicURL string
	Log       *slog.Logger
}

// New returns the provider's handler, to mount at Pattern. The API's
// CORS policy must not wrap it: it applies the project's own.
func New(o Options) http.Handler {
	base := strings.TrimRight(o.PublicURL, "/")
	st := &storage{svc: o.Service, keys: o.Keys, base: base, log: o.Log}
	cfg := &op.Config{
		CodeMethodS256:        true,
		AuthMethodPost:        true,
		GrantTypeRefreshToken: true,
		SupportedScopes:       service.OpenIDScopes,
		SupportedClaims:       append(append([]string{}, op.DefaultSupportedClaims...), "fhirUser", "pid", "kind"),
		SupportedUILocales:    []language.Tag{language.English},
	}
	// The key encrypts nothing Atrium keeps: codes are stored as hashes and
	// access tokens are signed JWTs. It only has to be unguessable.
	_, _ = rand.Read(cfg.CryptoKey[:]) // never fails (crypto/rand)
	issuerOf := func(bool) (op.IssuerFromRequest, error) {
		return func(r *http.Request) string { return issuer(base, projectOf(r.Context())) }, nil
	}
	p, err := op.NewProvider(cfg, st, issuerOf, op.WithCORSOptions(corsOptions(o.Service)))
	if err != nil {
		panic("provider: " + err.Error()) // only the options above can fail it
	}
	h := &handler{svc: o.Service, op: p, base: base, log: o.Log, secure: strings.HasPrefix(base, "https://")}
	h.pages = http.NewCrossOriginProtection().Handler(http.HandlerFunc(h.page))
	return h
}

// issuer is a project's issuer.
func issuer(base, projectID string) string { return base + "/p/" + projectID }

// corsOptions let the origins of the project's applications call its
// endpoints from a browser (the token, userinfo and revocation endpoints
// of an SPA), without credentials.
func corsOptions(svc *service.Service) *cors.Options {
	return &cors.Options{
		AllowOriginRequestFunc: func(r *http.Request, origin string) bool {
			return origin != "" && svc.ProjectOriginAllowed(r.Context(), projectOf(r.Context()), origin)
		},
		AllowedMethods: []string{http.MethodGet, http.MethodHead, http.MethodPost},
		AllowedHeaders: []string{"Accept", "Accept-Language", "Authorization", "Content-Type", "X-Requested-With"},
		ExposedHeaders: []string{"Location", "Content-Length"},
		MaxAge:         600,
	}
}

type handler struct {
	svc    *service.Service
	op     *op.Provider
	pages  http.Handler // the login and logged-out pages, behind CSRF protection
	base   string
	log    *slog.Logger
	secure bool // the session cookie is Secure (the public URL is https)
}

// ServeHTTP answers 404 for a project that does not exist, puts the
// project in the context and hands the request to the login page or the
// library.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	pid := r.PathValue("projectId")
	if _, err := h.svc.OpenIDProvider(r.Context(), pid); err != nil {
		e, internal := iam.Public(err)
		if internal || e.Code == iam.Unavailable {
			h.log.ErrorContext(r.Context(), "OpenID provider", "error", err.Error())
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(e.Code.HTTPStatus())
		_ = json.NewEncoder(w).Encode(map[string]any{"error": "not_found", "error_description": e.Message, "code": e.Code})
		return
	}
	prefix := "/p/" + pid
	rest := strings.TrimPrefix(r.URL.Path, prefix)
	rq := request{project: pid}
	if c, err := r.Cookie(sessionCookie); err == nil {
		rq.sessionCookie = c.Value
	}
	if rest == endSessionPath {
		rq.postLogoutRedirect = r.FormValue("post_logout_redirect_uri")
	}
	r = r.WithContext(context.WithValue(r.Context(), requestKey{}, rq))
	if rest == service.SSOCallbackPath || strings.HasPrefix(rest, ssoPath) {
		h.sso(w, r, pid, rest) // sso.go
		return
	}
	switch rest {
	case loginPath, loggedOutPath:
		h.pages.ServeHTTP(w, r)
		return
	case callbackPath:
		if !h.sameBrowser(w, r) {
			return
		}
	}
	http.StripPrefix(prefix, h.op).ServeHTTP(w, r)
}

// request is what the storage needs of the HTTP request it serves.
type request struct {
	project            string
	sessionCookie      string
	postLogoutRedirect string
}

type requestKey struct{}

func requestOf(ctx context.Context) request {
	r, _ := ctx.Value(requestKey{}).(request)
	return r
}

// projectOf is the project the request reached.
func projectOf(ctx context.Context) string { return requestOf(ctx).project }
