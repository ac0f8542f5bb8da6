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

// Application is what users sign in to.
type Application struct {
	ID                     string   `bson:"_id"`
	ProjectID              string   `bson:"projectId"`
	Name                   string   `bson:"name"`
	ClientID               string   `bson:"clientId"`
	Description            string   `bson:"description"`
	LoginRedirectURI       string   `bson:"loginRedirectUri"`
	LoginWithEmailEnabled  bool     `bson:"loginWithEmailEnabled"`
	AllowedCallbackURLs    []string `bson:"allowedCallbackUrls"`
	AllowedCORSOriginsURLs []string `bson:"allowedCORSOriginsUrls"`
	ShouldSendInviteEmail  bool     `bson:"shouldSendInviteEmail"`
	Meta                   `bson:",inline"`
}

// UserStatus is where a user is in its life cycle.
type UserStatus string

// The user statuses.
const (
	Invited  UserStatus = "INVITED"
	Active   UserStatus = "ACTIVE"
	Disabled UserStatus = "DISABLED"
)

// UserStatuses lists every user status.
func UserStatuses() []UserStatus { return []UserStatus{Invited, Active, Disabled} }

// User is a person who signs in to a project's applications.
type User struct {
	ID        string `bson:"_id"`
	ProjectID string `bson:"projectId"`
	Name      string `bson:"name"`
	// Email is normalised (trimmed, lower case); "" for users who sign in
	// by phone.
	Email       string `bson:"email"`
	PhoneNumber string `bson:"phoneNumber"`
	// AuthenticationMethod is "email" or "sms".
	AuthenticationMethod string         `bson:"authenticationMethod"`
	Profile              string         `bson:"profile"`
	AccessPolicy         *access.Policy `bson:"accessPolicy,omitempty"`
	RoleIDs              []string       `bson:"roleIds"`
	Status               UserStatus     `bson:"status"`
	// ApplicationID is the application the user was invited to or signed up
	// with.
	ApplicationID string     `bson:"applicationId"`
	PasswordHash  string     `bson:"passwordHash,omitempty"`
	LastSignInAt  *time.Time `bson:"lastSignInAt,omitempty"`
	// Invitation is the open invitation ticket, if any.
	Invitation *Ticket `bson:"invitation,omitempty"`
	Meta       `bson:",inline"`
}

// Ticket is a single-use secret handed out as a link. Only its hash is
// stored; a new ticket replaces the old one, so older links stop working.
type Ticket struct {
	Hash      string    `bson:"hash"`
	ExpiresAt time.Time `bson:"expiresAt"`
}

// Profile is the FHIR resource that represents a principal (Patient,
// Practitioner or Device), stored as given.
type Profile struct {
	ID           string         `bson:"_id"`
	ProjectID    string         `bson:"projectId"`
	ResourceType string         `bson:"resourceType"`
	Resource     map[string]any `bson:"resource"`
	// Retired marks the profile of a principal since deleted: it stays, as
	// clinical data, and is never reused for someone new.
	Retired bool `bson:"retired,omitempty"`
	Meta    `bson:",inline"`
}

// Reference is the profile's relative FHIR reference, e.g. "Patient/<id>".
func (p *Profile) Reference() string { return p.ResourceType + "/" + p.ID }

// Developer is a person who builds apps; it lives above projects and joins
// them through memberships.
type Developer struct {
	ID           string     `bson:"_id"`
	Email        string     `bson:"email"`
	Name         string     `bson:"name"`
	PasswordHash string     `bson:"passwordHash,omitempty"`
	LastSignInAt *time.Time `bson:"lastSignInAt,omitempty"`
	Meta         `bson:",inline"`
}

// Membership is a developer's place in one project: its profile there and
// its access.
type Membership struct {
	// ID is "<projectId>/<developerId>": a developer joins a project once.
	ID           string         `bson:"_id"`
	ProjectID    string         `bson:"projectId"`
	DeveloperID  string         `bson:"developerId"`
	Email        string         `bson:"email"`
	Name         string         `bson:"name"`
	Profile      string         `bson:"profile"`
	AccessPolicy *access.Policy `bson:"accessPolicy,omitempty"`
	RoleIDs      []string       `bson:"roleIds"`
	// Invitation is the open invitation ticket of a developer who has no
	// password yet: one per project that invited it, each valid on its own.
	Invitation *Ticket `bson:"invitation,omitempty"`
	Meta       `bson:",inline"`
}

// M2MClient is a machine client of one project (a backend), authenticated
// with the OAuth 2.0 client-credentials grant.
type M2MClient struct {
	ID           string         `bson:"_id"`
	ProjectID    string         `bson:"projectId"`
	ClientID     string         `bson:"clientId"`
	Name         string         `bson:"name"`
	Description  string         `bson:"description"`
	Profile      string         `bson:"profile"`
	JWKSURL      string         `bson:"jwksUrl"`
	AccessPolicy *access.Policy `bson:"accessPolicy,omitempty"`
	RoleIDs      []string       `bson:"roleIds"`
	SecretHash   string         `bson:"secretHash,omitempty"`
	Meta         `bson:",inline"`
}

// AuditEvent records one state-changing operation. It names the fields an
// operation was given, never their values.
type AuditEvent struct {
	ID        string    `bson:"_id"`
	ProjectID string    `bson:"projectId"`
	Time      time.Time `bson:"time"`
	ActorKind string    `bson:"actorKind"`
	ActorID   string    `bson:"actorId"`
	Action    string    `bson:"action"`
	Target    string    `bson:"target"`
	TargetID  string    `bson:"targetId"`
	Outcome   string    `bson:"outcome"`
	RequestID string    `bson:"requestId"`
	Fields    []string  `bson:"fields"`
	Meta      `bson:",inline"`
}
