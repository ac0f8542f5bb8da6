package service

import (
	"context"
	"sync"

	"atrium/iam"
)

// The roles a request reads. A request that carries role sets (WithLoaders)
// reads the roles of a project once, all of them in one store round trip,
// the first time it needs any: the guard's policy of a user, machine client
// or developer, and every roles{...} of a page, whatever its size, come
// from that one read, and a request that resolves no roles reads none. A
// project's roles are few next to its users (the roles query lists them all
// in one page too).

type loadersKey struct{}

// roleSets are the roles of each project one request has read.
type roleSets struct {
	mu   sync.Mutex
	sets map[string]*roleSet
}

// roleSet is the roles of one project, read once.
type roleSet struct {
	once  sync.Once
	roles map[string]iam.Role
	err   error
}

// WithLoaders returns ctx carrying the request's role sets.
func (s *Service) WithLoaders(ctx context.Context) context.Context {
	return context.WithValue(ctx, loadersKey{}, &roleSets{sets: map[string]*roleSet{}})
}

// rolesByID returns the roles of project with the given ids, in the order
// of ids, skipping ids whose role no longer exists.
func (s *Service) rolesByID(ctx context.Context, project string, ids []string) ([]iam.Role, error) {
	sets, _ := ctx.Value(loadersKey{}).(*roleSets)
	if sets == nil || len(ids) == 0 {
		found, err := s.db.Tenant(project).RolesByID(ctx, ids)
		if err != nil {
			return nil, err
		}
		byID := make(map[string]iam.Role, len(found))
		for _, r := range found {
			byID[r.ID] = r
		}
		return inOrder(byID, ids), nil
	}
	sets.mu.Lock()
	set := sets.sets[project]
	if set == nil {
		set = &roleSet{}
		sets.sets[project] = set
	}
	sets.mu.Unlock()
	set.once.Do(func() {
		all, err := s.db.Tenant(project).ListRoles(ctx)
		set.roles, set.err = make(map[string]iam.Role, len(all)), err
		for _, r := range all {
			set.roles[r.ID] = r
		}
	})
	if set.err != nil {
		return nil, set.err
	}
	return inOrder(set.roles, ids), nil
}

// inOrder picks the roles with the ids from byID, in the order of ids.
func inOrder(byID map[string]iam.Role, ids []string) []iam.Role {
	out := make([]iam.Role, 0, len(ids))
	for _, id := range ids {
		if r, ok := byID[id]; ok {
			out = append(out, r)
		}
	}
	return out
}

// forgetRoles drops the request's roles of project after the request
// changed one of them, so that what it resolves next sees the change.
func forgetRoles(ctx context.Context, project string) {
	if sets, _ := ctx.Value(loadersKey{}).(*roleSets); sets != nil {
		sets.mu.Lock()
		delete(sets.sets, project)
		sets.mu.Unlock()
	}
}

// loadRoles returns the roles with the ids in project, skipping ids whose
// role no longer exists.
func loadRoles(ctx context.Context, s *Service, project string, ids []string) ([]iam.Role, error) {
	roles, err := s.rolesByID(ctx, project, ids)
	return roles, domainError(err)
}
