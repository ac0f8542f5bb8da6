package service

import (
	"context"

	"github.com/go-jose/go-jose/v4"
)

// ProjectKeys returns the JSON Web Key Set of a project's token issuer:
// the public halves of the keys that sign its users' and machine clients'
// tokens. An unknown project is NOT_FOUND.
func (s *Service) ProjectKeys(ctx context.Context, projectID string) (_ *jose.JSONWebKeySet, err error) {
	_, op, err := s.begin(ctx, ucProjectKeys, "")
	defer op.end(&err)
	if projectID == "" {
		return nil, projectNotFound(projectID)
	}
	if _, err := s.db.Tenant(projectID).Project(ctx); err != nil {
		if ignoreNotFound(err) == nil {
			return nil, projectNotFound(projectID)
		}
		return nil, err
	}
	return s.publishedKeys(ctx, projectID)
}

// PlatformKeys returns the JSON Web Key Set of the platform issuer, whose
// keys sign developers' tokens.
func (s *Service) PlatformKeys(ctx context.Context) (_ *jose.JSONWebKeySet, err error) {
	_, op, err := s.begin(ctx, ucPlatformKeys, "")
	defer op.end(&err)
	return s.publishedKeys(ctx, "")
}

func (s *Service) publishedKeys(ctx context.Context, projectID string) (*jose.JSONWebKeySet, error) {
	keys, err := s.tokens.Keys().Published(ctx, projectID)
	if err != nil {
		return nil, err
	}
	return &jose.JSONWebKeySet{Keys: keys}, nil
}
