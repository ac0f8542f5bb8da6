package iam

import (
	"time"

	"atrium/access"
)

// Meta is the bookkeeping every stored entity carries. Version starts at 1 and
// grows by one with every write, for optimistic concurrency.
type Meta struct {
	CreatedAt time.Time `bson:"createdAt"`
	UpdatedAt time.Time `bson:"updatedAt"`
	Version   int64     `bson:"version"`
}

// Project is an isolated tenant.
type Project struct {
	ID                   string      `bson:"_id"`
	Name                 string      `bson:"name"`
	Description          string      `bson:"description"`
	SignupEnabled        bool        `bson:"signupEnabled"`
	Sandbox              bool        `bson:"sandbox"`
	DefaultPatientRoleID string      `bson:"defaultPatientRoleId,omitempty"`
	DefaultSSOUserRoleID string      `bson:"defaultSSOUserRoleId,omitempty"`
	FHIRVersion          FHIRVersion `bson:"fhirVersion"`
	Meta                 `bson:",inline"`
}

// Role is a named, reusable access policy of one project.
type Role struct {
	ID           string        `bson:"_id"`
	ProjectID    string        `bson:"projectId"`
	Name         string        `bson:"name"`
	Description  string        `bson:"description"`
	AccessPolicy access.Policy `bson:"accessPolicy"`
	Meta         `bson:",inline"`
}

// Stamp gives the store access to an entity's bookkeeping, whatever its type.
func (m *Meta) Stamp() *Meta { return m }
