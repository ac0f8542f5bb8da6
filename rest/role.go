package rest

// /iam/role: the project's roles.

import (
	"context"
	"net/http"

	"atrium/access"
	"atrium/iam"
	"atrium/service"
)

// roleStub is the SDK's RoleStub, how other entities name their roles.
type roleStub struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// stubs names roles.
func stubs(roles []iam.Role, err error) ([]roleStub, error) {
	if err != nil {
		return nil, err
	}
	out := make([]roleStub, len(roles))
	for i, r := range roles {
		out[i] = roleStub{ID: r.ID, Name: r.Name}
	}
	return out, nil
}

// roleJSON is the SDK's Role.
type roleJSON struct {
	ID           string        `json:"id"`
	Name         string        `json:"name"`
	Description  string        `json:"description,omitempty"`
	AccessPolicy access.Policy `json:"accessPolicy"`
}

func toRole(r *iam.Role) roleJSON {
	return roleJSON{ID: r.ID, Name: r.Name, Description: r.Description, AccessPolicy: r.AccessPolicy}
}

// roleListItem is the SDK's RoleListItem.
type roleListItem struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	MemberCount int64  `json:"memberCount"`
}

// roleInput is the SDK's RoleCreateParams and RoleUpdateParams.
type roleInput struct {
	Name         *string        `json:"name"`
	Description  *string        `json:"description"`
	AccessPolicy *access.Policy `json:"accessPolicy"`
}

func roleRoutes() []route {
	return []route{
		{method: http.MethodGet, path: "/iam/role", useCase: "roles", status: http.StatusOK, answer: []roleListItem{},
			summary: "The project's roles and how many principals hold each",
			handle: func(ctx context.Context, s *service.Service, _ *request) (any, error) {
				roles, err := s.Roles(ctx)
				if err != nil {
					return nil, err
				}
				out := make([]roleListItem, len(roles))
				for i := range roles {
					n, err := s.MemberCount(ctx, &roles[i])
					if err != nil {
						return nil, err
					}
					out[i] = roleListItem{ID: roles[i].ID, Name: roles[i].Name, MemberCount: n}
				}
				return out, nil
			}},
		{method: http.MethodPost, path: "/iam/role", useCase: "createRole", status: http.StatusOK, answer: roleJSON{}, body: roleInput{},
			summary: "Create a role",
			handle: withBody(func(ctx context.Context, s *service.Service, q *request, in *roleInput) (any, error) {
				return answer(toRole)(s.CreateRole(ctx, service.NewRole{Name: deref(in.Name), Description: deref(in.Description), AccessPolicy: in.AccessPolicy}))
			})},
		{method: http.MethodGet, path: "/iam/role/{roleId}", useCase: "role", status: http.StatusOK, answer: roleJSON{},
			summary: "One role",
			handle: func(ctx context.Context, s *service.Service, q *request) (any, error) {
				return answer(toRole)(s.Role(ctx, q.path("roleId")))
			}},
		{method: http.MethodPatch, path: "/iam/role/{roleId}", useCase: "updateRole", status: http.StatusOK, answer: roleJSON{}, body: roleInput{},
			summary: "Change a role",
			handle: withBody(func(ctx context.Context, s *service.Service, q *request, in *roleInput) (any, error) {
				return answer(toRole)(s.UpdateRole(ctx, q.path("roleId"), service.RoleChanges{Name: in.Name, Description: in.Description, AccessPolicy: in.AccessPolicy}))
			})},
		deletion("/iam/role/{roleId}", "deleteRole", "Delete a role no one holds and no project default names", (*service.Service).DeleteRole),
	}
}

// deref is the value of an optional body field, or its zero value.
func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
