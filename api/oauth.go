package api

import (
	"encoding/json"
	"log/slog"
	"mime"
	"net/http"
	"time"

	"atrium/iam"
	"atrium/service"
)

// tokenEndpoint is the OAuth 2.0 token endpoint for machine clients: the
// client-credentials grant (RFC 6749 §4.4). Client credentials may come in
// the body (form-encoded or JSON) or as HTTP Basic authentication (§2.3.1);
// errors are the JSON of §5.2.
func tokenEndpoint(svc *service.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Pragma", "no-cache")
		req, err := tokenRequest(r)
		if err != nil {
			oauthError(w, http.StatusBadRequest, "invalid_request", err.Error())
			return
		}
		if req.GrantType == "" {
			oauthError(w, http.StatusBadRequest, "invalid_request", "grant_type is required")
			return
		}
		if req.GrantType != "client_credentials" {
			oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "only the client_credentials grant is supported")
			return
		}
		if req.ClientID == "" || req.ClientSecret == "" {
			oauthError(w, http.StatusUnauthorized, "invalid_client", "client_id and client_secret are required")
			return
		}
		token, expiresIn, err := svc.ClientCredentials(r.Context(), req.ClientID, req.ClientSecret)
		if err != nil {
			e, internal := iam.Public(err)
			if internal || e.Code == iam.Unavailable {
				log.ErrorContext(r.Context(), "issuing a machine token", "error", err.Error())
			}
			if e.Code == iam.Unauthenticated && req.basic {
				w.Header().Set("WWW-Authenticate", `Basic realm="atrium"`)
			}
			for k, v := range e.HTTPHeaders() {
				w.Header()[k] = v
			}
			oauthError(w, e.Code.HTTPStatus(), oauthCode(e.Code), e.Message)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"access_token": token,
			"token_type":   "Bearer",
			"expires_in":   int(expiresIn / time.Second),
		})
	})
}

// oauthCode is the RFC 6749 §5.2 error code that stands for a domain code.
func oauthCode(c iam.Code) string {
	switch c {
	case iam.Unauthenticated:
		return "invalid_client"
	case iam.BadUserInput:
		return "invalid_request"
	case iam.Unavailable:
		return "temporarily_unavailable"
	}
	return "server_error"
}

type tokenReq struct {
	GrantType    string `json:"grant_type"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	basic        bool
}

// tokenRequest reads the grant from a form-encoded or JSON body; HTTP Basic
// credentials take the place of client_id and client_secret.
func tokenRequest(r *http.Request) (tokenReq, error) {
	var req tokenReq
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			return req, errBody
		}
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return req, errBody
		}
		req.GrantType, req.ClientID, req.ClientSecret = r.PostForm.Get("grant_type"), r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	default:
		return req, errContentType
	}
	if id, secret, ok := r.BasicAuth(); ok {
		req.ClientID, req.ClientSecret, req.basic = id, secret, true
	}
	return req, nil
}

var (
	errBody        = &oauthErr{"the request body is malformed"}
	errContentType = &oauthErr{"send application/x-www-form-urlencoded or application/json"}
)

type oauthErr struct{ msg string }

func (e *oauthErr) Error() string { return e.msg }

func oauthError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
