package store

import "atrium/iam"

// Profiles are the FHIR resources that represent this tenant's principals.
func (t *Tenant) Profiles() Repo[iam.Profile, profileDoc] {
	return repo(t, profilesColl, profileCodec)
}

var profileCodec = codec[iam.Profile, profileDoc]{toProfileDoc, fromProfileDoc, func(v *iam.Profile) *iam.Meta { return &v.Meta }}
