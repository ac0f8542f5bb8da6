package iam

import (
	"encoding/base64"
	"strings"
)

// Global ids name an entity of any type for the GraphQL Node interface
// (Relay's object identification): the unpadded base64url encoding of
// "<GraphQL type>:<id>", e.g. "User:6f1c…" → "VXNlcjo2ZjFj…". They are
// opaque to clients; the id inside is the entity's own id, so a global id
// names the same entity in whatever project the request is in, and finds
// nothing in another.

// GlobalID is the global id of the entity of GraphQL type typ with id.
func GlobalID(typ, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(typ + ":" + id))
}

// ParseGlobalID returns the type and id a global id names; ok is false for
// a string that is not one.
func ParseGlobalID(gid string) (typ, id string, ok bool) {
	raw, err := base64.RawURLEncoding.DecodeString(gid)
	if err != nil {
		return "", "", false
	}
	typ, id, ok = strings.Cut(string(raw), ":")
	if !ok || typ == "" || id == "" {
		return "", "", false
	}
	return typ, id, true
}
