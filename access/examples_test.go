package access

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// projectID replaces $PROJECT in the examples, as deployment tooling does.
const projectID = "3f2b9a4e-8c1d-4f6a-9e2b-7d5c4a3b2e1f"

// examples are real policies seen on the platform (reference §6.6): the
// developer and user invites, ottehr's "Zambdas Admin" M2M client, its staff,
// patient and inactive roles, and the docs' examples. Both the string and the
// array forms of resource/action/condition appear, as they do in the wild.
var examples = []struct{ name, json string }{
	{"developerInvite", `{"rule":[{"resource":["*"],"action":["*"],"effect":"Allow"}]}`},
	{"userInvite", `{"rule":[{"resource":"FHIR:Patient:*","action":["FHIR:Read"],"effect":"Allow"}]}`},
	{"zambdasAdmin", `{"rule":[
		{"resource":["FHIR:*"],"action":["FHIR:*"],"effect":"Allow"},
		{"resource":["Telemed:*"],"action":["Telemed:*"],"effect":"Allow"},
		{"resource":["App:User"],"action":["App:CreateUser","App:DeleteUser","App:GetUser","App:UpdateUser","App:ListAllUsers"],"effect":"Allow"},
		{"resource":["Zambda:*"],"action":["Zambda:*"],"effect":"Allow"},
		{"resource":["Fax:Fax:*"],"action":["Fax:Send"],"effect":"Allow"},
		{"resource":["IAM:M2MClient:*"],"action":["IAM:ListAllM2MClients","IAM:GetM2MClient"],"effect":"Allow"},
		{"resource":["IAM:Role"],"action":["IAM:GetRole","IAM:ListAllRoles","IAM:CreateRole","IAM:UpdateRole"],"effect":"Allow"},
		{"resource":["Lab:*"],"action":["Lab:*"],"effect":"Allow"},
		{"resource":["Z3:$PROJECT-photo-id-cards/*","Z3:$PROJECT-insurance-cards/*","Z3:$PROJECT-patient-photos/*",
			"Z3:$PROJECT-consent-forms/*","Z3:$PROJECT-visit-notes/*","Z3:$PROJECT-receipts/*","Z3:$PROJECT-labs/*"],
		 "action":["Z3:PutObject","Z3:GetObject","Z3:DeleteObject","Z3:ListObjects"],"effect":"Allow"},
		{"resource":["Z3:$PROJECT-TelemedRecordings/*"],"action":["Z3:GetObject"],"effect":"Allow"},
		{"action":["Messaging:SendTransactionalSMS"],"effect":"Allow","resource":["*"]},
		{"action":["RCM:CheckInsuranceEligibility"],"effect":"Allow","resource":["RCM:InsuranceEligibility"]},
		{"action":["eRx:SearchPharmacy","eRx:GetPharmacy"],"effect":"Allow","resource":["eRx:Pharmacy"]},
		{"action":["eRx:SyncPatient","eRx:GetMedicationHistory"],"effect":"Allow","resource":["eRx:Patient"]},
		{"action":["Terminology:SearchCodes"],"effect":"Allow","resource":["Terminology:Code:*"]},
		{"action":["RCM:SearchPayer","RCM:GetPayer"],"effect":"Allow","resource":["RCM:Payer"]},
		{"action":["RCM:ReadClaim","RCM:SubmitClaim"],"effect":"Allow","resource":["RCM:Claim"]},
		{"action":["RCM:ProcessEra"],"effect":"Allow","resource":["RCM:Era"]}]}`},
	{"administrator", `{"rule":[
		{"action":["FHIR:Search","FHIR:Read"],"effect":"Allow","resource":["FHIR:Consent","FHIR:Coverage","FHIR:RelatedPerson",
			"FHIR:Organization","FHIR:QuestionnaireResponse","FHIR:Questionnaire","FHIR:Person","FHIR:Medication","FHIR:List","FHIR:Schedule"]},
		{"action":["App:ListAllUsers","App:GetUser"],"effect":"Allow","resource":["App:User"]},
		{"action":["FHIR:Search","FHIR:Read","FHIR:Update"],"effect":"Allow","resource":["FHIR:Patient","FHIR:Appointment",
			"FHIR:Encounter","FHIR:Location","FHIR:HealthcareService","FHIR:Communication","FHIR:Flag","FHIR:DocumentReference"]},
		{"action":["Z3:GetObject"],"effect":"Allow","resource":["Z3:*"]},
		{"action":["Zambda:InvokeFunction"],"effect":"Allow","resource":["Zambda:Function:*"]},
		{"action":["FHIR:Create"],"effect":"Allow","resource":["FHIR:Location","FHIR:Practitioner","FHIR:HealthcareService"]},
		{"action":["FHIR:Read","FHIR:Update","FHIR:Search"],"effect":"Allow","resource":["FHIR:Practitioner"]},
		{"action":["Messaging:SendTransactionalSMS"],"effect":"Allow","resource":["*"]},
		{"action":["Messaging:GetConfiguration"],"effect":"Allow","resource":["Messaging:Messaging:*"]},
		{"action":["FHIR:Search","FHIR:Read","FHIR:Update","FHIR:Create"],"resource":["FHIR:Organization:*","FHIR:PractitionerRole"],"effect":"Allow"},
		{"action":["FHIR:History"],"effect":"Allow","resource":["FHIR:Patient","FHIR:Appointment"]},
		{"resource":["Terminology:Code:*"],"action":["Terminology:SearchCodes"],"effect":"Allow"},
		{"action":["RCM:SearchPayer","RCM:GetPayer"],"effect":"Allow","resource":["RCM:Payer"]}]}`},
	{"provider", `{"rule":[
		{"action":["Telemed:GetRoomToken"],"effect":"Allow","resource":["Telemed:Room"]},
		{"action":["Telemed:JoinMeeting"],"effect":"Allow","resource":["Telemed:Meeting:*"]},
		{"action":["*"],"effect":"Allow","resource":["eRx:*"]},
		{"resource":["FHIR:AllergyIntolerance:*","FHIR:MedicationStatement:*"],"action":["FHIR:Read","FHIR:Search"],"effect":"Allow"},
		{"action":["Messaging:GetConfiguration"],"effect":"Allow","resource":["Messaging:Messaging:*"]},
		{"resource":["Z3:*"],"action":["Z3:GetObject"],"effect":"Allow"}]}`},
	{"patient", `{"rule":[
		{"resource":["Zambda:Function:telemed-get-patients","Zambda:Function:check-in","Zambda:Function:create-appointment",
			"Zambda:Function:get-schedule","Zambda:Function:get-paperwork","Zambda:Function:patch-paperwork",
			"Zambda:Function:payment-methods-setup","Zambda:Function:join-call","Zambda:Function:version"],
		 "action":["Zambda:InvokeFunction"],"effect":"Allow"},
		{"action":["Telemed:JoinMeeting"],"effect":"Allow","resource":["Telemed:Meeting"]},
		{"action":["FHIR:Read"],"effect":"Allow","resource":["FHIR:Encounter"]}]}`},
	{"inactive", `{"rule":[{"resource":["*"],"action":["*"],"effect":"Deny"}]}`},
	{"docsProviders", `{"rule":[
		{"resource":"FHIR:*","action":["FHIR:Read","FHIR:Search"],"effect":"Allow"},
		{"resource":["FHIR:Encounter:*","FHIR:Observation:*"],"action":"FHIR:*","effect":"Allow"}]}`},
	{"docsCondition", `{"rule":[{"resource":"FHIR:Patient:*","action":["FHIR:Read"],"effect":"Allow",
		"condition":"general-practitioner=Practitioner/8d1a3f5e-0b7c-4e2d-9a6f-1c3b5d7e9f0a"}]}`},
}

func examplePolicy(name string) string {
	i := slices.IndexFunc(examples, func(e struct{ name, json string }) bool { return e.name == name })
	return strings.ReplaceAll(examples[i].json, "$PROJECT", projectID)
}

func mustParse(s string) Policy {
	var p Policy
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		panic(err)
	}
	return p
}

func TestExamplesValidate(t *testing.T) {
	for _, e := range examples {
		t.Run(e.name, func(t *testing.T) {
			var p Policy
			if err := json.Unmarshal([]byte(examplePolicy(e.name)), &p); err != nil {
				t.Fatal(err)
			}
			if len(p.Rule) == 0 {
				t.Fatal("no rules parsed")
			}
			if err := Validate(p); err != nil {
				t.Fatalf("Validate: %v", err)
			}
		})
	}
}

func TestExamplesEvaluate(t *testing.T) {
	admin := mustParse(examplePolicy("zambdasAdmin"))
	staff := Merge(mustParse(examplePolicy("administrator")), mustParse(examplePolicy("provider")))
	patient := mustParse(examplePolicy("patient"))
	tests := []struct {
		who              string
		p                Policy
		action, resource string
		allowed          bool
	}{
		{"admin", admin, "App:CreateUser", "App:User", true},
		{"admin", admin, "App:ResetUserMFA", "App:User:u1", false},
		{"admin", admin, "IAM:GetM2MClient", "IAM:M2MClient:m1", true},
		{"admin", admin, "App:GetM2MClient", "IAM:M2MClient:m1", true},
		{"admin", admin, "App:ListAllM2MClients", "IAM:M2MClient", true},
		{"admin", admin, "IAM:CreateRole", "IAM:Role", true},
		{"admin", admin, "IAM:DeleteRole", "IAM:Role:r1", false},
		{"admin", admin, "Z3:PutObject", "Z3:" + projectID + "-insurance-cards/front.jpg", true},
		{"admin", admin, "Z3:PutObject", "Z3:other-project-insurance-cards/front.jpg", false},
		{"admin", admin, "Messaging:SendTransactionalSMS", "Messaging:TransactionalSMS", true},
		{"admin", admin, "RCM:CheckInsuranceEligibility", "RCM:InsuranceEligibility", true},
		{"admin", admin, "Project:UpdateProjectInfo", "Project:Settings", false},
		{"staff", staff, "FHIR:Update", "FHIR:Patient:p1", true},
		{"staff", staff, "FHIR:Delete", "FHIR:Patient:p1", false},
		{"staff", staff, "eRx:SearchMedication", "eRx:Medication", true},
		{"staff", staff, "App:GetUser", "App:User:u1", true},
		{"staff", staff, "App:CreateUser", "App:User", false},
		{"patient", patient, "Zambda:InvokeFunction", "Zambda:Function:check-in", true},
		{"patient", patient, "Zambda:InvokeFunction", "Zambda:Function:delete-user", false},
		{"patient", patient, "FHIR:Read", "FHIR:Patient:p1", false},
		{"patient", patient, "Telemed:JoinMeeting", "Telemed:Meeting:m1", true},
		{"inactive staff", Merge(staff, mustParse(examplePolicy("inactive"))), "FHIR:Read", "FHIR:Patient:p1", false},
	}
	for _, tt := range tests {
		if d := Can(tt.p, tt.action, tt.resource); d.Allowed != tt.allowed {
			t.Errorf("%s: Can(%q, %q) = %+v, want allowed %v", tt.who, tt.action, tt.resource, d, tt.allowed)
		}
	}
}
