package rest

// /m2m: the project's machine clients.

import (
	"context"
	"net/http"
	"slices"

	"atrium/access"
	"atrium/iam"
	"atrium/service"
)

// m2mJSON is the SDK's M2m; the v1 listing leaves out roles.
type m2mJSON struct {
	ID           string         `json:"id"`
	ClientID     string         `json:"clientId"`
	Profile      string         `json:"profile"`
	JWKSURL      string         `json:"jwksUrl,omitempty"`
	Name         string         `json:"name"`
	Description  string         `json:"description,omitempty"`
	AccessPolicy *access.Policy `json:"accessPolicy,omitempty"`
	Roles        []roleStub     `json:"roles,omitempty"`
}

func toM2MListItem(c *iam.M2MClient) m2mJSON {
	return m2mJSON{ID: c.ID, ClientID: c.ClientID, Profile: c.Profile, JWKSURL: c.JWKSURL, Name: c.Name,
		Description: c.Description, AccessPolicy: c.AccessPolicy}
}

func toM2M(ctx context.Context, s *service.Service, c *iam.M2MClient) (*m2mJSON, error) {
	roles, err := stubs(s.M2MClientRoles(ctx, c))
	if err != nil {
		return nil, err
	}
	out := toM2MListItem(c)
	out.Roles = roles
	return &out, nil
}

// m2mListV2Item is the SDK's M2mListV2Item.
type m2mListV2Item struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// m2mInput is the SDK's M2mCreateParams and M2mUpdateParams.
type m2mInput struct {
	Name         *string                 `json:"name"`
	Description  *string                 `json:"description"`
	AccessPolicy optional[access.Policy] `json:"accessPolicy"`
	Roles        optional[[]string]      `json:"roles"`
	JWKSURL      *string                 `json:"jwksUrl"`
	Profile      *string                 `json:"profile"`
}

func (in m2mInput) service() service.M2MInput {
	return service.M2MInput{Name: in.Name, Description: in.Description, JWKSURL: in.JWKSURL, Profile: in.Profile,
		Roles:        service.Optional[[]string]{Set: in.Roles.set, Value: in.Roles.v},
		AccessPolicy: nullable(in.AccessPolicy)}
}

// secretJSON is the SDK's M2mRotateSecretResponse.

var (
	m2mFilters = []string{"name", "id", "profile", "roleId"}
	// The SDK's sort enum for machine clients is the users' one.
	m2mSorts = userSorts
)

func m2mRoutes() []route {
	return []route{
		{method: http.MethodGet, path: "/m2m", useCase: "m2mClients", status: http.StatusOK, answer: []m2mJSON{},
			summary: "Every machine client (deprecated: use /m2m/v2/list; refused above 1000)",
			handle: func(ctx context.Context, s *service.Service, _ *request) (any, error) {
				return everything("machine clients", "/m2m/v2/list", func(first *int64, after string) ([]iam.M2MClient, []string, bool, error) {
					p, err := s.M2MClients(ctx, service.PageArgs{First: first, After: after}, iam.M2MFilter{}, iam.UsersByCreatedAt, false)
					if err != nil {
						return nil, nil, false, err
					}
					return p.Clients, p.Cursors, p.HasNextPage, nil
				}, toM2MListItem)
			}},
		{method: http.MethodPost, path: "/m2m", useCase: "createM2MClient", status: http.StatusOK, answer: m2mJSON{}, body: m2mInput{},
			summary: "Create a machine client (roles or accessPolicy required); its secret comes from rotate-secret",
			handle: withBody(func(ctx context.Context, s *service.Service, q *request, in *m2mInput) (any, error) {
				return answerIn(ctx, s, toM2M)(s.CreateM2MClient(ctx, in.service()))
			})},
		{method: http.MethodGet, path: "/m2m/me", useCase: "m2mMe", status: http.StatusOK, answer: m2mJSON{},
			summary: "The calling machine client (machine tokens only)",
			handle: func(ctx context.Context, s *service.Service, _ *request) (any, error) {
				return answerIn(ctx, s, toM2M)(s.M2MMe(ctx))
			}},
		{method: http.MethodGet, path: "/m2m/v2/list", useCase: "m2mClients", status: http.StatusOK, answer: listPage[m2mListV2Item]{},
			query:   slices.Concat(m2mFilters, pageParams),
			summary: "A page of machine clients, filtered and sorted (by default oldest first)",
			handle: func(ctx context.Context, s *service.Service, q *request) (any, error) {
				lq, err := q.listQuery(m2mFilters, m2mFilters, m2mSorts, m2mSorts)
				if err != nil {
					return nil, err
				}
				f := iam.M2MFilter{ID: lq.filter["id"], Name: lq.filter["name"], Profile: lq.filter["profile"], RoleID: lq.filter["roleId"]}
				p, err := s.M2MClients(ctx, service.PageArgs{First: lq.first, After: lq.after}, f, userOrders[lq.sort], lq.desc)
				if err != nil {
					return nil, pageErr(err)
				}
				return page(p.Clients, p.Cursors, p.HasNextPage, func(c *iam.M2MClient) m2mListV2Item {
					return m2mListV2Item{ID: c.ID, Name: c.Name, Description: c.Description}
				}), nil
			}},
		{method: http.MethodGet, path: "/m2m/{id}", useCase: "m2mClient", status: http.StatusOK, answer: m2mJSON{},
			summary: "One machine client",
			handle: func(ctx context.Context, s *service.Service, q *request) (any, error) {
				return answerIn(ctx, s, toM2M)(s.M2MClient(ctx, q.path("id")))
			}},
		{method: http.MethodPatch, path: "/m2m/{id}", useCase: "updateM2MClient", status: http.StatusOK, answer: m2mJSON{}, body: m2mInput{},
			summary: "Change a machine client",
			handle: withBody(func(ctx context.Context, s *service.Service, q *request, in *m2mInput) (any, error) {
				return answerIn(ctx, s, toM2M)(s.UpdateM2MClient(ctx, q.path("id"), in.service()))
			})},
		deletion("/m2m/{id}", "deleteM2MClient", "Delete a machine client", (*service.Service).DeleteM2MClient),
		secretRotation("/m2m/{id}/rotate-secret", "rotateM2MClientSecret", "A new client secret, shown once; the old one stops working",
			(*service.Service).RotateM2MClientSecret),
	}
}
