package graph

import (
	"errors"

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
	var e *iam.Error
	if !errors.As(err, &e) {
		e = iam.Errorf(iam.Internal, "internal server error")
	}
	return &model.RowError{Code: string(e.Code), Message: e.Message, Field: nonEmpty(e.Field)}
}

func session(s *service.Session, err error) (*model.SignInPayload, error) {
	if err != nil {
		return nil, err
	}
	return &model.SignInPayload{AccessToken: s.AccessToken, ExpiresAt: s.ExpiresAt, User: s.User}, nil
}

func userOrder(o *model.UserOrder) (string, bool) {
	if o == nil {
		return service.OrderCreatedAt, false
	}
	desc := o.Direction != nil && *o.Direction == model.OrderDirectionDesc
	switch o.Field {
	case model.UserOrderFieldName:
		return service.OrderName, desc
	case model.UserOrderFieldEmail:
		return service.OrderEmail, desc
	}
	return service.OrderCreatedAt, desc
}

// edges builds the edges of a connection page.
func edges[T, E any](items []T, cursor func(*T) string, edge func(string, *T) E) []E {
	out := make([]E, len(items))
	for i := range items {
		out[i] = edge(cursor(&items[i]), &items[i])
	}
	return out
}

// pageInfo describes a connection page.
func pageInfo[T any](items []T, hasNext bool, cursor func(*T) string) *model.PageInfo {
	info := &model.PageInfo{HasNextPage: hasNext}
	if n := len(items); n > 0 {
		c := cursor(&items[n-1])
		info.EndCursor = &c
	}
	return info
}
