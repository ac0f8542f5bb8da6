package iam

import (
	"time"

	"atrium/access"
)

// Meta is the bookkeeping every stored entity carries. Version starts at 1 and
// grows by one with every write, for optimistic concurrency.
type Meta struct {
	CreatedAt time.Time
	UpdatedAt time.Time
	Version   int64
}

// Project is an isolated tenant.
type Project struct {
	ID                   string
	Name                 string
	Description          string
	SignupEnabled        bool
	Sandbox              bool
	DefaultPatientRoleID string
	DefaultSSOUserRoleID string
	FHIRVersion          FHIRVersion
	Meta
}

// Role is a named, reusable access policy of one project.
type Role struct {
	ID           string
	ProjectID    string
	Name         string
	Description  string
	AccessPolicy access.Policy
	Meta
}

// Application is what users sign in to.
type Application struct {
	ID                     string
	ProjectID              string
	Name                   string
	ClientID               string
	Description            string
	LoginRedirectURI       string
	LoginWithEmailEnabled  bool
	AllowedCallbackURLs    []string
	AllowedCORSOriginsURLs []string
	ShouldSendInviteEmail  bool
	// What the application is as an OpenID client: where logout may
	// return to, the origins that may start a login, its logo on the login
	// page, and whether it gets refresh tokens (when it asks offline_access).
	AllowedLogoutURLs     []string
	AllowedWebOriginsURLs []string
	LogoURI               string
	RefreshTokenEnabled   bool
	// SecretHash is the hash of the client secret (auth.HashSecret), ""
	// while the application has none.
	SecretHash string
	// MFAEnabled asks every user for a TOTP code after the first factor;
	// PasswordlessSMS lets users sign in with a code sent to their phone.
	MFAEnabled      bool
	PasswordlessSMS bool
	Meta
}

// Confidential reports whether the application is a confidential OpenID
// Connect client, one with a client secret; others are public clients.
func (a *Application) Confidential() bool { return a.SecretHash != "" }

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
	ID        string
	ProjectID string
	Name      string
	// Email is normalised (trimmed, lower case); "" for users who sign in
	// by phone.
	Email       string
	PhoneNumber string
	// AuthenticationMethod is "email" or "sms".
	AuthenticationMethod string
	Profile              string
	AccessPolicy         *access.Policy
	RoleIDs              []string
	Status               UserStatus
	// ApplicationID is the application the user was invited to or signed up
	// with.
	ApplicationID string
	PasswordHash  string
	LastSignInAt  *time.Time
	// Invitation is the open invitation ticket, if any.
	Invitation *Ticket
	// MFA is the user's second factor, nil when it has none.
	MFA *MFA
	// SSOSubject ("<connection id>/<upstream sub>") links the user to its
	// identity at an SSO connection's provider; SSOData are that
	// identity's claims, mapped to Atrium's names (SSOFields).
	SSOSubject string
	SSOData    map[string]any
	Meta
}

// MFA is a user's TOTP second factor. The secrets are sealed (auth.Seal):
// Secret once confirmed, Pending while an enrolment waits for its first
// code. LastStep is the last TOTP time step accepted, so that a code is
// never accepted twice; RecoveryCodes are the MACs of the unused recovery
// codes.
type MFA struct {
	Secret           []byte
	Pending          []byte
	PendingExpiresAt time.Time
	LastStep         int64
	RecoveryCodes    []string
	EnrolledAt       *time.Time
}

// Enrolled reports whether the user has a confirmed second factor.
func (m *MFA) Enrolled() bool { return m != nil && len(m.Secret) > 0 }

// Ticket is a single-use secret handed out as a link. Only its hash is
// stored; a new ticket replaces the old one, so older links stop working.
type Ticket struct {
	Hash      string
	ExpiresAt time.Time
}

// Profile is the FHIR resource that represents a principal (Patient,
// Practitioner or Device), stored as given.
type Profile struct {
	ID           string
	ProjectID    string
	ResourceType string
	Resource     map[string]any
	// Retired marks the profile of a principal since deleted: it stays, as
	// clinical data, and is never reused for someone new.
	Retired bool
	Meta
}

// Reference is the profile's relative FHIR reference, e.g. "Patient/<id>".
func (p *Profile) Reference() string { return p.ResourceType + "/" + p.ID }

// Developer is a person who builds apps; it lives above projects and joins
// them through memberships.
type Developer struct {
	ID           string
	Email        string
	Name         string
	PasswordHash string
	LastSignInAt *time.Time
	Meta
}

// Membership is a developer's place in one project: its profile there and
// its access.
type Membership struct {
	// ID is "<projectId>/<developerId>": a developer joins a project once.
	ID           string
	ProjectID    string
	DeveloperID  string
	Email        string
	Name         string
	Profile      string
	AccessPolicy *access.Policy
	RoleIDs      []string
	// Invitation is the open invitation ticket of a developer who has no
	// password yet: one per project that invited it, each valid on its own.
	Invitation *Ticket
	Meta
}

// M2MClient is a machine client of one project (a backend), authenticated
// with the OAuth 2.0 client-credentials grant.
type M2MClient struct {
	ID           string
	ProjectID    string
	ClientID     string
	Name         string
	Description  string
	Profile      string
	JWKSURL      string
	AccessPolicy *access.Policy
	RoleIDs      []string
	SecretHash   string
	// SecretVersion grows with every rotation of the secret; a token names
	// the version it was issued under, so a rotation retires the tokens of
	// the old secret too.
	SecretVersion int64
	Meta
}

// SSOConnection is a project's connection to a customer's OpenID Connect
// identity provider: its users sign in there and arrive as users of the
// project.
type SSOConnection struct {
	ID        string
	ProjectID string
	// Name is unique within the project; it becomes the
	// authenticationMethod of the users who arrive through it.
	Name     string
	Issuer   string
	ClientID string
	// ClientSecret is sealed (auth.Seal); nil for a public client.
	ClientSecret []byte
	Scopes       []string
	// ClaimMapping maps upstream claims to Atrium's fields (SSOFields).
	ClaimMapping map[string]string
	Meta
}

// SSOFields are the fields an upstream claim can map to.
func SSOFields() []string {
	return []string{"email", "email_verified", "name", "given_name", "family_name", "phone_number", "picture", "locale"}
}

// AuditEvent records one state-changing operation. It names the fields an
// operation was given, never their values.
type AuditEvent struct {
	ID        string
	ProjectID string
	Time      time.Time
	ActorKind string
	ActorID   string
	Action    string
	Target    string
	TargetID  string
	Outcome   string
	RequestID string
	Fields    []string
	Meta
}

// SigningKey is one key of an issuer's key ring as stored: the private half
// sealed (only package auth can open it), the public half in the clear.
// Generation numbers an issuer's keys 1, 2, 3...: a key and its successor
// (Generation+1) are one rotation. Times are UTC.
type SigningKey struct {
	// ProjectID is the issuer's project; "" for the platform issuer.
	ProjectID  string
	Generation int64
	KeyID      string // the JWT header's kid
	Sealed     []byte // the private key, sealed
	Public     []byte // the public key, PKIX DER
	// PublishAt is when the key enters the JWKS; ActiveAt when it starts
	// signing (it signs until its successor's ActiveAt).
	PublishAt time.Time
	ActiveAt  time.Time
	CreatedAt time.Time
}
