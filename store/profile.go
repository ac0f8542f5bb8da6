package store

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"atrium/iam"
)

// Profiles are the FHIR resources that represent this tenant's principals.
func (t *Tenant) Profiles() Repo[iam.Profile, profileDoc] {
	return repo(t, profilesColl, profileCodec)
}

var profileCodec = codec[iam.Profile, profileDoc]{toProfileDoc, fromProfileDoc, func(v *iam.Profile) *iam.Meta { return &v.Meta }}

// ProfilesByID returns the profiles with the given ids that belong to the
// project, in one round trip and in no particular order; ids of other
// projects are simply absent.
func (t *Tenant) ProfilesByID(ctx context.Context, ids []string) ([]iam.Profile, error) {
	if len(ids) == 0 {
		return []iam.Profile{}, nil
	}
	var docs []profileDoc
	err := t.collection(profilesColl).find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, nil, &docs)
	return profileCodec.all(docs), err
}

// plainJSON turns the documents and arrays the driver decodes inside a
// map[string]any (bson.D, bson.A) back into the maps and slices a FHIR
// resource was stored from, so that it encodes as the same JSON.
func plainJSON(v any) any {
	switch v := v.(type) {
	case bson.D:
		m := make(map[string]any, len(v))
		for _, e := range v {
			m[e.Key] = plainJSON(e.Value)
		}
		return m
	case bson.M:
		return plainJSON(map[string]any(v))
	case map[string]any:
		for k, e := range v {
			v[k] = plainJSON(e)
		}
		return v
	case bson.A:
		return plainJSON([]any(v))
	case []any:
		for i, e := range v {
			v[i] = plainJSON(e)
		}
		return v
	}
	return v
}
