package graph

import (
	"github.com/99designs/gqlgen/graphql"

	"atrium/graph/model"
	"atrium/iam"
	"atrium/service"
)

// deref returns the value of an optional argument, or its zero value.
func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// optional converts gqlgen's absent/null/value input to the service's.
func optional[T any](o graphql.Omittable[T]) service.Optional[T] {
	v, set := o.ValueOK()
	return service.Optional[T]{Set: set, Value: v}
}

// nonEmpty maps "" to null.
func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// nonNil keeps a required list present even when empty.
func nonNil(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}

func inviteInput(in model.InviteUserInput) service.InviteInput {
	return service.InviteInput{
		Email:                 in.Email,
		PhoneNumber:           in.PhoneNumber,
		Username:              in.Username,
		ApplicationID:         in.ApplicationID,
		Roles:                 in.Roles,
		AccessPolicy:          in.AccessPolicy,
		Resource:              in.Resource,
		Profile:               in.Profile,
		ShouldSendInviteEmail: in.ShouldSendInviteEmail,
	}
}

// rowError reports the error of one batch row the way the error presenter
// reports a top-level one.
func rowError(err error) *model.RowError {
	e, _ := iam.Public(err)
	return &model.RowError{Code: e.Code.GraphQL(), Message: e.Message, Field: nonEmpty(e.Field)}
}

func session(s *service.Session, err error) (*model.SignInPayload, error) {
	if err != nil {
		return nil, err
	}
	return &model.SignInPayload{AccessToken: s.AccessToken, ExpiresAt: s.ExpiresAt, User: s.User}, nil
}

// loginStep is the payload of a step of a sign-in.
func loginStep(st *service.LoginStep, err error) (*model.SignInStepPayload, error) {
	if err != nil {
		return nil, err
	}
	out := &model.SignInStepPayload{Next: model.SignInNext(st.Next), Amr: st.AMR, RecoveryCodes: st.RecoveryCodes}
	if st.State != "" {
		out.State, out.StateExpiresAt = &st.State, &st.ExpiresAt
	}
	if st.Session != nil {
		out.Session, _ = session(st.Session, nil)
	}
	return out, nil
}

// claimMapping is a connection's claim mapping; nil when absent.
func claimMapping(in []model.ClaimMappingInput) []service.SSOClaim {
	if in == nil {
		return nil
	}
	out := make([]service.SSOClaim, len(in))
	for i, m := range in {
		out[i] = service.SSOClaim(m)
	}
	return out
}

func userOrder(o *model.UserOrder) (iam.UserOrder, bool) {
	if o == nil {
		return iam.UsersByCreatedAt, false
	}
	desc := o.Direction != nil && *o.Direction == model.OrderDirectionDesc
	switch o.Field {
	case model.UserOrderFieldName:
		return iam.UsersByName, desc
	case model.UserOrderFieldEmail:
		return iam.UsersByEmail, desc
	}
	return iam.UsersByCreatedAt, desc
}

// edges builds the edges of a connection page from its items and the
// cursor after each.
func edges[T, E any](items []T, cursors []string, edge func(string, *T) E) []E {
	out := make([]E, len(items))
	for i := range items {
		out[i] = edge(cursors[i], &items[i])
	}
	return out
}

// pageArgs are a connection's arguments.
func pageArgs(first *int64, after *string, last *int64, before *string) service.PageArgs {
	return service.PageArgs{First: first, After: deref(after), Last: last, Before: deref(before)}
}

// pageInfo describes a connection page.
func pageInfo(p service.Paging) *model.PageInfo {
	info := &model.PageInfo{HasNextPage: p.HasNextPage, HasPreviousPage: p.HasPreviousPage}
	if n := len(p.Cursors); n > 0 {
		info.StartCursor, info.EndCursor = &p.Cursors[0], &p.Cursors[n-1]
	}
	return info
}
