package store

import "atrium/iam"

// Profiles are the FHIR resources that represent this tenant's principals.
func (t *Tenant) Profiles() Repo[iam.Profile, *iam.Profile] {
	return repo[iam.Profile](t, profilesColl)
}
