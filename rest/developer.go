package rest

// /developer: the developers of the project in scope.

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"atrium/access"
	"atrium/iam"
	"atrium/service"
)

// developerJSON is the SDK's Developer; id is the developer's own id (the
// same in every project it belongs to).
type developerJSON struct {
	ID      string     `json:"id"`
	Email   string     `json:"email"`
	Name    string     `json:"name"`
	Profile string     `json:"profile"`
	Roles   []roleStub `json:"roles"`
}

func toDeveloper(ctx context.Context, s *service.Service, m *iam.Membership) (*developerJSON, error) {
	roles, err := stubs(s.DeveloperRoles(ctx, m))
	if err != nil {
		return nil, err
	}
	return &developerJSON{ID: m.DeveloperID, Email: m.Email, Name: m.Name, Profile: m.Profile, Roles: roles}, nil
}

// developerInvited is the SDK's DeveloperInviteResponse, plus the link where
// a developer new to Atrium sets its password.
type developerInvited struct {
	ID             string     `json:"id"`
	Email          string     `json:"email"`
	PractitionerID string     `json:"practitionerId"`
	Roles          []roleStub `json:"roles"`
	InvitationURL  string     `json:"invitationUrl,omitempty"`
}

// developerListItem is the SDK's DeveloperListItem (v1).
type developerListItem struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func toDeveloperListItem(m *iam.Membership) developerListItem {
	return developerListItem{ID: m.DeveloperID, Name: m.Name}
}

// developerListV2Item is an item of the SDK's DeveloperListV2Response.
type developerListV2Item struct {
	ID      string `json:"id"`
	Email   string `json:"email"`
	Name    string `json:"name"`
	Profile string `json:"profile"`
}

// developerInviteInput is the SDK's DeveloperInviteParams.
type developerInviteInput struct {
	Email        string         `json:"email"`
	Practitioner map[string]any `json:"practitioner"`
	Roles        []string       `json:"roles"`
	AccessPolicy *access.Policy `json:"accessPolicy"`
}

// developerUpdate is the SDK's DeveloperUpdateParams.
type developerUpdate struct {
	Roles        optional[[]string]      `json:"roles"`
	AccessPolicy optional[access.Policy] `json:"accessPolicy"`
}

var developerFilters = []string{"name", "id", "email", "profile", "roleId"}

func developerRoutes() []route {
	return []route{
		{method: http.MethodGet, path: "/developer", useCase: "developers", status: http.StatusOK, answer: []developerListItem{},
			summary: "Every developer of the project (deprecated: use /developer/v2/list; refused above 1000)",
			handle: func(ctx context.Context, s *service.Service, _ *request) (any, error) {
				return everything("developers", "/developer/v2/list", func(first *int64, after string) ([]iam.Membership, []string, bool, error) {
					p, err := s.Developers(ctx, service.PageArgs{First: first, After: after}, iam.DeveloperFilter{}, iam.UsersByCreatedAt, false)
					if err != nil {
						return nil, nil, false, err
					}
					return p.Developers, p.Cursors, p.HasNextPage, nil
				}, toDeveloperListItem)
			}},
		{method: http.MethodPost, path: "/developer/invite", useCase: "inviteDeveloper", status: http.StatusOK, answer: developerInvited{}, body: developerInviteInput{},
			summary: "Add a developer to the project (roles or accessPolicy required)",
			handle: withBody(func(ctx context.Context, s *service.Service, q *request, in *developerInviteInput) (any, error) {
				inv, err := s.InviteDeveloper(ctx, service.DeveloperInput{Email: in.Email, Roles: in.Roles, AccessPolicy: in.AccessPolicy, Practitioner: in.Practitioner})
				if err != nil {
					return nil, err
				}
				roles, err := stubs(s.DeveloperRoles(ctx, inv.Developer))
				if err != nil {
					return nil, err
				}
				m := inv.Developer
				return developerInvited{ID: m.DeveloperID, Email: m.Email, Roles: roles, InvitationURL: inv.InvitationURL,
					PractitionerID: strings.TrimPrefix(m.Profile, "Practitioner/")}, nil
			})},
		{method: http.MethodGet, path: "/developer/v2/list", useCase: "developers", status: http.StatusOK, answer: listPage[developerListV2Item]{},
			query:   slices.Concat(developerFilters, pageParams),
			summary: "A page of the project's developers, filtered and sorted (by default in the order they joined)",
			handle: func(ctx context.Context, s *service.Service, q *request) (any, error) {
				lq, err := q.listQuery(developerFilters, developerFilters, userSorts, userSorts)
				if err != nil {
					return nil, err
				}
				f := iam.DeveloperFilter{DeveloperID: lq.filter["id"], Name: lq.filter["name"], Email: lq.filter["email"], Profile: lq.filter["profile"], RoleID: lq.filter["roleId"]}
				p, err := s.Developers(ctx, service.PageArgs{First: lq.first, After: lq.after}, f, userOrders[lq.sort], lq.desc)
				if err != nil {
					return nil, pageErr(err)
				}
				return page(p.Developers, p.Cursors, p.HasNextPage, func(m *iam.Membership) developerListV2Item {
					return developerListV2Item{ID: m.DeveloperID, Email: m.Email, Name: m.Name, Profile: m.Profile}
				}), nil
			}},
		{method: http.MethodGet, path: "/developer/{id}", useCase: "developer", status: http.StatusOK, answer: developerJSON{},
			summary: "One developer of the project",
			handle: func(ctx context.Context, s *service.Service, q *request) (any, error) {
				return answerIn(ctx, s, toDeveloper)(s.Developer(ctx, q.path("id")))
			}},
		{method: http.MethodPatch, path: "/developer/{id}", useCase: "updateDeveloper", status: http.StatusOK, answer: developerJSON{}, body: developerUpdate{},
			summary: "Change a developer's roles or inline policy in this project",
			handle: withBody(func(ctx context.Context, s *service.Service, q *request, in *developerUpdate) (any, error) {
				return answerIn(ctx, s, toDeveloper)(s.UpdateDeveloper(ctx, q.path("id"), service.Optional[[]string]{Set: in.Roles.set, Value: in.Roles.v}, nullable(in.AccessPolicy)))
			})},
		deletion("/developer/{id}", "removeDeveloper", "Remove a developer from this project (its account and other projects stay)", (*service.Service).RemoveDeveloper),
	}
}
