package graph

import (
	"context"
	"reflect"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"atrium/auth"
	"atrium/service"
)

// Directives implements the access directives of schema.graphqls: the one
// place where every operation is guarded.
func Directives(svc *service.Service) DirectiveRoot {
	return DirectiveRoot{
		Guard: func(ctx context.Context, _ any, next graphql.Resolver, action, resource string, id, orAction, orResource *string) (any, error) {
			if id != nil {
				if v := argument(graphql.GetFieldContext(ctx).Args, *id); v != "" {
					resource += ":" + v
				}
			}
			grants := []service.Grant{{Action: action, Resource: resource}}
			if orAction != nil && orResource != nil {
				grants = append(grants, service.Grant{Action: *orAction, Resource: *orResource})
			}
			sc, err := svc.Authorize(ctx, grants...)
			if err != nil {
				return nil, err
			}
			return next(service.WithScope(ctx, sc))
		},
		Authenticated: func(ctx context.Context, _ any, next graphql.Resolver, as []auth.Kind, _ *string) (any, error) {
			if _, err := svc.Authenticate(ctx, as...); err != nil {
				return nil, err
			}
			return next(ctx)
		},
		Public: func(ctx context.Context, _ any, next graphql.Resolver, _ string) (any, error) {
			return next(ctx)
		},
	}
}

// argument returns the string at a dotted path ("id", "input.id") in the
// resolved arguments of a field, or "" when there is none. Input objects are
// generated structs; their fields are matched by JSON name.
func argument(args map[string]any, path string) string {
	var v any = args
	for _, name := range strings.Split(path, ".") {
		v = child(reflect.ValueOf(v), name)
		if v == nil {
			return ""
		}
	}
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}

func child(v reflect.Value, name string) any {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Map:
		if e := v.MapIndex(reflect.ValueOf(name)); e.IsValid() {
			return e.Interface()
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); tag == name {
				return v.Field(i).Interface()
			}
		}
	}
	return nil
}
