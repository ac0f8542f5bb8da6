package api

import (
	"net/http"

	"atrium/auth"
	"atrium/requestlog"
)

// noteCaller notes for the access log the project a request acts in and
// its principal's kind and id, as the authentication middleware found them:
// the project a token is bound to, else the one the project header names.
// A request without a valid credential is ANONYMOUS.
func noteCaller(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := auth.FromContext(r.Context())
		project, kind, id := req.ProjectID, "ANONYMOUS", ""
		if p := req.Principal; p != nil {
			kind, id = string(p.Kind), p.ID
			if p.ProjectID != "" {
				project = p.ProjectID
			}
		}
		requestlog.From(r.Context()).SetCaller(project, kind, id)
		next.ServeHTTP(w, r)
	})
}
