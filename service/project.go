package service

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"atrium/access"
	"atrium/auth"
	"atrium/iam"
	"atrium/store"
)

// Project returns the project in scope.
func (s *Service) Project(ctx context.Context) (_ *iam.Project, err error) {
	sc, op, err := s.begin(ctx, ucProject, "")
	defer op.end(&err)
	if err != nil {
		return nil, err
	}
	return sc.Project(ctx)
}

// Projects lists the projects the caller may see.
func (s *Service) Projects(ctx context.Context) (_ []iam.Project, err error) {
	sc, op, err := s.begin(ctx, ucProjects, "")
	defer op.end(&err)
	if err != nil {
		return nil, err
	}
	p := &sc.Principal
	switch {
	case p.Kind == auth.Operator:
		return s.db.AllProjects(ctx)
	case p.Kind == auth.Developer:
		ids, err := s.db.ProjectsOfDeveloper(ctx, p.ID)
		if err != nil {
			return nil, err
		}
		return s.db.ProjectsByID(ctx, ids)
	case p.Kind == auth.User:
		if _, err := s.activeUser(ctx, p.ProjectID, p.ID); err != nil {
			return nil, err
		}
	case p.Kind == auth.M2MClient:
		if _, err := s.activeM2M(ctx, p); err != nil {
			return nil, err
		}
	}
	return s.db.ProjectsByID(ctx, []string{p.ProjectID})
}

// NewProject is the input of CreateProject.
type NewProject struct {
	Name          string
	Description   string
	FHIRVersion   iam.FHIRVersion
	SignupEnabled bool
	Sandbox       bool
}

// CreateProject creates a project with a machine client that has full
// access (so a backend can be wired before anyone signs in). A developer who
// creates a project becomes its first developer, with full access.
func (s *Service) CreateProject(ctx context.Context, in NewProject) (_ *iam.Project, err error) {
	sc, op, err := s.begin(ctx, ucCreateProject, "")
	defer op.end(&err)
	if err != nil {
		return nil, err
	}
	var creator *iam.Developer
	if p := sc.Principal; p.Kind == auth.Developer {
		if creator, err = s.db.Developers().Get(ctx, p.ID); err != nil {
			return nil, iam.Errorf(iam.Unauthenticated, "this developer account no longer exists")
		}
	}
	project, err := s.createProject(ctx, in, creator)
	if err != nil {
		return nil, err
	}
	op.target(project.ID)
	return project, nil
}

func (s *Service) createProject(ctx context.Context, in NewProject, creator *iam.Developer) (*iam.Project, error) {
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
	t := s.db.Tenant(p.ID)
	if err := t.Projects().Insert(ctx, p); err != nil {
		return nil, err
	}
	if err := s.furnish(ctx, t, creator); err != nil {
		// Without its machine client or creator the project is unusable:
		// take it away again rather than leave it half made.
		if derr := t.Projects().Delete(context.WithoutCancel(ctx), p.ID); derr != nil {
			s.log.ErrorContext(ctx, "removing a half-made project", "project", p.ID, "error", derr.Error())
		}
		return nil, err
	}
	s.log.InfoContext(ctx, "project created", "project", p.ID)
	return p, nil
}

// furnish gives a new project its default machine client and, when a
// developer created it, that developer's membership.
func (s *Service) furnish(ctx context.Context, t *store.Tenant, creator *iam.Developer) error {
	name, policy := "Default", fullAccess()
	if _, err := s.newM2MClient(ctx, t, M2MInput{Name: &name, AccessPolicy: Optional[*access.Policy]{Set: true, Value: &policy}}); err != nil {
		return err
	}
	if creator == nil {
		return nil
	}
	profile, err := newProfile("", map[string]any{"resourceType": "Practitioner"}, []string{"Practitioner"}, t.ProjectID(), "developer/"+creator.Email)
	if err != nil {
		return err
	}
	creatorPolicy := fullAccess()
	_, err = s.join(ctx, t, creator, profile, nil, &creatorPolicy, nil)
	return err
}

// ProjectChanges is the input of UpdateProject; unset fields stay unchanged.
// A role id set to nil clears that default.
type ProjectChanges struct {
	Name                 Optional[*string]
	Description          Optional[*string]
	SignupEnabled        Optional[*bool]
	DefaultPatientRoleID Optional[*string]
	DefaultSSOUserRoleID Optional[*string]
	// ExpectedVersion, when given, must equal the stored version.
	ExpectedVersion *int64
}

// UpdateProject changes the settings of the project in scope.
func (s *Service) UpdateProject(ctx context.Context, in ProjectChanges) (_ *iam.Project, err error) {
	sc, op, err := s.begin(ctx, ucUpdateProject, "")
	defer op.end(&err)
	if err != nil {
		return nil, err
	}
	// Check every input before touching anything.
	expected, err := expectedVersion(in.ExpectedVersion)
	if err != nil {
		return nil, err
	}
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
	current, err := sc.Project(ctx) // read by the guard already for the operator
	if err != nil {
		return nil, err
	}
	p, err := sc.tenant.Projects().UpdateFrom(ctx, current, expected, func(p *iam.Project) error {
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
		return nil, staleVersion("project", expected)
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
	p, err := s.createProject(ctx, NewProject{
		Name:        "Sandbox",
		Description: "Created on first start, for trying Atrium out",
		FHIRVersion: iam.R4,
		Sandbox:     true,
	}, nil)
	return p, err == nil, err
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
