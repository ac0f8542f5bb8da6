package rest

// /project: the settings of the project in scope.

import (
	"context"
	"net/http"

	"atrium/iam"
	"atrium/service"
)

// projectJSON is the SDK's Project.
type projectJSON struct {
	ID                 string          `json:"id"`
	Name               string          `json:"name"`
	Description        string          `json:"description"`
	SignupEnabled      bool            `json:"signupEnabled"`
	Sandbox            bool            `json:"sandbox"`
	DefaultPatientRole *roleStub       `json:"defaultPatientRole,omitempty"`
	DefaultSSOUserRole *roleStub       `json:"defaultSSOUserRole,omitempty"`
	FHIRVersion        iam.FHIRVersion `json:"fhirVersion"`
}

// projectUpdate is the SDK's ProjectUpdateParams; a role id set to null
// clears that default.
type projectUpdate struct {
	Name                 optional[string] `json:"name"`
	Description          optional[string] `json:"description"`
	SignupEnabled        optional[bool]   `json:"signupEnabled"`
	DefaultPatientRoleID optional[string] `json:"defaultPatientRoleId"`
	DefaultSSOUserRoleID optional[string] `json:"defaultSSOUserRoleId"`
}

func projectRoutes() []route {
	return []route{
		{method: http.MethodGet, path: "/project", useCase: "project", status: http.StatusOK, answer: projectJSON{},
			summary: "The project in scope",
			handle: func(ctx context.Context, s *service.Service, _ *request) (any, error) {
				return answerIn(ctx, s, toProject)(s.Project(ctx))
			}},
		{method: http.MethodPatch, path: "/project", useCase: "updateProject", status: http.StatusOK, answer: projectJSON{}, body: projectUpdate{},
			summary: "Change the project's settings",
			handle: withBody(func(ctx context.Context, s *service.Service, q *request, in *projectUpdate) (any, error) {
				p, err := s.UpdateProject(ctx, service.ProjectChanges{
					Name:                 nullable(in.Name),
					Description:          nullable(in.Description),
					SignupEnabled:        nullable(in.SignupEnabled),
					DefaultPatientRoleID: nullable(in.DefaultPatientRoleID),
					DefaultSSOUserRoleID: nullable(in.DefaultSSOUserRoleID),
				})
				if err != nil {
					return nil, err
				}
				return toProject(ctx, s, p)
			})},
	}
}

func toProject(ctx context.Context, s *service.Service, p *iam.Project) (*projectJSON, error) {
	out := &projectJSON{ID: p.ID, Name: p.Name, Description: p.Description, SignupEnabled: p.SignupEnabled,
		Sandbox: p.Sandbox, FHIRVersion: p.FHIRVersion}
	for _, d := range []struct {
		id  string
		out **roleStub
	}{{p.DefaultPatientRoleID, &out.DefaultPatientRole}, {p.DefaultSSOUserRoleID, &out.DefaultSSOUserRole}} {
		r, err := s.ProjectRole(ctx, p, d.id)
		if err != nil {
			return nil, err
		}
		if r != nil {
			*d.out = &roleStub{ID: r.ID, Name: r.Name}
		}
	}
	return out, nil
}

// nullable is a body field as the service's optional: absent, null (nil)
// or a value.
func nullable[T any](o optional[T]) service.Optional[*T] {
	return service.Optional[*T]{Set: o.set, Value: o.ptr()}
}
