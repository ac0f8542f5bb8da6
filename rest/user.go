package rest

// /user: the project's users, invitations and the signed-in user.

import (
	"context"
	"net/http"
	"slices"
	"time"

	"atrium/access"
	"atrium/iam"
	"atrium/service"
)

// userJSON is the SDK's User. email and phoneNumber are always present,
// null when the user has none.
type userJSON struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	Email                *string        `json:"email"`
	PhoneNumber          *string        `json:"phoneNumber"`
	AuthenticationMethod string         `json:"authenticationMethod"`
	AccessPolicy         *access.Policy `json:"accessPolicy,omitempty"`
	Profile              string         `json:"profile"`
	Roles                []roleStub     `json:"roles"`
}

func toUser(ctx context.Context, s *service.Service, u *iam.User) (*userJSON, error) {
	roles, err := stubs(s.UserRoles(ctx, u))
	if err != nil {
		return nil, err
	}
	return &userJSON{ID: u.ID, Name: u.Name, Email: orNull(u.Email), PhoneNumber: orNull(u.PhoneNumber),
		AuthenticationMethod: u.AuthenticationMethod, AccessPolicy: u.AccessPolicy, Profile: u.Profile, Roles: roles}, nil
}

// invitedJSON is the SDK's UserInviteResponse.
type invitedJSON struct {
	*userJSON
	InvitationURL string `json:"invitationUrl"`
}

// userListItem is the SDK's UserListItem.
type userListItem struct {
	ID      string  `json:"id"`
	Name    string  `json:"name"`
	Email   *string `json:"email"`
	Profile string  `json:"profile"`
}

func toUserListItem(u *iam.User) userListItem {
	return userListItem{ID: u.ID, Name: u.Name, Email: orNull(u.Email), Profile: u.Profile}
}

// inviteInput is the SDK's UserInviteParams (without ssoData: Atrium has
// no single sign-on yet).
type inviteInput struct {
	Username      *string        `json:"username"`
	Email         *string        `json:"email"`
	PhoneNumber   *string        `json:"phoneNumber"`
	AccessPolicy  *access.Policy `json:"accessPolicy"`
	ApplicationID string         `json:"applicationId"`
	Resource      map[string]any `json:"resource"`
	Roles         []string       `json:"roles"`
	Profile       *string        `json:"profile"`
}

// userUpdate is the SDK's UserUpdateParams (email cannot change in Atrium).
type userUpdate struct {
	AccessPolicy optional[access.Policy] `json:"accessPolicy"`
	Roles        optional[[]string]      `json:"roles"`
	Profile      optional[string]        `json:"profile"`
}

// resetLinkInput is the body of reset-password-link: redirectUrl is where
// the reset page sends the user afterwards (optional; one of the project's
// applications' loginRedirectUri or allowedCallbackUrls).
type resetLinkInput struct {
	RedirectURL string `json:"redirectUrl"`
}

// resetLinkJSON is the answer of reset-password-link (the SDK types it
// void, and resolves to this JSON as it is).
type resetLinkJSON struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// userFilters are the v2 listing's filters and sort keys (the SDK's).
var (
	userFilters = []string{"name", "id", "email", "profile", "roleId"}
	userSorts   = []string{"createdAt", "id", "name", "email", "phoneNumber"}
	// userOrders are the domain's orders of the sort keys.
	userOrders = map[string]iam.UserOrder{"createdAt": iam.UsersByCreatedAt, "id": iam.UsersByID, "name": iam.UsersByName,
		"email": iam.UsersByEmail, "phoneNumber": iam.UsersByPhone}
)

func userRoutes() []route {
	return []route{
		{method: http.MethodGet, path: "/user/me", useCase: "me", status: http.StatusOK, answer: userJSON{},
			summary: "The signed-in user (user tokens only; machine clients use /m2m/me)",
			handle: func(ctx context.Context, s *service.Service, _ *request) (any, error) {
				return answerIn(ctx, s, toUser)(s.Me(ctx))
			}},
		{method: http.MethodGet, path: "/user/{id}", useCase: "user", status: http.StatusOK, answer: userJSON{},
			summary: "One user",
			handle: func(ctx context.Context, s *service.Service, q *request) (any, error) {
				return answerIn(ctx, s, toUser)(s.User(ctx, q.path("id")))
			}},
		{method: http.MethodPatch, path: "/user/{id}", useCase: "updateUser", status: http.StatusOK, answer: userJSON{}, body: userUpdate{},
			summary: "Change a user's roles (the whole set), inline policy or profile",
			handle: withBody(func(ctx context.Context, s *service.Service, q *request, in *userUpdate) (any, error) {
				u, err := s.UpdateUser(ctx, q.path("id"), service.UserChanges{
					Roles:        service.Optional[[]string]{Set: in.Roles.set, Value: in.Roles.v},
					AccessPolicy: nullable(in.AccessPolicy),
					Profile:      nullable(in.Profile),
				})
				if err != nil {
					return nil, err
				}
				return toUser(ctx, s, u)
			})},
		deletion("/user/{id}", "deleteUser", "Delete a user (its FHIR profile stays)", (*service.Service).DeleteUser),
		{method: http.MethodPost, path: "/user/{id}/reset-mfa", useCase: "resetUserMfa", status: http.StatusNoContent,
			summary: "Remove a user's second factor (TOTP and recovery codes); it enrols again at its next sign-in",
			handle: func(ctx context.Context, s *service.Service, q *request) (any, error) {
				if err := q.decode(&struct{}{}); err != nil {
					return nil, err
				}
				_, err := s.ResetUserMFA(ctx, q.path("id"))
				return nil, err
			}},
		{method: http.MethodPost, path: "/user/{id}/reset-password-link", useCase: "userPasswordResetLink", status: http.StatusOK, answer: resetLinkJSON{}, body: resetLinkInput{},
			summary: "A password reset link for an active user, valid one hour and once (older links stop working); nothing is emailed",
			handle: withBody(func(ctx context.Context, s *service.Service, q *request, in *resetLinkInput) (any, error) {
				link, err := s.UserPasswordResetLink(ctx, q.path("id"), in.RedirectURL)
				if err != nil {
					return nil, err
				}
				return resetLinkJSON{URL: link.URL, ExpiresAt: link.ExpiresAt}, nil
			})},
		{method: http.MethodPost, path: "/user/invite", useCase: "inviteUser", status: http.StatusOK, answer: invitedJSON{userJSON: &userJSON{}}, body: inviteInput{},
			summary: "Invite a user; the answer carries the invitationUrl where the user sets a password",
			handle: withBody(func(ctx context.Context, s *service.Service, q *request, in *inviteInput) (any, error) {
				inv, err := s.InviteUser(ctx, service.InviteInput{
					Email: in.Email, PhoneNumber: in.PhoneNumber, Username: in.Username, ApplicationID: in.ApplicationID,
					Roles: in.Roles, AccessPolicy: in.AccessPolicy, Resource: in.Resource, Profile: in.Profile,
				})
				if err != nil {
					return nil, err
				}
				u, err := toUser(ctx, s, inv.User)
				if err != nil {
					return nil, err
				}
				return invitedJSON{userJSON: u, InvitationURL: inv.InvitationURL}, nil
			})},
		{method: http.MethodGet, path: "/user", useCase: "users", status: http.StatusOK, answer: []userListItem{},
			summary: "Every user (deprecated: use /user/v2/list; refused above 1000 users)",
			handle: func(ctx context.Context, s *service.Service, _ *request) (any, error) {
				return everything("users", "/user/v2/list", func(first *int64, after string) ([]iam.User, []string, bool, error) {
					p, err := s.Users(ctx, service.PageArgs{First: first, After: after}, iam.UserFilter{}, iam.UsersByCreatedAt, false)
					if err != nil {
						return nil, nil, false, err
					}
					return p.Users, p.Cursors, p.HasNextPage, nil
				}, toUserListItem)
			}},
		{method: http.MethodGet, path: "/user/v2/list", useCase: "users", status: http.StatusOK, answer: listPage[userListItem]{},
			query:   slices.Concat(userFilters, pageParams),
			summary: "A page of users, filtered and sorted",
			handle: func(ctx context.Context, s *service.Service, q *request) (any, error) {
				lq, err := q.listQuery(userFilters, userFilters, userSorts, userSorts)
				if err != nil {
					return nil, err
				}
				f := iam.UserFilter{ID: lq.filter["id"], Name: lq.filter["name"], Email: lq.filter["email"], Profile: lq.filter["profile"], RoleID: lq.filter["roleId"]}
				p, err := s.Users(ctx, service.PageArgs{First: lq.first, After: lq.after}, f, userOrders[lq.sort], lq.desc)
				if err != nil {
					return nil, pageErr(err)
				}
				return page(p.Users, p.Cursors, p.HasNextPage, toUserListItem), nil
			}},
	}
}

// orNull maps "" to null.
func orNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
