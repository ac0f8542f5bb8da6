package store

// The documents of the OpenID provider: authorization requests, grants
// (with their refresh-token family) and browser sessions. They grow with a
// project's users, so the embedded engine keeps them in a collection per
// project (layout.go); each is read by its _id, except an authorization
// request found by its code's hash and the grants and sessions of one user,
// which have indexes that start with projectId.

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"atrium/iam"
)

// Collection names.
const (
	authRequestsColl = "authRequests"
	grantsColl       = "grants"
	sessionsColl     = "sessions"
)

type authRequestDoc struct {
	ID                  string    `bson:"_id"`
	ProjectID           string    `bson:"projectId"`
	ClientID            string    `bson:"clientId"`
	RedirectURI         string    `bson:"redirectUri"`
	State               string    `bson:"state,omitempty"`
	Nonce               string    `bson:"nonce,omitempty"`
	ResponseType        string    `bson:"responseType"`
	ResponseMode        string    `bson:"responseMode,omitempty"`
	Scopes              []string  `bson:"scopes"`
	CodeChallenge       string    `bson:"codeChallenge,omitempty"`
	CodeChallengeMethod string    `bson:"codeChallengeMethod,omitempty"`
	Prompt              []string  `bson:"prompt,omitempty"`
	MaxAge              *int64    `bson:"maxAge,omitempty"`
	LoginHint           string    `bson:"loginHint,omitempty"`
	UserID              string    `bson:"userId,omitempty"`
	AuthTime            time.Time `bson:"authTime,omitempty"`
	AMR                 []string  `bson:"amr,omitempty"`
	SessionID           string    `bson:"sessionId,omitempty"`
	CodeHash            string    `bson:"codeHash,omitempty"`
	Redeemed            bool      `bson:"redeemed,omitempty"`
	GrantID             string    `bson:"grantId,omitempty"`
	ExpiresAt           time.Time `bson:"expiresAt"`
	Meta                metaDoc   `bson:",inline"`
}

func toAuthRequestDoc(a *iam.AuthRequest) *authRequestDoc {
	return &authRequestDoc{ID: a.ID, ProjectID: a.ProjectID, ClientID: a.ClientID, RedirectURI: a.RedirectURI, State: a.State, Nonce: a.Nonce,
		ResponseType: a.ResponseType, ResponseMode: a.ResponseMode, Scopes: a.Scopes, CodeChallenge: a.CodeChallenge,
		CodeChallengeMethod: a.CodeChallengeMethod, Prompt: a.Prompt, MaxAge: a.MaxAge, LoginHint: a.LoginHint, UserID: a.UserID,
		AuthTime: a.AuthTime, AMR: a.AMR, SessionID: a.SessionID, CodeHash: a.CodeHash, Redeemed: a.Redeemed, GrantID: a.GrantID,
		ExpiresAt: a.ExpiresAt, Meta: metaDoc(a.Meta)}
}

func fromAuthRequestDoc(d *authRequestDoc) *iam.AuthRequest {
	return &iam.AuthRequest{ID: d.ID, ProjectID: d.ProjectID, ClientID: d.ClientID, RedirectURI: d.RedirectURI, State: d.State, Nonce: d.Nonce,
		ResponseType: d.ResponseType, ResponseMode: d.ResponseMode, Scopes: d.Scopes, CodeChallenge: d.CodeChallenge,
		CodeChallengeMethod: d.CodeChallengeMethod, Prompt: d.Prompt, MaxAge: d.MaxAge, LoginHint: d.LoginHint, UserID: d.UserID,
		AuthTime: d.AuthTime, AMR: d.AMR, SessionID: d.SessionID, CodeHash: d.CodeHash, Redeemed: d.Redeemed, GrantID: d.GrantID,
		ExpiresAt: d.ExpiresAt, Meta: iam.Meta(d.Meta)}
}

type grantDoc struct {
	ID          string    `bson:"_id"`
	ProjectID   string    `bson:"projectId"`
	ClientID    string    `bson:"clientId"`
	UserID      string    `bson:"userId"`
	Scopes      []string  `bson:"scopes"`
	AuthTime    time.Time `bson:"authTime"`
	AMR         []string  `bson:"amr,omitempty"`
	SessionID   string    `bson:"sessionId,omitempty"`
	RefreshHash string    `bson:"refreshHash,omitempty"`
	Revoked     bool      `bson:"revoked"`
	ExpiresAt   time.Time `bson:"expiresAt"`
	Meta        metaDoc   `bson:",inline"`
}

func toGrantDoc(g *iam.Grant) *grantDoc {
	return &grantDoc{ID: g.ID, ProjectID: g.ProjectID, ClientID: g.ClientID, UserID: g.UserID, Scopes: g.Scopes, AuthTime: g.AuthTime,
		AMR: g.AMR, SessionID: g.SessionID, RefreshHash: g.RefreshHash, Revoked: g.Revoked, ExpiresAt: g.ExpiresAt, Meta: metaDoc(g.Meta)}
}

func fromGrantDoc(d *grantDoc) *iam.Grant {
	return &iam.Grant{ID: d.ID, ProjectID: d.ProjectID, ClientID: d.ClientID, UserID: d.UserID, Scopes: d.Scopes, AuthTime: d.AuthTime,
		AMR: d.AMR, SessionID: d.SessionID, RefreshHash: d.RefreshHash, Revoked: d.Revoked, ExpiresAt: d.ExpiresAt, Meta: iam.Meta(d.Meta)}
}

type sessionDoc struct {
	ID         string    `bson:"_id"`
	ProjectID  string    `bson:"projectId"`
	UserID     string    `bson:"userId"`
	SecretHash string    `bson:"secretHash"`
	AuthTime   time.Time `bson:"authTime"`
	AMR        []string  `bson:"amr,omitempty"`
	Ended      bool      `bson:"ended"`
	ExpiresAt  time.Time `bson:"expiresAt"`
	Meta       metaDoc   `bson:",inline"`
}

func toSessionDoc(s *iam.BrowserSession) *sessionDoc {
	return &sessionDoc{ID: s.ID, ProjectID: s.ProjectID, UserID: s.UserID, SecretHash: s.SecretHash, AuthTime: s.AuthTime, AMR: s.AMR,
		Ended: s.Ended, ExpiresAt: s.ExpiresAt, Meta: metaDoc(s.Meta)}
}

func fromSessionDoc(d *sessionDoc) *iam.BrowserSession {
	return &iam.BrowserSession{ID: d.ID, ProjectID: d.ProjectID, UserID: d.UserID, SecretHash: d.SecretHash, AuthTime: d.AuthTime, AMR: d.AMR,
		Ended: d.Ended, ExpiresAt: d.ExpiresAt, Meta: iam.Meta(d.Meta)}
}

var (
	authRequestCodec = codec[iam.AuthRequest, authRequestDoc]{toAuthRequestDoc, fromAuthRequestDoc, func(v *iam.AuthRequest) *iam.Meta { return &v.Meta }}
	grantCodec       = codec[iam.Grant, grantDoc]{toGrantDoc, fromGrantDoc, func(v *iam.Grant) *iam.Meta { return &v.Meta }}
	sessionCodec     = codec[iam.BrowserSession, sessionDoc]{toSessionDoc, fromSessionDoc, func(v *iam.BrowserSession) *iam.Meta { return &v.Meta }}
)

// AuthRequests of this tenant.
func (t *Tenant) AuthRequests() Repo[iam.AuthRequest, authRequestDoc] {
	return repo(t, authRequestsColl, authRequestCodec)
}

// Grants of this tenant.
func (t *Tenant) Grants() Repo[iam.Grant, grantDoc] { return repo(t, grantsColl, grantCodec) }

// BrowserSessions of this tenant.
func (t *Tenant) BrowserSessions() Repo[iam.BrowserSession, sessionDoc] {
	return repo(t, sessionsColl, sessionCodec)
}

// AuthRequestByCodeHash finds the authorization request whose code has the
// hash, or ErrNotFound.
func (t *Tenant) AuthRequestByCodeHash(ctx context.Context, hash string) (*iam.AuthRequest, error) {
	var d authRequestDoc
	if err := t.collection(authRequestsColl).findOne(ctx, bson.D{{Key: "codeHash", Value: hash}}, &d); err != nil {
		return nil, err
	}
	return fromAuthRequestDoc(&d), nil
}

// EndUserLogins revokes every grant and ends every browser session of a
// user, at once: the user was disabled or deleted.
func (t *Tenant) EndUserLogins(ctx context.Context, userID string) error {
	set := func(field string) bson.D {
		return bson.D{{Key: "$set", Value: bson.D{{Key: field, Value: true}, {Key: "updatedAt", Value: now()}}}, {Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}}
	}
	g := t.collection(grantsColl)
	if _, err := g.c.UpdateMany(ctx, g.where(bson.D{{Key: "userId", Value: userID}, {Key: "revoked", Value: false}}), set("revoked")); err != nil {
		return err
	}
	s := t.collection(sessionsColl)
	_, err := s.c.UpdateMany(ctx, s.where(bson.D{{Key: "userId", Value: userID}, {Key: "ended", Value: false}}), set("ended"))
	return err
}

// SweepOpenID deletes, in every project, the authorization requests that
// expired before requestsBefore and the grants, browser sessions and SSO
// flows (ssoflow.go) that expired before now (the embedded engine has no
// TTL indexes). On the embedded engine it visits each project's collection
// of those kinds.
func (d *DB) SweepOpenID(ctx context.Context, now, requestsBefore time.Time) (int64, error) {
	var n int64
	for kind, before := range map[string]time.Time{authRequestsColl: requestsBefore, grantsColl: now, sessionsColl: now, ssoFlowsColl: now} {
		names := []string{kind}
		if d.split {
			var err error
			names, err = d.db.ListCollectionNames(ctx, bson.D{{Key: "name", Value: bson.D{{Key: "$regex", Value: "^" + kind + `\.`}}}})
			if err != nil {
				return n, err
			}
		}
		for _, name := range names {
			deleted, err := deleteExpired(ctx, d.db.Collection(name), before)
			n += deleted
			if err != nil {
				return n, err
			}
		}
	}
	return n, nil
}
