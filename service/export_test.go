package service

import "context"

// SSOSignIn lets the tests give ssoSignIn verified upstream claims, as the
// relying-party leg does after its checks.
func SSOSignIn(s *Service, ctx context.Context, connectionID, applicationID string, claims map[string]any) (*LoginStep, error) {
	return s.ssoSignIn(ctx, &op{s: s, ctx: ctx, uc: &UseCase{Name: "ssoSignIn"}}, connectionID, applicationID, claims)
}
