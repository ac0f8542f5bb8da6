package graph

import (
	"context"
	"reflect"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"atrium/audit"
	"atrium/iam"
	"atrium/service"
)

// AuditMutations records one audit event for every mutation, whatever its
// outcome: the action its directive names, the actor and project the guard
// (or a public operation) noted, the target, and the names of the input
// fields it was given — never their values.
func AuditMutations(svc *service.Service) graphql.FieldMiddleware {
	return func(ctx context.Context, next graphql.Resolver) (any, error) {
		fc := graphql.GetFieldContext(ctx)
		if fc == nil || fc.Object != "Mutation" {
			return next(ctx)
		}
		ctx, entry := audit.Begin(ctx)
		res, err := next(ctx)
		project, actorKind, actorID, targetType, targetID := entry.Facts()
		if targetID == "" {
			targetType, targetID = targetOf(res)
		}
		if targetID == "" && fc.Field.Definition != nil {
			if d := fc.Field.Definition.Directives.ForName("guard"); d != nil {
				if id := d.Arguments.ForName("id"); id != nil {
					targetID = argument(fc.Args, id.Value.Raw)
				}
				targetType = typeOf(d.Arguments.ForName("resource").Value.Raw)
			}
		}
		switch {
		case targetType == "Project" && project == "":
			project = targetID // a new project records its own creation
		case targetType == "Project" && targetID == "":
			targetID = project
		}
		svc.Record(ctx, iam.AuditEvent{
			ProjectID: project,
			ActorKind: actorKind,
			ActorID:   actorID,
			Action:    actionOf(fc),
			Target:    targetType,
			TargetID:  targetID,
			Outcome:   service.Outcome(err),
			Fields:    inputFields(ctx, fc),
		})
		return res, err
	}
}

// actionOf is the action the field's directive names.
func actionOf(fc *graphql.FieldContext) string {
	if fc.Field.Definition != nil {
		for _, d := range fc.Field.Definition.Directives {
			if a := d.Arguments.ForName("action"); a != nil {
				return a.Value.Raw
			}
		}
	}
	return fc.Field.Name
}

// typeOf turns a resource such as "IAM:Role" into "Role"; Project:Settings
// is the project itself.
func typeOf(resource string) string {
	if resource == "Project:Settings" {
		return "Project"
	}
	parts := strings.Split(resource, ":")
	return parts[len(parts)-1]
}

// targetOf finds the entity a payload carries (e.g. CreateRolePayload.Role)
// and returns its type and id.
func targetOf(res any) (string, string) {
	v := reflect.ValueOf(res)
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "", ""
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return "", ""
	}
	for i := range v.NumField() {
		f := v.Field(i)
		if f.Kind() != reflect.Pointer || f.IsNil() || f.Elem().Kind() != reflect.Struct {
			continue
		}
		// A developer appears as its membership of the project; the
		// developer's own id is what the audit trail names.
		if id := f.Elem().FieldByName("DeveloperID"); id.IsValid() && id.Kind() == reflect.String {
			return "Developer", id.String()
		}
		if id := f.Elem().FieldByName("ID"); id.IsValid() && id.Kind() == reflect.String {
			return f.Elem().Type().Name(), id.String()
		}
	}
	return "", ""
}

// inputFields lists the names of the input fields the operation was given.
func inputFields(ctx context.Context, fc *graphql.FieldContext) []string {
	args := fc.Field.ArgumentMap(graphql.GetOperationContext(ctx).Variables)
	var names []string
	var collect func(v any)
	collect = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k := range x {
				if !slices.Contains(names, k) {
					names = append(names, k)
				}
			}
		case []any:
			for _, e := range x {
				collect(e)
			}
		}
	}
	for _, v := range args {
		collect(v)
	}
	slices.Sort(names)
	return names
}
