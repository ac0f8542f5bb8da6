package service

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/vikstrous/dataloadgen"

	"atrium/iam"
)

// The per-request loaders. Roles: a request that carries loaders
// (WithLoaders) reads the roles of a project once, all of them in one store
// round trip, the first time it needs any: the guard's policy of a user,
// machine client or developer, and every roles{...} of a page, whatever its
// size, come from that one read, and a request that resolves no roles reads
// none. A project's roles are few next to its users (the roles query lists
// them all in one page too). Profiles: every profile looked up while
// resolving one request is fetched in one store round trip per project,
// whatever the number of principals on the page.

type loadersKey struct{}

// profileKey names a profile of a project: its resource type and id.
type profileKey struct{ project, resourceType, id string }

// loaders are the loaders of one request.
type loaders struct {
	roles    roleSets
	profiles *dataloadgen.Loader[profileKey, map[string]any]
	pages    *profilePages
}

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

// WithLoaders returns ctx carrying fresh per-request loaders.
func (s *Service) WithLoaders(ctx context.Context) context.Context {
	pages := &profilePages{fetched: map[profileKey]map[string]any{}}
	return context.WithValue(ctx, loadersKey{}, &loaders{
		roles: roleSets{sets: map[string]*roleSet{}},
		profiles: dataloadgen.NewMappedLoader(func(ctx context.Context, keys []profileKey) (map[profileKey]map[string]any, error) {
			return s.fetchProfiles(ctx, pages, keys)
		}, dataloadgen.WithWait(2*time.Millisecond)),
		pages: pages,
	})
}

func loadersOf(ctx context.Context) *loaders {
	l, _ := ctx.Value(loadersKey{}).(*loaders)
	return l
}

// rolesByID returns the roles of project with the given ids, in the order
// of ids, skipping ids whose role no longer exists.
func (s *Service) rolesByID(ctx context.Context, project string, ids []string) ([]iam.Role, error) {
	l := loadersOf(ctx)
	if l == nil || len(ids) == 0 {
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
	sets := &l.roles
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
	if l := loadersOf(ctx); l != nil {
		l.roles.mu.Lock()
		delete(l.roles.sets, project)
		l.roles.mu.Unlock()
	}
}

// loadRoles returns the roles with the ids in project, skipping ids whose
// role no longer exists.
func loadRoles(ctx context.Context, s *Service, project string, ids []string) ([]iam.Role, error) {
	roles, err := s.rolesByID(ctx, project, ids)
	return roles, domainError(err)
}

// profilePages makes the profiles of a whole page cost one round trip
// however the resolvers that ask for them are scheduled: a listing notes
// the profiles of its page, the first fetch reads them all, and a later
// batch of the same request (a resolver that missed the loader's window)
// finds its profiles already read. Fetches of one request run one at a
// time.
type profilePages struct {
	mu      sync.Mutex
	noted   []profileKey
	fetched map[profileKey]map[string]any // nil value: no such profile
}

// noteProfiles tells the request's loader which profiles a page of items
// holds; ref gives an item's profile reference.
func noteProfiles[T any](ctx context.Context, project string, items []T, ref func(*T) string) {
	l := loadersOf(ctx)
	if l == nil {
		return
	}
	l.pages.mu.Lock()
	defer l.pages.mu.Unlock()
	for i := range items {
		if k, ok := profileKeyOf(project, ref(&items[i])); ok {
			l.pages.noted = append(l.pages.noted, k)
		}
	}
}

func profileKeyOf(project, ref string) (profileKey, bool) {
	m := profileRef.FindStringSubmatch(ref)
	if m == nil {
		return profileKey{}, false
	}
	return profileKey{project, m[1], m[2]}, true
}

func (s *Service) fetchProfiles(ctx context.Context, pages *profilePages, keys []profileKey) (map[profileKey]map[string]any, error) {
	pages.mu.Lock()
	defer pages.mu.Unlock()
	byProject := map[string][]string{}
	for _, k := range append(pages.noted, keys...) {
		if _, done := pages.fetched[k]; !done {
			byProject[k.project] = append(byProject[k.project], k.id)
		}
	}
	pages.noted = nil
	for project, ids := range byProject {
		profiles, err := s.db.Tenant(project).ProfilesByID(ctx, dedupe(ids))
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			for _, rt := range []string{"Patient", "Practitioner", "Device"} {
				pages.fetched[profileKey{project, rt, id}] = nil
			}
		}
		for _, p := range profiles {
			pages.fetched[profileKey{project, p.ResourceType, p.ID}] = p.Resource
		}
	}
	out := make(map[profileKey]map[string]any, len(keys))
	for _, k := range keys {
		if r := pages.fetched[k]; r != nil {
			out[k] = r
		}
	}
	return out, nil
}

// UserProfile resolves the FHIR resource of a user's profile, batched per
// request; nil when there is none.
func (s *Service) UserProfile(ctx context.Context, u *iam.User) (map[string]any, error) {
	return s.profileResource(ctx, u.ProjectID, u.Profile)
}

// DeveloperProfile resolves the FHIR resource of a developer's profile in
// the project of its membership.
func (s *Service) DeveloperProfile(ctx context.Context, m *iam.Membership) (map[string]any, error) {
	return s.profileResource(ctx, m.ProjectID, m.Profile)
}

// M2MClientProfile resolves the FHIR resource of a machine client's profile.
func (s *Service) M2MClientProfile(ctx context.Context, c *iam.M2MClient) (map[string]any, error) {
	return s.profileResource(ctx, c.ProjectID, c.Profile)
}

// profileResource returns the stored FHIR resource a principal of project
// references (e.g. "Practitioner/<id>"), nil when there is none, batched
// per request.
func (s *Service) profileResource(ctx context.Context, project, ref string) (map[string]any, error) {
	k, ok := profileKeyOf(project, ref)
	if !ok {
		return nil, nil
	}
	l := loadersOf(ctx)
	if l == nil {
		profiles, err := s.db.Tenant(project).ProfilesByID(ctx, []string{k.id})
		if err != nil || len(profiles) == 0 || profiles[0].ResourceType != k.resourceType {
			return nil, domainError(err)
		}
		return profiles[0].Resource, nil
	}
	r, err := l.profiles.Load(ctx, k)
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return nil, nil
	}
	return r, domainError(err)
}
