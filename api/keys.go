package api

import (
	"log/slog"
	"net/http"

	"github.com/go-jose/go-jose/v4"

	"atrium/iam"
	"atrium/service"
)

// jwksMaxAge is how long a verifier may cache a JWKS. It is shorter than
// the shortest lead with which a next key is published before it signs
// (auth.KeyOptions.Lead: at least 6 minutes, as ATRIUM_KEY_ROTATION is at
// least an hour), less the key ring's own cache, so a verifier that obeys
// it knows a key before the first token signed with it.
const jwksMaxAge = "public, max-age=300"

// jwks serves a token issuer's JSON Web Key Set (RFC 7517): the project
// issuer's at /p/{projectId}/keys, the platform issuer's at
// /.well-known/jwks.json. An unknown project is a JSON 404.
func jwks(log *slog.Logger, keys func(*http.Request) (*jose.JSONWebKeySet, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		set, err := keys(r)
		if err != nil {
			e, internal := iam.Public(err)
			if internal || e.Code == iam.Unavailable {
				log.ErrorContext(r.Context(), "publishing signing keys", "error", err.Error())
			}
			w.Header().Set("Cache-Control", "no-store")
			writeJSON(w, e.Code.HTTPStatus(), map[string]any{"message": e.Message, "code": e.Code})
			return
		}
		w.Header().Set("Cache-Control", jwksMaxAge)
		writeJSON(w, http.StatusOK, set)
	})
}

func projectKeys(svc *service.Service) func(*http.Request) (*jose.JSONWebKeySet, error) {
	return func(r *http.Request) (*jose.JSONWebKeySet, error) {
		return svc.ProjectKeys(r.Context(), r.PathValue("projectId"))
	}
}

func platformKeys(svc *service.Service) func(*http.Request) (*jose.JSONWebKeySet, error) {
	return func(r *http.Request) (*jose.JSONWebKeySet, error) { return svc.PlatformKeys(r.Context()) }
}
