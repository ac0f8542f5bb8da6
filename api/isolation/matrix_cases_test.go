package isolation_test

import (
	"encoding/json"
	"testing"

	"atrium/atriumtest"
)

// The entries of the isolation matrix that the synthesiser cannot derive
// from the schema (see TestIsolationMatrix). Everything else is derived
// from the introspected types: ID arguments and input fields name an entity
// by their name (role*, application*, user*, developer*, m2m*; "id" by the
// operation's name), String fields named profile hold B's user's profile
// reference, the email and name fields of a *Filter hold B's email or name,
// and required scalars get plausible values.

type matrixCase struct {
	note string
	// slots names the entity of an ID field whose name does not tell it.
	slots map[string]string
	// attrs names the value of B's entity a slot holds, when not its id
	// (e.g. globalId).
	attrs map[string]string
	// alsoAs tries a slot with each of these entities too, one variant each.
	alsoAs map[string][]string
	// fill gives values to fields by path (list elements are "[]").
	fill map[string]func(*matrixEnv) any
	// exclusive is the path prefix of slots of which only one may be given
	// at a time: their per-slot variants leave the others out.
	exclusive string
	// want overrides the expected answer (ok false: use the generic rule).
	want func(p *matrixPrincipal, v *matrixVariant) (matrixWant, bool)
	// check makes extra checks of a call's answer.
	check func(t *testing.T, where string, v *matrixVariant, r *atriumtest.Response)
	// operatorSeesAll: the operator legitimately sees every project here.
	operatorSeesAll bool
	// newProject: the answer may name a project that did not exist before.
	newProject bool
}

var matrixCases = map[string]matrixCase{
	"revokeAccessToken": {
		note:  "input.id is the application the token was issued to; the token names nothing",
		slots: map[string]string{"input.id": entityApp},
		fill:  map[string]func(*matrixEnv) any{"input.token": func(*matrixEnv) any { return "not-an-access-token" }},
	},
	"revokeRefreshToken": {
		note:  "input.id is the application the token was issued to; the token names nothing",
		slots: map[string]string{"input.id": entityApp},
		fill:  map[string]func(*matrixEnv) any{"input.token": func(*matrixEnv) any { return "00000000-0000-4000-8000-000000000000.not-a-secret" }},
	},
	"projects": {
		note:            "the operator sees every project (B too); every other principal only its own",
		operatorSeesAll: true,
	},
	"auditEvents": {
		note:  "filter.actorId / filter.targetId are ids of any kind: probe with B's user and role",
		slots: map[string]string{"filter.actorId": entityUser, "filter.targetId": entityRole},
	},
	"createProject": {
		note:       "creates a new project (allowed to developers and the operator); it must hold nothing of B",
		newProject: true,
	},
	"inviteUser": {
		note: "an email is needed to reach the reference checks",
		fill: map[string]func(*matrixEnv) any{"input.email": (*matrixEnv).freshEmail},
	},
	"inviteUsers": {
		note: "rows fail on their own: the call succeeds and each row must be NOT_FOUND",
		fill: map[string]func(*matrixEnv) any{"input[].email": (*matrixEnv).freshEmail},
		want: func(p *matrixPrincipal, v *matrixVariant) (matrixWant, bool) { return matrixWant{}, true },
		check: func(t *testing.T, where string, v *matrixVariant, r *atriumtest.Response) {
			t.Helper()
			var out struct {
				InviteUsers struct {
					Results []struct {
						User          any
						InvitationURL *string
						Error         *struct{ Code, Field string }
					}
				}
			}
			if err := json.Unmarshal(r.Data, &out); err != nil || len(out.InviteUsers.Results) != 1 {
				t.Errorf("%s: want one result row, got %s (%v)", where, r.Data, err)
				return
			}
			row := out.InviteUsers.Results[0]
			if row.User != nil || row.InvitationURL != nil || row.Error == nil || row.Error.Code != "NOT_FOUND" {
				t.Errorf("%s: want a NOT_FOUND row and no user, got %s", where, r.Data)
				return
			}
			if len(v.bRefs) == 1 {
				if want := errorFieldOf(v.bRefs[0]); row.Error.Field != want {
					t.Errorf("%s: row error names field %q, want %q", where, row.Error.Field, want)
				}
			}
		},
	},
	"checkAccess": {
		note:      "exactly one principal id: each of B's ids is tried alone",
		exclusive: "input.principal.",
		want: func(p *matrixPrincipal, v *matrixVariant) (matrixWant, bool) {
			if v.name == "allB" {
				return matrixWant{code: "BAD_USER_INPUT", field: "input.principal"}, true
			}
			return matrixWant{}, false
		},
	},
	"node": {
		note:  "a global id of each of B's entities: NOT_FOUND, naming the global id only",
		slots: map[string]string{"id": entityUser}, attrs: map[string]string{"id": "globalId"},
		alsoAs: map[string][]string{"id": {entityRole, entityApp, entityDev, entityM2M}},
		want: func(p *matrixPrincipal, v *matrixVariant) (matrixWant, bool) {
			return matrixWant{code: "NOT_FOUND", field: "id"}, true
		},
	},
	"nodes": {
		note:  "B's entities by global id: each one null, with NOT_FOUND at its index",
		slots: map[string]string{"ids": entityUser}, attrs: map[string]string{"ids": "globalId"},
		alsoAs: map[string][]string{"ids": {entityRole, entityApp, entityDev, entityM2M}},
		want: func(p *matrixPrincipal, v *matrixVariant) (matrixWant, bool) {
			return matrixWant{code: "NOT_FOUND", field: "ids[0]"}, true
		},
	},
	"signIn": {
		note: "public, finds the application in any project: B's user's email with a wrong password must fail as any wrong password",
		fill: map[string]func(*matrixEnv) any{"input.email": func(e *matrixEnv) any { return e.bVal[entityUser]["email"] }},
		want: wantCode("UNAUTHENTICATED"),
	},
	"signUp": {
		note: "public: B does not allow self-registration, so B's application refuses (and creates nothing in B)",
		want: wantCode("FORBIDDEN"),
	},
	"acceptInvitation": {
		note: "public: a made-up ticket finds nothing",
		want: wantCode("NOT_FOUND"),
	},
	"startSignIn": {
		note: "public, as signIn, whose throttle it shares (signIn's case spends B's user's attempts): B's application with a fresh email",
		fill: map[string]func(*matrixEnv) any{"input.email": (*matrixEnv).freshEmail},
		want: wantCode("UNAUTHENTICATED"),
	},
	"beginTotpEnrolment":   loginStepCase,
	"confirmTotpEnrolment": loginStepCase,
	"verifyTotp":           loginStepCase,
	"useRecoveryCode":      loginStepCase,
	"startSmsSignIn": {
		note: "public: B's application does not allow SMS sign-in",
		fill: map[string]func(*matrixEnv) any{"input.phoneNumber": func(*matrixEnv) any { return "+15555550999" }},
		want: wantCode("FORBIDDEN"),
	},
	"verifySmsSignIn": {
		note: "public: B's application does not allow SMS sign-in",
		fill: map[string]func(*matrixEnv) any{"input.phoneNumber": func(*matrixEnv) any { return "+15555550999" }, "input.code": func(*matrixEnv) any { return "123456" }},
		want: wantCode("FORBIDDEN"),
	},
	"createSSOConnection": {
		note: "creates a connection in A: a fresh name and an https issuer",
		fill: map[string]func(*matrixEnv) any{"input.name": (*matrixEnv).freshName, "input.issuer": func(*matrixEnv) any { return "https://iso-idp.example.com" },
			"input.clientId": func(*matrixEnv) any { return "iso-client" }},
	},
	"signInDeveloper": {
		note: "public: B's developer's email with a wrong password must fail as any wrong password",
		fill: map[string]func(*matrixEnv) any{"input.email": func(e *matrixEnv) any { return e.bVal[entityDev]["email"] }},
		want: wantCode("UNAUTHENTICATED"),
	},
}

// loginStepCase is a step after the first factor: a made-up login state
// proves nothing, whoever calls.
var loginStepCase = matrixCase{
	note: "public: a made-up login state is refused",
	fill: map[string]func(*matrixEnv) any{"input.state": func(*matrixEnv) any { return "made-up-state" }, "input.code": func(*matrixEnv) any { return "123456" }},
	want: wantCode("UNAUTHENTICATED"),
}

func wantCode(code string) func(*matrixPrincipal, *matrixVariant) (matrixWant, bool) {
	return func(*matrixPrincipal, *matrixVariant) (matrixWant, bool) { return matrixWant{code: code}, true }
}
