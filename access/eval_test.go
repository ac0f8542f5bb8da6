package access

import (
	"fmt"
	"testing"
)

var (
	fullAccess = Policy{Rule: []Rule{{Resource: l("*"), Action: l("*"), Effect: Allow}}}
	inactive   = Policy{Rule: []Rule{{Resource: l("*"), Action: l("*"), Effect: Deny}}}
)

func pol(rules ...Rule) Policy { return Policy{Rule: rules} }

func deny(res, act []string) Rule { return Rule{Resource: res, Action: act, Effect: Deny} }

func TestCan(t *testing.T) {
	type check struct {
		action, resource string
		allowed          bool
		index            int // deciding rule, -1 for default deny
	}
	tests := []struct {
		name   string
		policy Policy
		checks []check
	}{
		{"default deny", Policy{}, []check{
			{"IAM:GetRole", "IAM:Role:1", false, -1},
			{"Project:GetProjectInfo", "Project:Settings", false, -1},
		}},
		{"full access", fullAccess, []check{
			{"IAM:GetRole", "IAM:Role:1", true, 0},
			{"IAM:ListAllRoles", "IAM:Role", true, 0},
			{"Z3:GetObject", "Z3:bucket/key", true, 0},
		}},
		{"inactive role beats full access", Merge(fullAccess, inactive), []check{
			{"IAM:GetRole", "IAM:Role:1", false, 1},
			{"Project:UpdateProjectInfo", "Project:Settings", false, 1},
			{"FHIR:Read", "FHIR:Patient:1", false, 1},
		}},
		{"deny wins wherever it is", Merge(inactive, fullAccess), []check{
			{"IAM:GetRole", "IAM:Role:1", false, 0},
		}},
		{"first matching deny decides", pol(
			allow(l("FHIR"), l("FHIR:*")),
			deny(l("FHIR:Patient:1"), l("FHIR:Delete")),
			deny(l("FHIR:Patient"), l("FHIR:Delete", "FHIR:Update")),
		), []check{
			{"FHIR:Delete", "FHIR:Patient:1", false, 1},
			{"FHIR:Delete", "FHIR:Patient:2", false, 2},
			{"FHIR:Update", "FHIR:Patient:1", false, 2},
			{"FHIR:Read", "FHIR:Patient:1", true, 0},
			{"FHIR:Delete", "FHIR:Encounter:1", true, 0},
		}},
		{"first matching allow decides", pol(
			allow(l("App:User:u1"), l("App:GetUser")),
			allow(l("App:User"), l("App:*")),
		), []check{
			{"App:GetUser", "App:User:u1", true, 0},
			{"App:GetUser", "App:User:u2", true, 1},
		}},
		{"omitted segments are wildcards", pol(
			allow(l("FHIR"), l("FHIR:Read")),
			allow(l("Zambda:*"), l("Zambda:InvokeFunction")),
			allow(l("Lab:*:*"), l("Lab:*")),
			allow(l("*:*"), l("Messaging:SendTransactionalSMS")),
		), []check{
			{"FHIR:Read", "FHIR:Patient:1", true, 0},
			{"FHIR:Read", "FHIR:Patient", true, 0},
			{"FHIR:Read", "FHIR", true, 0},
			{"FHIR:Search", "FHIR:Patient", false, -1},
			{"Zambda:InvokeFunction", "Zambda:Function:check-in", true, 1},
			{"Lab:CreateOrder", "Lab:Order", true, 2},
			{"Messaging:SendTransactionalSMS", "Messaging:TransactionalSMS", true, 3},
			{"Messaging:SendTransactionalSMS", "Messaging", true, 3},
		}},
		{"type-level versus concrete", pol(
			allow(l("IAM:Role:r1"), l("IAM:*")),
			allow(l("App:User"), l("App:ListAllUsers", "App:GetUser")),
			allow(l("Project:Settings"), l("Project:GetProjectInfo")),
		), []check{
			{"IAM:GetRole", "IAM:Role:r1", true, 0},
			{"IAM:GetRole", "IAM:Role:r2", false, -1},
			{"IAM:ListAllRoles", "IAM:Role", false, -1}, // one role does not grant the type
			{"IAM:CreateRole", "IAM:Role", false, -1},
			{"IAM:GetRole", "IAM:Role:*", false, -1},
			{"App:ListAllUsers", "App:User", true, 1},
			{"App:GetUser", "App:User:u9", true, 1},
			{"App:GetUser", "App:Application:a1", false, -1},
			{"Project:GetProjectInfo", "Project:Settings", true, 2},
			{"Project:UpdateProjectInfo", "Project:Settings", false, -1},
		}},
		{"actions match exactly", pol(
			allow(l("*"), l("FHIR:Read")),
			allow(l("*"), l("Zambda:*")),
		), []check{
			{"FHIR:Read", "FHIR:Patient:1", true, 0},
			{"FHIR:ReadAll", "FHIR:Patient:1", false, -1},
			{"FHIR:Search", "FHIR:Patient:1", false, -1},
			{"Zambda:InvokeFunction", "Zambda:Function:f", true, 1},
			{"ZambdaX:InvokeFunction", "ZambdaX:Function:f", false, -1},
		}},
		{"case-sensitive patterns", pol(allow(l("fhir:patient"), l("fhir:read", "FHIR:read"))), []check{
			{"FHIR:Read", "FHIR:Patient:1", false, -1},
		}},
		{"m2m aliases: IAM grant", pol(allow(l("IAM:M2MClient:*"), l("IAM:GetM2MClient", "IAM:ListAllM2MClients"))), []check{
			{"IAM:GetM2MClient", "IAM:M2MClient:m1", true, 0},
			{"App:GetM2MClient", "IAM:M2MClient:m1", true, 0},
			{"App:ListAllM2MClients", "IAM:M2MClient", true, 0},
			{"App:DeleteM2MClient", "IAM:M2MClient:m1", false, -1},
		}},
		{"m2m aliases: App grant", pol(allow(l("IAM:M2MClient"), l("App:RotateM2MClientSecret"))), []check{
			{"IAM:RotateM2MClientSecret", "IAM:M2MClient:m1", true, 0},
			{"App:RotateM2MClientSecret", "IAM:M2MClient:m1", true, 0},
		}},
		{"m2m aliases: service wildcards cover both", pol(
			allow(l("*"), l("App:*")),
			deny(l("IAM:M2MClient:m2"), l("IAM:*")),
		), []check{
			{"IAM:GetM2MClient", "IAM:M2MClient:m1", true, 0},
			{"App:GetM2MClient", "IAM:M2MClient:m2", false, 1},
			{"IAM:GetRole", "IAM:Role:r1", false, -1}, // App:* is not IAM:*
		}},
		{"conditional allow is ignored", pol(
			allow(l("FHIR:Patient:*"), l("FHIR:Read"), "general-practitioner=Practitioner/1"),
			allow(l("FHIR:Encounter"), l("FHIR:Read")),
		), []check{
			{"FHIR:Read", "FHIR:Patient:1", false, -1},
			{"FHIR:Read", "FHIR:Patient", false, -1},
			{"FHIR:Read", "FHIR:Encounter:1", true, 1},
		}},
		{"conditional allow then plain allow", pol(
			allow(l("FHIR:Patient"), l("FHIR:Read"), "name=x"),
			allow(l("FHIR"), l("FHIR:*")),
		), []check{
			{"FHIR:Read", "FHIR:Patient:1", true, 1},
		}},
		{"z3 paths", pol(
			allow(l("Z3:p1-insurance-cards/*"), l("Z3:GetObject", "Z3:PutObject")),
			allow(l("Z3:p1-receipts/2024/r.pdf"), l("Z3:GetObject")),
			allow(l("Z3"), l("Z3:ListBuckets")),
		), []check{
			{"Z3:GetObject", "Z3:p1-insurance-cards/front.jpg", true, 0},
			{"Z3:PutObject", "Z3:p1-insurance-cards/a/b/c.png", true, 0},
			{"Z3:GetObject", "Z3:p1-insurance-cards/*", true, 0},
			{"Z3:GetObject", "Z3:p1-insurance-cards", false, -1},
			{"Z3:GetObject", "Z3:p1-photo-id-cards/front.jpg", false, -1},
			{"Z3:GetObject", "Z3", false, -1},
			{"Z3:GetObject", "Z3:p1-receipts/2024/r.pdf", true, 1},
			{"Z3:GetObject", "Z3:p1-receipts/2024/r.pdf.bak", false, -1},
			{"Z3:ListBuckets", "Z3", true, 2},
			{"Z3:ListBuckets", "Z3:any/thing", true, 2},
		}},
		{"malformed requests are denied", fullAccess, []check{
			{"", "IAM:Role:1", false, -1},
			{"IAM", "IAM:Role:1", false, -1},
			{"IAM:*", "IAM:Role:1", false, -1},
			{"*", "IAM:Role:1", false, -1},
			{"IAM:GetRole", "", false, -1},
			{"IAM:GetRole", "IAM:*:1", false, -1},
			{"IAM:GetRole", "IAM:Role:1:2", false, -1},
		}},
		{"unvalidated policies fail closed", pol(
			allow(l("FHIR:*:1", ""), l("*")), // unparsable patterns match nothing
			Rule{Resource: l("App"), Action: l("App:*"), Effect: "allow"},
			Rule{Resource: l("IAM"), Action: l("IAM:*"), Effect: Deny, Condition: l("name=x")},
			allow(l("*"), l("*")),
		), []check{
			{"FHIR:Read", "FHIR:Patient:1", true, 3},
			{"App:GetUser", "App:User:1", false, 1},
			{"IAM:GetRole", "IAM:Role:1", false, 2},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range tt.checks {
				d := Can(tt.policy, c.action, c.resource)
				if d.Allowed != c.allowed || d.Index != c.index {
					t.Errorf("Can(%q, %q) = allowed %v by rule %d; want %v by rule %d", c.action, c.resource, d.Allowed, d.Index, c.allowed, c.index)
				}
				checkDecision(t, tt.policy, d)
			}
		})
	}
}

// checkDecision checks the invariants tying a Decision to its policy.
func checkDecision(t *testing.T, p Policy, d Decision) {
	t.Helper()
	if d.Index == -1 {
		if d.Rule != nil || d.Allowed {
			t.Errorf("default deny with Rule %v, Allowed %v", d.Rule, d.Allowed)
		}
		return
	}
	if d.Index < 0 || d.Index >= len(p.Rule) || d.Rule != &p.Rule[d.Index] {
		t.Fatalf("Decision %+v does not point into the policy (%d rules)", d, len(p.Rule))
	}
	if d.Allowed != (d.Rule.Effect == Allow && len(d.Rule.Condition) == 0) {
		t.Errorf("Allowed = %v decided by rule %+v", d.Allowed, *d.Rule)
	}
}

func TestCanDoesNotAllocate(t *testing.T) {
	p := benchPolicy()
	if n := testing.AllocsPerRun(100, func() { Can(p, "App:GetM2MClient", "IAM:M2MClient:m1") }); n != 0 {
		t.Errorf("Can allocates %v times per call", n)
	}
}

// benchPolicy is a realistic effective policy: a staff role merged with a
// backend-style policy and more, 40 rules.
func benchPolicy() Policy {
	var p Policy
	for _, name := range []string{"administrator", "provider", "zambdasAdmin", "patient"} {
		p = Merge(p, mustParse(examplePolicy(name)))
	}
	return p
}

func BenchmarkCan(b *testing.B) {
	p := benchPolicy()
	checks := []struct{ action, resource string }{
		{"FHIR:Read", "FHIR:Patient:ac3b0b2e-1f7e-4c7e-9b1a-2f0a1e3d4c5b"}, // early allow
		{"RCM:ProcessEra", "RCM:Era"},                                      // late allow
		{"App:GetM2MClient", "IAM:M2MClient:m1"},                           // alias
		{"Z3:GetObject", "Z3:p1-labs/result.pdf"},                          // Z3 prefix
		{"IAM:DeleteRole", "IAM:Role:r1"},                                  // default deny: scans everything
	}
	b.Logf("%d rules", len(p.Rule))
	for _, c := range checks {
		b.Run(c.action, func(b *testing.B) {
			for b.Loop() {
				Can(p, c.action, c.resource)
			}
		})
	}
}

func ExampleCan() {
	staff := Policy{Rule: []Rule{
		{Resource: []string{"App:User"}, Action: []string{"App:ListAllUsers", "App:GetUser"}, Effect: Allow},
		{Resource: []string{"FHIR:Patient"}, Action: []string{"FHIR:Read", "FHIR:Search"}, Effect: Allow},
	}}
	inactive := Policy{Rule: []Rule{{Resource: []string{"*"}, Action: []string{"*"}, Effect: Deny}}}

	fmt.Println(Can(staff, "App:GetUser", "App:User:42").Allowed)
	fmt.Println(Can(staff, "App:CreateUser", "App:User").Allowed)
	d := Can(Merge(staff, inactive), "App:GetUser", "App:User:42")
	fmt.Println(d.Allowed, d.Index)
	// Output:
	// true
	// false
	// false 2
}
