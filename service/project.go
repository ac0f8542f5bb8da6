package service

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"atrium/auth"
	"atrium/iam"
	"atrium/store"
)

// Project returns the project in scope.
func (s *Service) Project(ctx context.Context) (*iam.Project, error) {
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	return sc.Project, nil
}

// Projects lists the projects the caller may see.
func (s *Service) Projects(ctx context.Context) ([]iam.Project, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if p.Kind == auth.Operator {
		return s.db.AllProjects(ctx)
	}
	if p.ProjectID != "" {
		return s.db.ProjectsByID(ctx, []string{p.ProjectID})
	}
	return []iam.Project{}, nil
}

// NewProject is the input of CreateProject.
type NewProject struct {
	Name          string
	Description   string
	FHIRVersion   iam.FHIRVersion
	SignupEnabled bool
	Sandbox       bool
}

// CreateProject creates a project. The caller's right to do so is checked by
// the transport's guard (operator only, for now).
func (s *Service) CreateProject(ctx context.Context, in NewProject) (*iam.Project, error) {
	name, err := checkName("input.name", in.Name)
	if err != nil {
		return nil, err
	}
	desc, err := checkDescription("input.description", in.Description)
	if err != nil {
		return nil, err
	}
	if in.FHIRVersion != iam.R4 && in.FHIRVersion != iam.R5 {
		return nil, iam.Invalid("input.fhirVersion", "must be R4 or R5")
	}
	p := &iam.Project{
		ID:            uuid.NewString(),
		Name:          name,
		Description:   desc,
		SignupEnabled: in.SignupEnabled,
		Sandbox:       in.Sandbox,
		FHIRVersion:   in.FHIRVersion,
	}
	if err := s.db.Tenant(p.ID).Projects().Insert(ctx, p); err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "project created", "project", p.ID)
	return p, nil
}

// ProjectChanges is the input of UpdateProject; unset fields stay unchanged.
// A role id set to nil clears that default.
type ProjectChanges struct {
	Name                 Optional[*string]
	Description          Optional[*string]
	SignupEnabled        Optional[*bool]
	DefaultPatientRoleID Optional[*string]
	DefaultSSOUserRoleID Optional[*string]
	// ExpectedVersion, when > 0, must equal the stored version.
	ExpectedVersion int64
}

// UpdateProject changes the settings of the project in scope.
func (s *Service) UpdateProject(ctx context.Context, in ProjectChanges) (*iam.Project, error) {
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	// Check every input before touching anything.
	var name, desc string
	if in.Name.Set {
		if in.Name.Value == nil {
			return nil, iam.Invalid("input.name", "must not be null")
		}
		if name, err = checkName("input.name", *in.Name.Value); err != nil {
			return nil, err
		}
	}
	if in.Description.Set && in.Description.Value != nil {
		if desc, err = checkDescription("input.description", *in.Description.Value); err != nil {
			return nil, err
		}
	}
	if in.SignupEnabled.Set && in.SignupEnabled.Value == nil {
		return nil, iam.Invalid("input.signupEnabled", "must not be null")
	}
	for _, r := range []struct {
		field string
		id    Optional[*string]
	}{{"input.defaultPatientRoleId", in.DefaultPatientRoleID}, {"input.defaultSSOUserRoleId", in.DefaultSSOUserRoleID}} {
		if r.id.Set && r.id.Value != nil {
			if _, err := s.role(ctx, sc.tenant, *r.id.Value, r.field); err != nil {
				return nil, err
			}
		}
	}
	p, err := sc.tenant.Projects().Update(ctx, sc.Project.ID, in.ExpectedVersion, func(p *iam.Project) error {
		if in.Name.Set {
			p.Name = name
		}
		if in.Description.Set {
			p.Description = desc
		}
		if in.SignupEnabled.Set {
			p.SignupEnabled = *in.SignupEnabled.Value
		}
		if in.DefaultPatientRoleID.Set {
			p.DefaultPatientRoleID = deref(in.DefaultPatientRoleID.Value)
		}
		if in.DefaultSSOUserRoleID.Set {
			p.DefaultSSOUserRoleID = deref(in.DefaultSSOUserRoleID.Value)
		}
		return nil
	})
	if errors.Is(err, store.ErrStale) {
		return nil, iam.Errorf(iam.Conflict, "the project was changed since version %d; read it again and retry", in.ExpectedVersion)
	}
	return p, err
}

// Bootstrap creates the Sandbox project on an empty store. It returns the
// oldest project (the sandbox on a first run) and whether it created it.
func (s *Service) Bootstrap(ctx context.Context) (first *iam.Project, created bool, err error) {
	all, err := s.db.AllProjects(ctx)
	if err != nil {
		return nil, false, err
	}
	if len(all) > 0 {
		return &all[0], false, nil
	}
	p, err := s.CreateProject(ctx, NewProject{
		Name:        "Sandbox",
		Description: "Created on first start, for trying Atrium out",
		FHIRVersion: iam.R4,
		Sandbox:     true,
	})
	return p, err == nil, err
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
