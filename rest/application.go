package rest

// /application: the applications users sign in to.

import (
	"context"
	"net/http"

	"atrium/iam"
	"atrium/service"
)

// applicationJSON is the SDK's Application (the fields Atrium has).
type applicationJSON struct {
	ID                     string   `json:"id"`
	Name                   string   `json:"name"`
	ClientID               string   `json:"clientId"`
	Description            string   `json:"description,omitempty"`
	LoginRedirectURI       string   `json:"loginRedirectUri,omitempty"`
	LoginWithEmailEnabled  bool     `json:"loginWithEmailEnabled"`
	AllowedCallbackURLs    []string `json:"allowedCallbackUrls"`
	AllowedCORSOriginsURLs []string `json:"allowedCORSOriginsUrls"`
	ShouldSendInviteEmail  bool     `json:"shouldSendInviteEmail"`
	AllowedLogoutURLs      []string `json:"allowedLogoutUrls"`
	AllowedWebOriginsURLs  []string `json:"allowedWebOriginsUrls"`
	LogoURI                string   `json:"logoUri,omitempty"`
	RefreshTokenEnabled    bool     `json:"refreshTokenEnabled"`
	MFAEnabled             bool     `json:"mfaEnabled"`
	PasswordlessSMS        bool     `json:"passwordlessSMS"`
}

func toApplication(a *iam.Application) applicationJSON {
	return applicationJSON{ID: a.ID, Name: a.Name, ClientID: a.ClientID, Description: a.Description,
		LoginRedirectURI: a.LoginRedirectURI, LoginWithEmailEnabled: a.LoginWithEmailEnabled,
		AllowedCallbackURLs: nonNil(a.AllowedCallbackURLs), AllowedCORSOriginsURLs: nonNil(a.AllowedCORSOriginsURLs),
		ShouldSendInviteEmail: a.ShouldSendInviteEmail, AllowedLogoutURLs: nonNil(a.AllowedLogoutURLs),
		AllowedWebOriginsURLs: nonNil(a.AllowedWebOriginsURLs), LogoURI: a.LogoURI, RefreshTokenEnabled: a.RefreshTokenEnabled,
		MFAEnabled: a.MFAEnabled, PasswordlessSMS: a.PasswordlessSMS}
}

// applicationListItem is the SDK's ApplicationListItem.
type applicationListItem struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	ClientID    string `json:"clientId"`
	Description string `json:"description,omitempty"`
}

// applicationInput is the SDK's ApplicationCreateParams and
// ApplicationUpdateParams, as far as Atrium has the fields.
type applicationInput struct {
	Name                   *string  `json:"name"`
	Description            *string  `json:"description"`
	LoginRedirectURI       *string  `json:"loginRedirectUri"`
	LoginWithEmailEnabled  *bool    `json:"loginWithEmailEnabled"`
	AllowedCallbackURLs    []string `json:"allowedCallbackUrls"`
	AllowedCORSOriginsURLs []string `json:"allowedCORSOriginsUrls"`
	ShouldSendInviteEmail  *bool    `json:"shouldSendInviteEmail"`
	AllowedLogoutURLs      []string `json:"allowedLogoutUrls"`
	AllowedWebOriginsURLs  []string `json:"allowedWebOriginsUrls"`
	LogoURI                *string  `json:"logoUri"`
	RefreshTokenEnabled    *bool    `json:"refreshTokenEnabled"`
	MFAEnabled             *bool    `json:"mfaEnabled"`
	PasswordlessSMS        *bool    `json:"passwordlessSMS"`
}

func (in applicationInput) service() service.ApplicationInput {
	return service.ApplicationInput{Name: in.Name, Description: in.Description, LoginRedirectURI: in.LoginRedirectURI,
		LoginWithEmailEnabled: in.LoginWithEmailEnabled, AllowedCallbackURLs: in.AllowedCallbackURLs,
		AllowedCORSOriginsURLs: in.AllowedCORSOriginsURLs, ShouldSendInviteEmail: in.ShouldSendInviteEmail,
		AllowedLogoutURLs: in.AllowedLogoutURLs, AllowedWebOriginsURLs: in.AllowedWebOriginsURLs, LogoURI: in.LogoURI,
		RefreshTokenEnabled: in.RefreshTokenEnabled, MFAEnabled: in.MFAEnabled, PasswordlessSMS: in.PasswordlessSMS}
}

// tokenInput is the body of the revoke endpoints.
type tokenInput struct {
	Token *string `json:"token"`
}

func applicationRoutes() []route {
	return []route{
		{method: http.MethodGet, path: "/application", useCase: "applications", status: http.StatusOK, answer: []applicationListItem{},
			summary: "The project's applications",
			handle: func(ctx context.Context, s *service.Service, _ *request) (any, error) {
				apps, err := s.Applications(ctx)
				if err != nil {
					return nil, err
				}
				out := make([]applicationListItem, len(apps))
				for i, a := range apps {
					out[i] = applicationListItem{ID: a.ID, Name: a.Name, ClientID: a.ClientID, Description: a.Description}
				}
				return out, nil
			}},
		{method: http.MethodPost, path: "/application", useCase: "createApplication", status: http.StatusOK, answer: applicationJSON{}, body: applicationInput{},
			summary: "Create an application (name and allowedCallbackUrls are required)",
			handle: withBody(func(ctx context.Context, s *service.Service, q *request, in *applicationInput) (any, error) {
				return answer(toApplication)(s.CreateApplication(ctx, in.service()))
			})},
		{method: http.MethodGet, path: "/application/{id}", useCase: "application", status: http.StatusOK, answer: applicationJSON{},
			summary: "One application",
			handle: func(ctx context.Context, s *service.Service, q *request) (any, error) {
				return answer(toApplication)(s.Application(ctx, q.path("id")))
			}},
		{method: http.MethodPatch, path: "/application/{id}", useCase: "updateApplication", status: http.StatusOK, answer: applicationJSON{}, body: applicationInput{},
			summary: "Change an application",
			handle: withBody(func(ctx context.Context, s *service.Service, q *request, in *applicationInput) (any, error) {
				return answer(toApplication)(s.UpdateApplication(ctx, q.path("id"), in.service()))
			})},
		deletion("/application/{id}", "deleteApplication", "Delete an application (its users stay)", (*service.Service).DeleteApplication),
		secretRotation("/application/{id}/rotate-secret", "rotateApplicationSecret",
			"A new client secret, shown once, that makes the application a confidential OpenID Connect client; the old one stops working",
			(*service.Service).RotateApplicationSecret),
		revocation("/application/{id}/revoke-refresh-token", "revokeRefreshToken", "Revoke a refresh token (its whole family)", (*service.Service).RevokeRefreshToken),
		revocation("/application/{id}/revoke-access-token", "revokeAccessToken", "Revoke an access token (with the other tokens of its login)", (*service.Service).RevokeAccessToken),
	}
}

// messageJSON is the SDK's answer of the revoke endpoints.
type messageJSON struct {
	Message string `json:"message"`
}

// revocation is a revoke endpoint: {token} in, {message} out.
func revocation(path, useCase, summary string, revoke func(*service.Service, context.Context, string, string) error) route {
	return route{method: http.MethodPost, path: path, useCase: useCase, status: http.StatusOK, answer: messageJSON{}, body: tokenInput{}, summary: summary,
		handle: withBody(func(ctx context.Context, s *service.Service, q *request, in *tokenInput) (any, error) {
			var token string
			if in.Token != nil {
				token = *in.Token
			}
			if err := revoke(s, ctx, q.path("id"), token); err != nil {
				return nil, err
			}
			return messageJSON{Message: service.TokenRevoked}, nil
		})}
}

// nonNil keeps a list present in JSON even when empty.
func nonNil(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}
