package service

import (
	"context"
	"errors"
	"regexp"

	"github.com/google/uuid"

	"atrium/iam"
	"atrium/store"
)

var profileRef = regexp.MustCompile(`^(Patient|Practitioner|Device)/([0-9a-fA-F-]{36})$`)

// existingProfile checks a reference such as "Practitioner/<uuid>" to a
// profile of this project and returns it.
func (s *Service) existingProfile(ctx context.Context, t *store.Tenant, field, ref string) (string, error) {
	m := profileRef.FindStringSubmatch(ref)
	if m == nil {
		return "", iam.Invalid(field, "%q is not a reference such as Patient/<uuid> (Patient, Practitioner or Device)", ref)
	}
	p, err := t.Profiles().Get(ctx, m[2])
	if errors.Is(err, store.ErrNotFound) || (err == nil && p.ResourceType != m[1]) {
		return "", notFound("profile", ref, field)
	}
	if err != nil {
		return "", err
	}
	return ref, nil
}

// profileNamespace seeds the deterministic ids of profiles made by
// invitations.
var profileNamespace = uuid.MustParse("6f1c8a52-3c1e-4e0a-9b7e-2f0d4c7b9a11")

// newProfile validates a FHIR resource given with an invitation. Its id is
// derived from the project and the invitee's key (email or phone), so a
// retried invitation writes the same profile instead of a second one.
func newProfile(field string, resource map[string]any, allowed []string, projectID, key string) (*iam.Profile, error) {
	rt, _ := resource["resourceType"].(string)
	ok := false
	for _, a := range allowed {
		ok = ok || rt == a
	}
	if !ok {
		return nil, iam.Invalid(field+".resourceType", "must be one of %v (got %q)", allowed, rt)
	}
	id := uuid.NewSHA1(profileNamespace, []byte(projectID+"/"+key)).String()
	res := make(map[string]any, len(resource)+1)
	for k, v := range resource {
		res[k] = v
	}
	res["id"] = id
	return &iam.Profile{ID: id, ResourceType: rt, Resource: res}, nil
}

// withProfile writes a new principal's profile (when profile is not nil),
// stores its reference in *ref, then writes the principal itself with
// insert. No transaction covers the two writes, so a failed insert is
// compensated: a profile this call created is removed again. Not after a
// duplicate-key failure, though: then another request for the same person
// won, and the profile (its id is derived from the person) is the winner's.
func (s *Service) withProfile(ctx context.Context, t *store.Tenant, profile *iam.Profile, ref *string, insert func() error) error {
	if profile == nil {
		return insert()
	}
	created, err := putProfile(ctx, t, profile)
	if err != nil {
		return err
	}
	*ref = profile.Reference()
	err = insert()
	if err != nil && created && !errors.Is(err, store.ErrDuplicate) {
		if derr := t.Profiles().Delete(context.WithoutCancel(ctx), profile.ID); derr != nil {
			s.log.ErrorContext(ctx, "removing the profile of a failed write", "profile", profile.ID, "error", derr.Error())
		}
	}
	return err
}

// putProfile stores a profile. Its id is derived from the person, so a
// profile left behind by an earlier failed attempt is found and rewritten
// instead of a second one made; the retired profile of a principal since
// deleted is kept, and the new one gets a fresh id. It reports whether it
// created a document.
func putProfile(ctx context.Context, t *store.Tenant, p *iam.Profile) (created bool, err error) {
	for range 3 { // a concurrent compensation may remove the one we found
		err = t.Profiles().Insert(ctx, p)
		if !errors.Is(err, store.ErrDuplicate) {
			return err == nil, err
		}
		_, err = t.Profiles().Update(ctx, p.ID, 0, func(old *iam.Profile) error {
			if old.Retired {
				return errRetired
			}
			old.ResourceType, old.Resource = p.ResourceType, p.Resource
			return nil
		})
		if errors.Is(err, errRetired) {
			p.ID = uuid.NewString()
			p.Resource["id"] = p.ID
			continue
		}
		if !errors.Is(err, store.ErrNotFound) {
			return false, err
		}
	}
	return false, err
}

var errRetired = errors.New("profile retired")

// retireProfile marks the profile a deleted principal referenced, so that it
// stays as it is.
func (s *Service) retireProfile(ctx context.Context, t *store.Tenant, ref string) {
	m := profileRef.FindStringSubmatch(ref)
	if m == nil {
		return
	}
	_, err := t.Profiles().Update(context.WithoutCancel(ctx), m[2], 0, func(p *iam.Profile) error {
		p.Retired = true
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.ErrorContext(ctx, "retiring a profile", "profile", ref, "error", err.Error())
	}
}
