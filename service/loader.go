package service

import (
	"context"
	"errors"
	"time"

	"github.com/vikstrous/dataloadgen"

	"atrium/iam"
)

// roleKey names a role of a project.
type roleKey struct{ project, id string }

type loadersKey struct{}

// WithLoaders returns ctx carrying fresh per-request batch loaders: every
// role looked up while resolving one request is fetched in one store round
// trip per project, whatever the number of users on the page.
func (s *Service) WithLoaders(ctx context.Context) context.Context {
	l := dataloadgen.NewMappedLoader(s.fetchRoles, dataloadgen.WithWait(2*time.Millisecond))
	return context.WithValue(ctx, loadersKey{}, l)
}

func (s *Service) fetchRoles(ctx context.Context, keys []roleKey) (map[roleKey]iam.Role, error) {
	byProject := map[string][]string{}
	for _, k := range keys {
		byProject[k.project] = append(byProject[k.project], k.id)
	}
	out := make(map[roleKey]iam.Role, len(keys))
	for project, ids := range byProject {
		roles, err := s.db.Tenant(project).RolesByID(ctx, ids)
		if err != nil {
			return nil, err
		}
		for _, r := range roles {
			out[roleKey{project, r.ID}] = r
		}
	}
	return out, nil
}

func loaderOf(ctx context.Context) *dataloadgen.Loader[roleKey, iam.Role] {
	l, _ := ctx.Value(loadersKey{}).(*dataloadgen.Loader[roleKey, iam.Role])
	return l
}

// loadRoles returns the roles with the ids in project, skipping ids whose
// role no longer exists, batched when the context carries loaders.
func loadRoles(ctx context.Context, s *Service, project string, ids []string) ([]iam.Role, error) {
	l := loaderOf(ctx)
	if l == nil {
		roles, err := s.db.Tenant(project).RolesByID(ctx, ids)
		return roles, domainError(err)
	}
	out := make([]iam.Role, 0, len(ids))
	for _, id := range ids {
		r, err := l.Load(ctx, roleKey{project, id})
		if errors.Is(err, dataloadgen.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, domainError(err)
		}
		out = append(out, r)
	}
	return out, nil
}
