package store_test

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"atrium/access"
	"atrium/atriumtest"
	"atrium/iam"
	"atrium/store"
)

// Documents written before the store had document types of its own (the
// field names the entities' bson tags gave) still read, into the same
// entities, and a rewrite keeps exactly their field names. They are written
// as those releases did, in the shared layout, and the store opened on them
// afterwards moves them to its own (layout.go) before reading.
func TestReadsDocumentsWrittenBefore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	name := "legacy_" + uuid.NewString()[:8]
	opts := store.Options{URI: atriumtest.EngineURI(), Database: name}
	old, err := store.OpenShared(ctx, opts) // the indexes those releases made
	if err != nil {
		t.Fatal(err)
	}
	old.Close(ctx)
	client, err := mongo.Connect(options.Client().ApplyURI(atriumtest.EngineURI()))
	if err != nil {
		t.Fatal(err)
	}
	var (
		db *store.DB
		tn *store.Tenant
	)
	t.Cleanup(func() {
		if db != nil {
			_ = db.Drop(ctx)
			db.Close(ctx)
		}
		_ = client.Disconnect(ctx)
	})
	raw := client.Database(name)

	t0 := time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)
	t1 := t0.Add(7 * 24 * time.Hour)
	meta := bson.D{{Key: "createdAt", Value: t0}, {Key: "updatedAt", Value: t0}, {Key: "version", Value: int64(3)}}
	wantMeta := iam.Meta{CreatedAt: t0, UpdatedAt: t0, Version: 3}
	rule := bson.D{{Key: "rule", Value: bson.A{bson.D{{Key: "resource", Value: bson.A{"IAM:Role"}}, {Key: "action", Value: bson.A{"IAM:GetRole"}}, {Key: "effect", Value: "Allow"}}}}}
	policy := access.Policy{Rule: []access.Rule{{Resource: []string{"IAM:Role"}, Action: []string{"IAM:GetRole"}, Effect: access.Allow}}}
	ticket := bson.D{{Key: "hash", Value: "ticket-hash"}, {Key: "expiresAt", Value: t1}}
	doc := func(fields ...bson.E) bson.D { return append(bson.D(fields), meta...) }
	const p = "p1"

	cases := []struct {
		coll    string
		doc     bson.D
		read    func() (any, error)
		want    any
		rewrite func() error // writes the entity back through the store
	}{
		{"projects", doc(bson.E{Key: "_id", Value: p}, bson.E{Key: "name", Value: "Old"}, bson.E{Key: "description", Value: "d"},
			bson.E{Key: "signupEnabled", Value: true}, bson.E{Key: "sandbox", Value: false}, bson.E{Key: "defaultPatientRoleId", Value: "r1"},
			bson.E{Key: "fhirVersion", Value: "r4"}, bson.E{Key: "projectId", Value: p}),
			func() (any, error) { return tn.Project(ctx) },
			&iam.Project{ID: p, Name: "Old", Description: "d", SignupEnabled: true, DefaultPatientRoleID: "r1", FHIRVersion: iam.R4, Meta: wantMeta},
			func() error { _, err := tn.Projects().Update(ctx, p, 0, noChange); return err }},
		{"roles", doc(bson.E{Key: "_id", Value: "r1"}, bson.E{Key: "projectId", Value: p}, bson.E{Key: "name", Value: "Staff"},
			bson.E{Key: "description", Value: "d"}, bson.E{Key: "accessPolicy", Value: rule}),
			func() (any, error) { return tn.Roles().Get(ctx, "r1") },
			&iam.Role{ID: "r1", ProjectID: p, Name: "Staff", Description: "d", AccessPolicy: policy, Meta: wantMeta},
			func() error { _, err := tn.Roles().Update(ctx, "r1", 0, noChange); return err }},
		{"applications", doc(bson.E{Key: "_id", Value: "a1"}, bson.E{Key: "projectId", Value: p}, bson.E{Key: "name", Value: "EHR"},
			bson.E{Key: "clientId", Value: "c1"}, bson.E{Key: "description", Value: ""}, bson.E{Key: "loginRedirectUri", Value: "https://ehr.example.com/login"},
			bson.E{Key: "loginWithEmailEnabled", Value: true}, bson.E{Key: "allowedCallbackUrls", Value: bson.A{"https://ehr.example.com/cb"}},
			bson.E{Key: "allowedCORSOriginsUrls", Value: bson.A{"https://ehr.example.com"}}, bson.E{Key: "shouldSendInviteEmail", Value: true}),
			func() (any, error) { return db.Application(ctx, "a1") },
			&iam.Application{ID: "a1", ProjectID: p, Name: "EHR", ClientID: "c1", LoginRedirectURI: "https://ehr.example.com/login", LoginWithEmailEnabled: true,
				AllowedCallbackURLs: []string{"https://ehr.example.com/cb"}, AllowedCORSOriginsURLs: []string{"https://ehr.example.com"}, ShouldSendInviteEmail: true, Meta: wantMeta},
			func() error { _, err := tn.Applications().Update(ctx, "a1", 0, noChange); return err }},
		{"users", doc(bson.E{Key: "_id", Value: "u1"}, bson.E{Key: "projectId", Value: p}, bson.E{Key: "name", Value: "Jon"},
			bson.E{Key: "email", Value: "jon@example.com"}, bson.E{Key: "phoneNumber", Value: ""}, bson.E{Key: "authenticationMethod", Value: "email"},
			bson.E{Key: "profile", Value: "Patient/pr1"}, bson.E{Key: "accessPolicy", Value: rule}, bson.E{Key: "roleIds", Value: bson.A{"r1"}},
			bson.E{Key: "status", Value: "INVITED"}, bson.E{Key: "applicationId", Value: "a1"}, bson.E{Key: "passwordHash", Value: "pw-hash"},
			bson.E{Key: "lastSignInAt", Value: t0}, bson.E{Key: "invitation", Value: ticket}, bson.E{Key: "emailKey", Value: p + "/jon@example.com"}),
			func() (any, error) { return db.UserByInvitation(ctx, "ticket-hash", t0) },
			&iam.User{ID: "u1", ProjectID: p, Name: "Jon", Email: "jon@example.com", AuthenticationMethod: "email", Profile: "Patient/pr1",
				AccessPolicy: &policy, RoleIDs: []string{"r1"}, Status: iam.Invited, ApplicationID: "a1", PasswordHash: "pw-hash",
				LastSignInAt: &t0, Invitation: &iam.Ticket{Hash: "ticket-hash", ExpiresAt: t1}, Meta: wantMeta},
			func() error { _, err := tn.Users().Update(ctx, "u1", 0, noChange); return err }},
		{"profiles", doc(bson.E{Key: "_id", Value: "pr1"}, bson.E{Key: "projectId", Value: p}, bson.E{Key: "resourceType", Value: "Patient"},
			bson.E{Key: "resource", Value: bson.D{{Key: "resourceType", Value: "Patient"}, {Key: "id", Value: "pr1"}}}, bson.E{Key: "retired", Value: true}),
			func() (any, error) { return tn.Profiles().Get(ctx, "pr1") },
			&iam.Profile{ID: "pr1", ProjectID: p, ResourceType: "Patient", Resource: map[string]any{"resourceType": "Patient", "id": "pr1"}, Retired: true, Meta: wantMeta},
			func() error { _, err := tn.Profiles().Update(ctx, "pr1", 0, noChange); return err }},
		{"developers", doc(bson.E{Key: "_id", Value: "d1"}, bson.E{Key: "email", Value: "dev@example.com"}, bson.E{Key: "name", Value: "Dev"},
			bson.E{Key: "passwordHash", Value: "pw-hash"}, bson.E{Key: "lastSignInAt", Value: t0}),
			func() (any, error) { return db.Developers().ByEmail(ctx, "dev@example.com") },
			&iam.Developer{ID: "d1", Email: "dev@example.com", Name: "Dev", PasswordHash: "pw-hash", LastSignInAt: &t0, Meta: wantMeta},
			nil},
		{"memberships", doc(bson.E{Key: "_id", Value: p + "/d1"}, bson.E{Key: "projectId", Value: p}, bson.E{Key: "developerId", Value: "d1"},
			bson.E{Key: "email", Value: "dev@example.com"}, bson.E{Key: "name", Value: "Dev"}, bson.E{Key: "profile", Value: "Practitioner/x"},
			bson.E{Key: "accessPolicy", Value: rule}, bson.E{Key: "roleIds", Value: bson.A{}}, bson.E{Key: "invitation", Value: ticket}),
			func() (any, error) { return tn.Memberships().Get(ctx, p+"/d1") },
			&iam.Membership{ID: p + "/d1", ProjectID: p, DeveloperID: "d1", Email: "dev@example.com", Name: "Dev", Profile: "Practitioner/x",
				AccessPolicy: &policy, RoleIDs: []string{}, Invitation: &iam.Ticket{Hash: "ticket-hash", ExpiresAt: t1}, Meta: wantMeta},
			func() error { _, err := tn.Memberships().Update(ctx, p+"/d1", 0, noChange); return err }},
		{"m2mClients", doc(bson.E{Key: "_id", Value: "m1"}, bson.E{Key: "projectId", Value: p}, bson.E{Key: "clientId", Value: "mc1"},
			bson.E{Key: "name", Value: "Backend"}, bson.E{Key: "description", Value: ""}, bson.E{Key: "profile", Value: "Device/x"},
			bson.E{Key: "jwksUrl", Value: "https://example.com/jwks"}, bson.E{Key: "accessPolicy", Value: rule}, bson.E{Key: "roleIds", Value: bson.A{"r1"}},
			bson.E{Key: "secretHash", Value: "secret-hash"}),
			func() (any, error) { return db.M2MClientByClientID(ctx, "mc1") },
			&iam.M2MClient{ID: "m1", ProjectID: p, ClientID: "mc1", Name: "Backend", Profile: "Device/x", JWKSURL: "https://example.com/jwks",
				AccessPolicy: &policy, RoleIDs: []string{"r1"}, SecretHash: "secret-hash", Meta: wantMeta},
			func() error { _, err := tn.M2MClients().Update(ctx, "m1", 0, noChange); return err }},
		{"auditEvents", doc(bson.E{Key: "_id", Value: "e1"}, bson.E{Key: "projectId", Value: p}, bson.E{Key: "time", Value: t0},
			bson.E{Key: "actorKind", Value: "USER"}, bson.E{Key: "actorId", Value: "u1"}, bson.E{Key: "action", Value: "IAM:CreateRole"},
			bson.E{Key: "target", Value: "Role"}, bson.E{Key: "targetId", Value: "r1"}, bson.E{Key: "outcome", Value: "success"},
			bson.E{Key: "requestId", Value: "req-1"}, bson.E{Key: "fields", Value: bson.A{"name"}}),
			func() (any, error) {
				events, _, err := tn.ListAuditEvents(ctx, iam.AuditFilter{}, store.Page{Limit: 10})
				if len(events) != 1 {
					return events, err
				}
				return &events[0], err
			},
			&iam.AuditEvent{ID: "e1", ProjectID: p, Time: t0, ActorKind: "USER", ActorID: "u1", Action: "IAM:CreateRole", Target: "Role",
				TargetID: "r1", Outcome: "success", RequestID: "req-1", Fields: []string{"name"}, Meta: wantMeta},
			func() error { _, err := tn.AuditEvents().Update(ctx, "e1", 0, noChange); return err }},
	}
	for _, tc := range cases {
		if _, err := raw.Collection(tc.coll).InsertOne(ctx, tc.doc); err != nil {
			t.Fatal(err)
		}
	}
	if db, err = store.Open(ctx, opts); err != nil {
		t.Fatal(err)
	}
	tn = db.Tenant(p)
	for _, tc := range cases {
		t.Run(tc.coll, func(t *testing.T) {
			got, err := tc.read()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("read back\n got %+v\nwant %+v", got, tc.want)
			}
			if tc.rewrite == nil {
				return
			}
			if err := tc.rewrite(); err != nil {
				t.Fatal(err)
			}
			var after bson.D
			id := tc.doc[0].Value
			if err := raw.Collection(store.CollectionName(db, tc.coll, p)).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&after); err != nil {
				t.Fatal(err)
			}
			if before, now := keys(tc.doc), keys(after); !slices.Equal(before, now) {
				t.Errorf("the rewritten document has the fields\n%q, it had\n%q", now, before)
			}
		})
	}
}

func noChange[T any](*T) error { return nil }

func keys(d bson.D) []string {
	var out []string
	for _, e := range d {
		out = append(out, e.Key)
	}
	slices.Sort(out)
	return out
}
