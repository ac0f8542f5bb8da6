package store

import (
	"time"

	"atrium/access"
	"atrium/iam"
)

// The stored documents: one type per collection, with the field names the
// data has always been written with, and a pair of named converters between
// each and its iam entity. The entities know nothing of BSON.

// metaDoc is the bookkeeping every document carries, inline.
type metaDoc struct {
	CreatedAt time.Time `bson:"createdAt"`
	UpdatedAt time.Time `bson:"updatedAt"`
	Version   int64     `bson:"version"`
}

type ruleDoc struct {
	Resource  []string      `bson:"resource"`
	Action    []string      `bson:"action"`
	Effect    access.Effect `bson:"effect"`
	Condition []string      `bson:"condition,omitempty"`
}

type policyDoc struct {
	Rule []ruleDoc `bson:"rule"`
}

func toPolicyDoc(p access.Policy) policyDoc {
	var d policyDoc
	if p.Rule != nil {
		d.Rule = make([]ruleDoc, len(p.Rule))
		for i, r := range p.Rule {
			d.Rule[i] = ruleDoc(r)
		}
	}
	return d
}

func fromPolicyDoc(d policyDoc) access.Policy {
	var p access.Policy
	if d.Rule != nil {
		p.Rule = make([]access.Rule, len(d.Rule))
		for i, r := range d.Rule {
			p.Rule[i] = access.Rule(r)
		}
	}
	return p
}

func toPolicyRef(p *access.Policy) *policyDoc {
	if p == nil {
		return nil
	}
	d := toPolicyDoc(*p)
	return &d
}

func fromPolicyRef(d *policyDoc) *access.Policy {
	if d == nil {
		return nil
	}
	p := fromPolicyDoc(*d)
	return &p
}

type ticketDoc struct {
	Hash      string    `bson:"hash"`
	ExpiresAt time.Time `bson:"expiresAt"`
}

func toTicketRef(t *iam.Ticket) *ticketDoc {
	if t == nil {
		return nil
	}
	d := ticketDoc(*t)
	return &d
}

func fromTicketRef(d *ticketDoc) *iam.Ticket {
	if d == nil {
		return nil
	}
	t := iam.Ticket(*d)
	return &t
}

type projectDoc struct {
	ID                   string          `bson:"_id"`
	Name                 string          `bson:"name"`
	Description          string          `bson:"description"`
	SignupEnabled        bool            `bson:"signupEnabled"`
	Sandbox              bool            `bson:"sandbox"`
	DefaultPatientRoleID string          `bson:"defaultPatientRoleId,omitempty"`
	DefaultSSOUserRoleID string          `bson:"defaultSSOUserRoleId,omitempty"`
	FHIRVersion          iam.FHIRVersion `bson:"fhirVersion"`
	Meta                 metaDoc         `bson:",inline"`
}

func toProjectDoc(p *iam.Project) *projectDoc {
	return &projectDoc{ID: p.ID, Name: p.Name, Description: p.Description, SignupEnabled: p.SignupEnabled, Sandbox: p.Sandbox,
		DefaultPatientRoleID: p.DefaultPatientRoleID, DefaultSSOUserRoleID: p.DefaultSSOUserRoleID, FHIRVersion: p.FHIRVersion, Meta: metaDoc(p.Meta)}
}

func fromProjectDoc(d *projectDoc) *iam.Project {
	return &iam.Project{ID: d.ID, Name: d.Name, Description: d.Description, SignupEnabled: d.SignupEnabled, Sandbox: d.Sandbox,
		DefaultPatientRoleID: d.DefaultPatientRoleID, DefaultSSOUserRoleID: d.DefaultSSOUserRoleID, FHIRVersion: d.FHIRVersion, Meta: iam.Meta(d.Meta)}
}

type roleDoc struct {
	ID           string    `bson:"_id"`
	ProjectID    string    `bson:"projectId"`
	Name         string    `bson:"name"`
	Description  string    `bson:"description"`
	AccessPolicy policyDoc `bson:"accessPolicy"`
	Meta         metaDoc   `bson:",inline"`
}

func toRoleDoc(r *iam.Role) *roleDoc {
	return &roleDoc{ID: r.ID, ProjectID: r.ProjectID, Name: r.Name, Description: r.Description, AccessPolicy: toPolicyDoc(r.AccessPolicy), Meta: metaDoc(r.Meta)}
}

func fromRoleDoc(d *roleDoc) *iam.Role {
	return &iam.Role{ID: d.ID, ProjectID: d.ProjectID, Name: d.Name, Description: d.Description, AccessPolicy: fromPolicyDoc(d.AccessPolicy), Meta: iam.Meta(d.Meta)}
}

type applicationDoc struct {
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
	AllowedLogoutURLs      []string `bson:"allowedLogoutUrls,omitempty"`
	AllowedWebOriginsURLs  []string `bson:"allowedWebOriginsUrls,omitempty"`
	LogoURI                string   `bson:"logoUri,omitempty"`
	RefreshTokenEnabled    bool     `bson:"refreshTokenEnabled,omitempty"`
	SecretHash             string   `bson:"secretHash,omitempty"`
	MFAEnabled             bool     `bson:"mfaEnabled,omitempty"`
	PasswordlessSMS        bool     `bson:"passwordlessSMS,omitempty"`
	Meta                   metaDoc  `bson:",inline"`
}

func toApplicationDoc(a *iam.Application) *applicationDoc {
	return &applicationDoc{ID: a.ID, ProjectID: a.ProjectID, Name: a.Name, ClientID: a.ClientID, Description: a.Description,
		LoginRedirectURI: a.LoginRedirectURI, LoginWithEmailEnabled: a.LoginWithEmailEnabled, AllowedCallbackURLs: a.AllowedCallbackURLs,
		AllowedCORSOriginsURLs: a.AllowedCORSOriginsURLs, ShouldSendInviteEmail: a.ShouldSendInviteEmail, SecretHash: a.SecretHash,
		AllowedLogoutURLs: a.AllowedLogoutURLs, AllowedWebOriginsURLs: a.AllowedWebOriginsURLs, LogoURI: a.LogoURI, RefreshTokenEnabled: a.RefreshTokenEnabled,
		MFAEnabled: a.MFAEnabled, PasswordlessSMS: a.PasswordlessSMS, Meta: metaDoc(a.Meta)}
}

func fromApplicationDoc(d *applicationDoc) *iam.Application {
	return &iam.Application{ID: d.ID, ProjectID: d.ProjectID, Name: d.Name, ClientID: d.ClientID, Description: d.Description,
		LoginRedirectURI: d.LoginRedirectURI, LoginWithEmailEnabled: d.LoginWithEmailEnabled, AllowedCallbackURLs: d.AllowedCallbackURLs,
		AllowedCORSOriginsURLs: d.AllowedCORSOriginsURLs, ShouldSendInviteEmail: d.ShouldSendInviteEmail, SecretHash: d.SecretHash,
		AllowedLogoutURLs: d.AllowedLogoutURLs, AllowedWebOriginsURLs: d.AllowedWebOriginsURLs, LogoURI: d.LogoURI, RefreshTokenEnabled: d.RefreshTokenEnabled,
		MFAEnabled: d.MFAEnabled, PasswordlessSMS: d.PasswordlessSMS, Meta: iam.Meta(d.Meta)}
}

type userDoc struct {
	ID                   string         `bson:"_id"`
	ProjectID            string         `bson:"projectId"`
	Name                 string         `bson:"name"`
	Email                string         `bson:"email"`
	PhoneNumber          string         `bson:"phoneNumber"`
	AuthenticationMethod string         `bson:"authenticationMethod"`
	Profile              string         `bson:"profile"`
	AccessPolicy         *policyDoc     `bson:"accessPolicy,omitempty"`
	RoleIDs              []string       `bson:"roleIds"`
	Status               iam.UserStatus `bson:"status"`
	ApplicationID        string         `bson:"applicationId"`
	PasswordHash         string         `bson:"passwordHash,omitempty"`
	LastSignInAt         *time.Time     `bson:"lastSignInAt,omitempty"`
	Invitation           *ticketDoc     `bson:"invitation,omitempty"`
	MFA                  *mfaDoc        `bson:"mfa,omitempty"`
	SSOSubject           string         `bson:"ssoSubject,omitempty"`
	SSOData              map[string]any `bson:"ssoData,omitempty"`
	Meta                 metaDoc        `bson:",inline"`
}

type mfaDoc struct {
	Secret           []byte     `bson:"secret,omitempty"`
	Pending          []byte     `bson:"pending,omitempty"`
	PendingExpiresAt time.Time  `bson:"pendingExpiresAt,omitempty"`
	LastStep         int64      `bson:"lastStep,omitempty"`
	RecoveryCodes    []string   `bson:"recoveryCodes,omitempty"`
	EnrolledAt       *time.Time `bson:"enrolledAt,omitempty"`
}

func toMFARef(m *iam.MFA) *mfaDoc {
	if m == nil {
		return nil
	}
	d := mfaDoc(*m)
	return &d
}

func fromMFARef(d *mfaDoc) *iam.MFA {
	if d == nil {
		return nil
	}
	m := iam.MFA(*d)
	return &m
}

func toUserDoc(u *iam.User) *userDoc {
	return &userDoc{ID: u.ID, ProjectID: u.ProjectID, Name: u.Name, Email: u.Email, PhoneNumber: u.PhoneNumber,
		AuthenticationMethod: u.AuthenticationMethod, Profile: u.Profile, AccessPolicy: toPolicyRef(u.AccessPolicy), RoleIDs: u.RoleIDs,
		Status: u.Status, ApplicationID: u.ApplicationID, PasswordHash: u.PasswordHash, LastSignInAt: u.LastSignInAt,
		Invitation: toTicketRef(u.Invitation), MFA: toMFARef(u.MFA), SSOSubject: u.SSOSubject, SSOData: u.SSOData, Meta: metaDoc(u.Meta)}
}

func fromUserDoc(d *userDoc) *iam.User {
	return &iam.User{ID: d.ID, ProjectID: d.ProjectID, Name: d.Name, Email: d.Email, PhoneNumber: d.PhoneNumber,
		AuthenticationMethod: d.AuthenticationMethod, Profile: d.Profile, AccessPolicy: fromPolicyRef(d.AccessPolicy), RoleIDs: d.RoleIDs,
		Status: d.Status, ApplicationID: d.ApplicationID, PasswordHash: d.PasswordHash, LastSignInAt: d.LastSignInAt,
		Invitation: fromTicketRef(d.Invitation), MFA: fromMFARef(d.MFA), SSOSubject: d.SSOSubject, SSOData: d.SSOData, Meta: iam.Meta(d.Meta)}
}

type profileDoc struct {
	ID           string         `bson:"_id"`
	ProjectID    string         `bson:"projectId"`
	ResourceType string         `bson:"resourceType"`
	Resource     map[string]any `bson:"resource"`
	Retired      bool           `bson:"retired,omitempty"`
	Meta         metaDoc        `bson:",inline"`
}

func toProfileDoc(p *iam.Profile) *profileDoc {
	return &profileDoc{ID: p.ID, ProjectID: p.ProjectID, ResourceType: p.ResourceType, Resource: p.Resource, Retired: p.Retired, Meta: metaDoc(p.Meta)}
}

func fromProfileDoc(d *profileDoc) *iam.Profile {
	resource, _ := plainJSON(d.Resource).(map[string]any)
	return &iam.Profile{ID: d.ID, ProjectID: d.ProjectID, ResourceType: d.ResourceType, Resource: resource, Retired: d.Retired, Meta: iam.Meta(d.Meta)}
}

type developerDoc struct {
	ID           string     `bson:"_id"`
	Email        string     `bson:"email"`
	Name         string     `bson:"name"`
	PasswordHash string     `bson:"passwordHash,omitempty"`
	LastSignInAt *time.Time `bson:"lastSignInAt,omitempty"`
	Meta         metaDoc    `bson:",inline"`
}

func toDeveloperDoc(d *iam.Developer) *developerDoc {
	return &developerDoc{ID: d.ID, Email: d.Email, Name: d.Name, PasswordHash: d.PasswordHash, LastSignInAt: d.LastSignInAt, Meta: metaDoc(d.Meta)}
}

func fromDeveloperDoc(d *developerDoc) *iam.Developer {
	return &iam.Developer{ID: d.ID, Email: d.Email, Name: d.Name, PasswordHash: d.PasswordHash, LastSignInAt: d.LastSignInAt, Meta: iam.Meta(d.Meta)}
}

type membershipDoc struct {
	ID           string     `bson:"_id"`
	ProjectID    string     `bson:"projectId"`
	DeveloperID  string     `bson:"developerId"`
	Email        string     `bson:"email"`
	Name         string     `bson:"name"`
	Profile      string     `bson:"profile"`
	AccessPolicy *policyDoc `bson:"accessPolicy,omitempty"`
	RoleIDs      []string   `bson:"roleIds"`
	Invitation   *ticketDoc `bson:"invitation,omitempty"`
	Meta         metaDoc    `bson:",inline"`
}

func toMembershipDoc(m *iam.Membership) *membershipDoc {
	return &membershipDoc{ID: m.ID, ProjectID: m.ProjectID, DeveloperID: m.DeveloperID, Email: m.Email, Name: m.Name, Profile: m.Profile,
		AccessPolicy: toPolicyRef(m.AccessPolicy), RoleIDs: m.RoleIDs, Invitation: toTicketRef(m.Invitation), Meta: metaDoc(m.Meta)}
}

func fromMembershipDoc(d *membershipDoc) *iam.Membership {
	return &iam.Membership{ID: d.ID, ProjectID: d.ProjectID, DeveloperID: d.DeveloperID, Email: d.Email, Name: d.Name, Profile: d.Profile,
		AccessPolicy: fromPolicyRef(d.AccessPolicy), RoleIDs: d.RoleIDs, Invitation: fromTicketRef(d.Invitation), Meta: iam.Meta(d.Meta)}
}

type m2mDoc struct {
	ID           string     `bson:"_id"`
	ProjectID    string     `bson:"projectId"`
	ClientID     string     `bson:"clientId"`
	Name         string     `bson:"name"`
	Description  string     `bson:"description"`
	Profile      string     `bson:"profile"`
	JWKSURL      string     `bson:"jwksUrl"`
	AccessPolicy *policyDoc `bson:"accessPolicy,omitempty"`
	RoleIDs      []string   `bson:"roleIds"`
	SecretHash   string     `bson:"secretHash,omitempty"`
	// SecretVersion is absent on clients written before it existed: 0.
	SecretVersion int64   `bson:"secretVersion,omitempty"`
	Meta          metaDoc `bson:",inline"`
}

func toM2MDoc(c *iam.M2MClient) *m2mDoc {
	return &m2mDoc{ID: c.ID, ProjectID: c.ProjectID, ClientID: c.ClientID, Name: c.Name, Description: c.Description, Profile: c.Profile,
		JWKSURL: c.JWKSURL, AccessPolicy: toPolicyRef(c.AccessPolicy), RoleIDs: c.RoleIDs, SecretHash: c.SecretHash, SecretVersion: c.SecretVersion, Meta: metaDoc(c.Meta)}
}

func fromM2MDoc(d *m2mDoc) *iam.M2MClient {
	return &iam.M2MClient{ID: d.ID, ProjectID: d.ProjectID, ClientID: d.ClientID, Name: d.Name, Description: d.Description, Profile: d.Profile,
		JWKSURL: d.JWKSURL, AccessPolicy: fromPolicyRef(d.AccessPolicy), RoleIDs: d.RoleIDs, SecretHash: d.SecretHash, SecretVersion: d.SecretVersion, Meta: iam.Meta(d.Meta)}
}

type auditDoc struct {
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
	Meta      metaDoc   `bson:",inline"`
}

func toAuditDoc(e *iam.AuditEvent) *auditDoc {
	return &auditDoc{ID: e.ID, ProjectID: e.ProjectID, Time: e.Time, ActorKind: e.ActorKind, ActorID: e.ActorID, Action: e.Action,
		Target: e.Target, TargetID: e.TargetID, Outcome: e.Outcome, RequestID: e.RequestID, Fields: e.Fields, Meta: metaDoc(e.Meta)}
}

func fromAuditDoc(d *auditDoc) *iam.AuditEvent {
	return &iam.AuditEvent{ID: d.ID, ProjectID: d.ProjectID, Time: d.Time, ActorKind: d.ActorKind, ActorID: d.ActorID, Action: d.Action,
		Target: d.Target, TargetID: d.TargetID, Outcome: d.Outcome, RequestID: d.RequestID, Fields: d.Fields, Meta: iam.Meta(d.Meta)}
}
