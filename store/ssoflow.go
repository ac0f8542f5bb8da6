package store

// The SSO flows in progress (iam.SSOFlow): written when a browser leaves
// for the upstream identity provider, read by _id (the hash of the state)
// when it comes back, and deleted by that use, so each works once. They
// grow with sign-ins, so the embedded engine keeps them per project
// (layout.go); the sweep (SweepOpenID) removes the ones never used.

import (
	"time"

	"atrium/iam"
)

const ssoFlowsColl = "ssoFlows"

type ssoFlowDoc struct {
	ID            string    `bson:"_id"`
	ProjectID     string    `bson:"projectId"`
	ConnectionID  string    `bson:"connectionId"`
	AuthRequestID string    `bson:"authRequestId"`
	Nonce         string    `bson:"nonce"`
	CodeVerifier  string    `bson:"codeVerifier"`
	BrowserHash   string    `bson:"browserHash"`
	ExpiresAt     time.Time `bson:"expiresAt"`
	Meta          metaDoc   `bson:",inline"`
}

func toSSOFlowDoc(f *iam.SSOFlow) *ssoFlowDoc {
	return &ssoFlowDoc{ID: f.ID, ProjectID: f.ProjectID, ConnectionID: f.ConnectionID, AuthRequestID: f.AuthRequestID, Nonce: f.Nonce,
		CodeVerifier: f.CodeVerifier, BrowserHash: f.BrowserHash, ExpiresAt: f.ExpiresAt, Meta: metaDoc(f.Meta)}
}

func fromSSOFlowDoc(d *ssoFlowDoc) *iam.SSOFlow {
	return &iam.SSOFlow{ID: d.ID, ProjectID: d.ProjectID, ConnectionID: d.ConnectionID, AuthRequestID: d.AuthRequestID, Nonce: d.Nonce,
		CodeVerifier: d.CodeVerifier, BrowserHash: d.BrowserHash, ExpiresAt: d.ExpiresAt, Meta: iam.Meta(d.Meta)}
}

var ssoFlowCodec = codec[iam.SSOFlow, ssoFlowDoc]{toSSOFlowDoc, fromSSOFlowDoc, func(v *iam.SSOFlow) *iam.Meta { return &v.Meta }}

// SSOFlows of this tenant.
func (t *Tenant) SSOFlows() Repo[iam.SSOFlow, ssoFlowDoc] { return repo(t, ssoFlowsColl, ssoFlowCodec) }
