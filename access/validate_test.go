package access

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// l builds a string list tersely.
func l(s ...string) []string { return s }

func allow(res, act []string, cond ...string) Rule {
	return Rule{Resource: res, Action: act, Effect: Allow, Condition: cond}
}

func TestValidateValid(t *testing.T) {
	tests := []struct {
		name string
		rule Rule
	}{
		{"everything", allow(l("*"), l("*"))},
		{"deny everything", Rule{Resource: l("*"), Action: l("*"), Effect: Deny}},
		{"wildcard spellings", allow(l("*", "*:*", "*:*:*", "FHIR", "FHIR:*", "FHIR:*:*"), l("*"))},
		{"fhir types and ids", allow(l("FHIR:Patient", "FHIR:Patient:*", "FHIR:Patient:ac3b0b2e-1f7e-4c7e-9b1a-2f0a1e3d4c5b"), l("FHIR:Read", "FHIR:Search", "FHIR:History"))},
		{"zambda ids are names", allow(l("Zambda:Function:get-patients", "Zambda:Secret", "Zambda:Secret:MY_SECRET.v2"), l("Zambda:*"))},
		{"z3 paths", allow(l("Z3", "Z3:*", "Z3:p1-insurance-cards/*", "Z3:bucket/folder/file.pdf", "Z3:#{var/PROJECT_ID}-labs/*", "Z3:a:b"), l("Z3:GetObject", "Z3:PutObject"))},
		{"service wildcard action", allow(l("Lab:*", "Lab:Order:1"), l("Lab:*"))},
		{"unknown services are accepted", allow(l("Acme:Widget:1"), l("Acme:Frobnicate"))},
		{"erx lower-case service", allow(l("eRx:Medication:1"), l("eRx:SearchMedication"))},
		{"concrete action on every resource", allow(l("*"), l("Messaging:SendTransactionalSMS"))},
		{"project settings", allow(l("Project:Settings", "Project:Settings:*", "Project", "Project:*"), l("Project:GetProjectInfo", "Project:UpdateProjectInfo", "Project:ListAllUsers", "Project:ListAuditEvents"))},
		{"app types", allow(l("App:User:u1", "App:User"), l("App:GetUser", "App:UpdateUser", "App:DeleteUser", "App:ResetUserMFA", "App:GetUserPasswordResetLink"))},
		{"applications", allow(l("App:Application:a1"), l("App:GetApplication", "App:RotateApplicationSecret", "App:RevokeAccessToken", "App:RevokeRefreshToken"))},
		{"iam wildcard on one role", allow(l("IAM:Role:r1"), l("IAM:*"))},
		{"m2m both spellings", allow(l("IAM:M2MClient:m1", "IAM:M2MClient"), l("App:GetM2MClient", "IAM:GetM2MClient", "App:RotateM2MClientSecret", "IAM:DeleteM2MClient"))},
		{"type-wide on type", allow(l("App:User"), l("App:CreateUser", "App:ListAllUsers"))},
		{"type-wide on type wildcard", allow(l("App:User:*", "App", "App:*", "*"), l("App:CreateUser"))},
		{"type-wide m2m", allow(l("IAM:M2MClient:*"), l("IAM:ListAllM2MClients", "IAM:GetM2MClient", "App:CreateM2MClient"))},
		{"type-wide iam", allow(l("IAM:Role"), l("IAM:CreateRole", "IAM:ListAllRoles", "IAM:SimulateAccess"))},
		{"developers", allow(l("IAM:Developer"), l("IAM:InviteDeveloper", "IAM:ListAllDevelopers", "IAM:GetDeveloper"))},
		{"condition", allow(l("FHIR:Patient:*"), l("FHIR:Read"), "name=Smith")},
		{"condition without star", allow(l("FHIR:Patient"), l("FHIR:Read", "FHIR:Search"), "?name=Smith")},
		{"condition with own type", allow(l("FHIR:Patient"), l("*"), "Patient?name=Smith&birthdate=ge2000-01-01")},
		{"condition modifiers and chains", allow(l("FHIR:Encounter"), l("FHIR:*"), "subject:Patient.name:exact=J%C3%B6rg&_lastUpdated=gt2024&&", "_id=1,2")},
		{"many entries at the limit", allow(make100("FHIR:Patient:"), l("FHIR:Read"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Validate(Policy{Rule: []Rule{tt.rule}}); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
	if err := Validate(Policy{}); err != nil {
		t.Errorf("empty policy: %v", err)
	}
}

func make100(prefix string) []string {
	out := make([]string, maxEntries)
	for i := range out {
		out[i] = fmt.Sprint(prefix, i)
	}
	return out
}

func TestValidateInvalid(t *testing.T) {
	long := strings.Repeat("a", maxResourceLen)
	tests := []struct {
		name  string
		rule  Rule
		field string
		msg   string // must appear in Error()
	}{
		// resource grammar
		{"no resources", allow(nil, l("*")), "resource", "resource: at least one is required"},
		{"too many resources", allow(append(make100("FHIR:Patient:"), "FHIR"), l("*")), "resource", "101 entries; at most 100"},
		{"empty resource", allow(l(""), l("*")), "resource", `resource "": is empty`},
		{"concrete after wildcard", allow(l("FHIR:*:123"), l("*")), "resource", `resource "FHIR:*:123": segment "123" follows a wildcard`},
		{"type after service wildcard", allow(l("*:Patient"), l("*")), "resource", `segment "Patient" follows a wildcard`},
		{"four segments", allow(l("FHIR:Patient:1:2"), l("*")), "resource", "more than 3 segments"},
		{"empty middle segment", allow(l("FHIR::1"), l("*")), "resource", `resource "FHIR::1": has an empty segment`},
		{"empty last segment", allow(l("FHIR:Patient:"), l("*")), "resource", "empty segment"},
		{"leading colon", allow(l(":Patient"), l("*")), "resource", "empty segment"},
		{"space in type", allow(l("FHIR:Pat ient"), l("*")), "resource", `type "Pat ient" must be letters and digits`},
		{"bad service", allow(l("F-HIR:Patient"), l("*")), "resource", `service "F-HIR"`},
		{"space in id", allow(l("FHIR:Patient:a b"), l("*")), "resource", `id "a b" contains ' '`},
		{"partial wildcard id", allow(l("Zambda:Function:get-*"), l("*")), "resource", `contains '*'`},
		{"control char", allow(l("FHIR:Patient:a\x00"), l("*")), "resource", `contains '\x00'`},
		{"non-ascii id", allow(l("FHIR:Patient:é"), l("*")), "resource", "printable ASCII"},
		{"too long", allow(l("FHIR:Patient:"+long), l("*")), "resource", "longer than 256"},
		{"empty z3 path", allow(l("Z3:"), l("*")), "resource", "empty Z3 path"},
		{"z3 inner wildcard", allow(l("Z3:bucket/*/x"), l("*")), "resource", `Z3 path "bucket/*/x" contains '*'`},
		{"z3 space", allow(l("Z3:my bucket/*"), l("*")), "resource", `contains ' '`},
		{"unknown app type", allow(l("App:Foo"), l("*")), "resource", `resource "App:Foo": unknown resource type "Foo" of service App (known: App:User, App:Application)`},
		{"unknown iam type", allow(l("IAM:User:1"), l("*")), "resource", `unknown resource type "User" of service IAM`},
		{"project settings id", allow(l("Project:Settings:p1"), l("*")), "resource", `resource "Project:Settings:p1": Project:Settings has no id segment`},
		{"miscased service", allow(l("fhir:Patient"), l("*")), "resource", `service "fhir" is spelled "FHIR"`},

		// action grammar
		{"no actions", allow(l("*"), nil), "action", "action: at least one is required"},
		{"too many actions", allow(l("*"), append(make100("FHIR:Read"), "FHIR:Read")), "action", "at most 100"},
		{"empty action", allow(l("*"), l("")), "action", `action "": is empty`},
		{"service only", allow(l("*"), l("FHIR")), "action", `action "FHIR": must be "*", "Service:*" or "Service:ActionName"`},
		{"three segments", allow(l("*"), l("FHIR:Read:Patient")), "action", "must be"},
		{"not pascal case", allow(l("*"), l("FHIR:read")), "action", `action name "read" must be PascalCase`},
		{"wildcard service", allow(l("*"), l("*:Read")), "action", `service "*"`},
		{"partial wildcard", allow(l("*"), l("FHIR:Get*")), "action", "PascalCase"},
		{"too long action", allow(l("*"), l("FHIR:"+strings.Repeat("A", maxActionLen))), "action", "longer than 128"},
		{"unknown iam action", allow(l("*"), l("IAM:CreateRol")), "action", `action "IAM:CreateRol": unknown action of service IAM`},
		{"unknown project action", allow(l("*"), l("Project:DeleteProject")), "action", "unknown action of service Project"},
		{"miscased action service", allow(l("*"), l("iam:CreateRole")), "action", `service "iam" is spelled "IAM"`},

		// effect
		{"lower-case effect", Rule{Resource: l("*"), Action: l("*"), Effect: "allow"}, "effect", `effect "allow": must be exactly "Allow" or "Deny"`},
		{"missing effect", Rule{Resource: l("*"), Action: l("*")}, "effect", `effect ""`},

		// action applies to resource
		{"iam action on app resource", allow(l("App:User"), l("IAM:CreateRole")), "action", `action "IAM:CreateRole" does not apply to resource "App:User": it applies to IAM:Role`},
		{"fhir action on app resource", allow(l("App:User:*"), l("FHIR:Read")), "action", "it applies only to resources of service FHIR"},
		{"service wildcard elsewhere", allow(l("FHIR:Patient"), l("Zambda:*")), "action", `action "Zambda:*" does not apply to resource "FHIR:Patient"`},
		{"app wildcard on m2m", allow(l("IAM:M2MClient"), l("App:*")), "action", "does not apply"},
		{"user action on m2m", allow(l("IAM:M2MClient"), l("App:GetUser")), "action", "it applies to App:User"},
		{"m2m action on user", allow(l("App:User"), l("App:GetM2MClient")), "action", "it applies to IAM:M2MClient"},
		{"one bad resource of several", allow(l("FHIR:Patient", "App:User"), l("FHIR:Read")), "action", `resource "App:User"`},
		{"project action on app", allow(l("App"), l("Project:GetProjectInfo")), "action", "it applies to Project:Settings"},

		// minimum scope
		{"create user on one user", allow(l("App:User:abc"), l("App:CreateUser")), "resource", `resource "App:User:abc": action "App:CreateUser" acts on App:User as a whole, so it must target "App:User" or "App:User:*", not one id`},
		{"list m2m on one client", allow(l("IAM:M2MClient:m1"), l("IAM:ListAllM2MClients")), "resource", "IAM:M2MClient as a whole"},
		{"create role on one role", allow(l("IAM:Role:r1"), l("IAM:GetRole", "IAM:CreateRole")), "resource", `action "IAM:CreateRole"`},
		{"invite on one developer", allow(l("IAM:Developer:d1"), l("IAM:InviteDeveloper")), "resource", "not one id"},
		{"simulate on one role", allow(l("IAM:Role:r1"), l("IAM:SimulateAccess")), "resource", "not one id"},

		// conditions
		{"deny with condition", Rule{Resource: l("FHIR:Patient"), Action: l("FHIR:Read"), Effect: Deny, Condition: l("name=x")}, "condition", `condition "name=x": only Allow rules may have a condition`},
		{"two resources", allow(l("FHIR:Patient", "FHIR:Encounter"), l("FHIR:Read"), "name=x"), "condition", "exactly one resource, not 2 (FHIR:Patient, FHIR:Encounter)"},
		{"all fhir types", allow(l("FHIR:*"), l("FHIR:Read"), "name=x"), "condition", `resource "FHIR:*" must name one whole FHIR resource type`},
		{"one patient", allow(l("FHIR:Patient:123"), l("FHIR:Read"), "name=x"), "condition", `resource "FHIR:Patient:123"`},
		{"not fhir", allow(l("App:User"), l("*"), "name=x"), "condition", `resource "App:User" must name one whole FHIR`},
		{"empty condition", allow(l("FHIR:Patient"), l("FHIR:Read"), ""), "condition", `condition "": is empty`},
		{"include", allow(l("FHIR:Patient"), l("FHIR:Read"), "name=x&_include=Patient:organization"), "condition", `parameter "_include" is not allowed`},
		{"include iterate", allow(l("FHIR:Patient"), l("FHIR:Read"), "_include:iterate=Patient:link"), "condition", `parameter "_include:iterate" is not allowed`},
		{"revinclude", allow(l("FHIR:Patient"), l("FHIR:Read"), "_revinclude=Observation:subject"), "condition", "_revinclude"},
		{"has", allow(l("FHIR:Patient"), l("FHIR:Read"), "_has:Observation:patient:code=1234"), "condition", "_has:Observation:patient:code"},
		{"encoded include", allow(l("FHIR:Patient"), l("FHIR:Read"), "%5Finclude=x"), "condition", `parameter "_include" is not allowed`},
		{"other type", allow(l("FHIR:Patient"), l("FHIR:Read"), "Observation?code=1"), "condition", `condition "Observation?code=1": searches Observation, but the rule's resource is FHIR:Patient`},
		{"question mark in value", allow(l("FHIR:Patient"), l("FHIR:Read"), "name=a?b"), "condition", "'?' may only follow the resource type"},
		{"no value", allow(l("FHIR:Patient"), l("FHIR:Read"), "active"), "condition", `parameter "active" has no value`},
		{"empty value", allow(l("FHIR:Patient"), l("FHIR:Read"), "name="), "condition", "has no value"},
		{"empty name", allow(l("FHIR:Patient"), l("FHIR:Read"), "=x"), "condition", `parameter name "" may contain only`},
		{"bad name", allow(l("FHIR:Patient"), l("FHIR:Read"), "na/me=x"), "condition", `parameter name "na/me"`},
		{"bad escape", allow(l("FHIR:Patient"), l("FHIR:Read"), "name=%zz"), "condition", "not correctly percent-encoded"},
		{"raw space", allow(l("FHIR:Patient"), l("FHIR:Read"), "name=John Smith"), "condition", "percent-encode"},
		{"only question mark", allow(l("FHIR:Patient"), l("FHIR:Read"), "?"), "condition", "has no search parameters"},
		{"only ampersands", allow(l("FHIR:Patient"), l("FHIR:Read"), "Patient?&&"), "condition", "has no search parameters"},
		{"too many conditions", allow(l("FHIR:Patient"), l("FHIR:Read"), make100("a=")[:maxConditions+1]...), "condition", "21 entries; at most 20"},
		{"too long condition", allow(l("FHIR:Patient"), l("FHIR:Read"), "name="+strings.Repeat("a", maxConditionLen)), "condition", "longer than 2048"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Put the rule second, behind a valid one, to check the index.
			p := Policy{Rule: []Rule{allow(l("*"), l("*")), tt.rule}}
			checkInvalid(t, Validate(p), 1, tt.field, tt.msg)
		})
	}
}

func checkInvalid(t *testing.T, err error, rule int, field, msg string) {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Validate = %v, want a *ValidationError", err)
	}
	if ve.Rule != rule || ve.Field != field {
		t.Errorf("Rule, Field = %d, %q; want %d, %q (%v)", ve.Rule, ve.Field, rule, field, err)
	}
	if !strings.Contains(err.Error(), msg) {
		t.Errorf("error %q does not contain %q", err, msg)
	}
}

func TestValidateErrorFormat(t *testing.T) {
	p := Policy{Rule: []Rule{allow(l("*"), l("*")), allow(l("*"), l("*")), allow(l("IAM:Role"), l("IAM:CreateRol"))}}
	want := `rule 2: action "IAM:CreateRol": unknown action of service IAM`
	if err := Validate(p); err == nil || err.Error() != want {
		t.Errorf("Validate = %v, want %s", err, want)
	}
}

func TestValidateTooManyRules(t *testing.T) {
	p := Policy{Rule: make([]Rule, maxRules+1)}
	checkInvalid(t, Validate(p), -1, "", "access policy: has 201 rules; at most 200 are allowed")
}

// The first problem is reported: the first bad rule, and within a rule the
// resources before the actions before the effect.
func TestValidateReportsFirstProblem(t *testing.T) {
	p := Policy{Rule: []Rule{
		allow(l("FHIR"), l("FHIR:*")),
		{Resource: l("FHIR:*:1"), Action: l("bad"), Effect: "nope"},
		{Resource: l("*"), Action: l("*")},
	}}
	checkInvalid(t, Validate(p), 1, "resource", "FHIR:*:1")
	p.Rule[1].Resource = l("FHIR")
	checkInvalid(t, Validate(p), 1, "action", `action "bad"`)
	p.Rule[1].Action = l("FHIR:Read")
	checkInvalid(t, Validate(p), 1, "effect", `effect "nope"`)
	p.Rule[1].Effect = Deny
	checkInvalid(t, Validate(p), 2, "effect", `effect ""`)
}
