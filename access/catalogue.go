package access

import (
	"slices"
	"strings"
)

// ActionSpec describes one action of Atrium's own services.
type ActionSpec struct {
	Name         string // "Service:ActionName"
	ResourceType string // the resource type it acts on, e.g. "App:User", "Project:Settings"
	// TypeWide actions (create, list-all, invite) act on the type as a whole,
	// so a grant must target the type wildcard ("App:User", "App:User:*"),
	// never one id.
	TypeWide bool
}

// catalogue lists every action of the Project, App and IAM services. Other
// services (FHIR, Zambda, Z3, ...) are not catalogued: their actions are
// accepted when well formed.
var catalogue = []ActionSpec{
	{"Project:GetProjectInfo", "Project:Settings", false},
	{"Project:UpdateProjectInfo", "Project:Settings", false},
	{"Project:ListAllUsers", "Project:Settings", true},
	{"Project:ListAuditEvents", "Project:Settings", false}, // Atrium's own

	{"App:CreateUser", "App:User", true},
	{"App:GetUser", "App:User", false},
	{"App:UpdateUser", "App:User", false},
	{"App:DeleteUser", "App:User", false},
	{"App:ListAllUsers", "App:User", true},
	{"App:ResetUserMFA", "App:User", false},
	{"App:GetUserPasswordResetLink", "App:User", false},

	{"App:CreateApplication", "App:Application", true},
	{"App:GetApplication", "App:Application", false},
	{"App:UpdateApplication", "App:Application", false},
	{"App:DeleteApplication", "App:Application", false},
	{"App:ListAllApplications", "App:Application", true},
	{"App:RotateApplicationSecret", "App:Application", false},
	{"App:RevokeAccessToken", "App:Application", false},
	{"App:RevokeRefreshToken", "App:Application", false},

	// The platform spells the M2M actions both ways (the SDK "App:", real
	// policies "IAM:"); both act on IAM:M2MClient and are aliases in Can.
	{"App:CreateM2MClient", "IAM:M2MClient", true},
	{"App:GetM2MClient", "IAM:M2MClient", false},
	{"App:UpdateM2MClient", "IAM:M2MClient", false},
	{"App:DeleteM2MClient", "IAM:M2MClient", false},
	{"App:ListAllM2MClients", "IAM:M2MClient", true},
	{"App:RotateM2MClientSecret", "IAM:M2MClient", false},
	{"IAM:CreateM2MClient", "IAM:M2MClient", true},
	{"IAM:GetM2MClient", "IAM:M2MClient", false},
	{"IAM:UpdateM2MClient", "IAM:M2MClient", false},
	{"IAM:DeleteM2MClient", "IAM:M2MClient", false},
	{"IAM:ListAllM2MClients", "IAM:M2MClient", true},
	{"IAM:RotateM2MClientSecret", "IAM:M2MClient", false},

	{"IAM:CreateRole", "IAM:Role", true},
	{"IAM:GetRole", "IAM:Role", false},
	{"IAM:UpdateRole", "IAM:Role", false},
	{"IAM:DeleteRole", "IAM:Role", false},
	{"IAM:ListAllRoles", "IAM:Role", true},
	{"IAM:SimulateAccess", "IAM:Role", true}, // Atrium's own

	{"IAM:InviteDeveloper", "IAM:Developer", true},
	{"IAM:GetDeveloper", "IAM:Developer", false},
	{"IAM:UpdateDeveloper", "IAM:Developer", false},
	{"IAM:RemoveDeveloper", "IAM:Developer", false},
	{"IAM:ListAllDevelopers", "IAM:Developer", true},
}

// Indexes derived once from the catalogue; never modified afterwards.
var (
	byName       = map[string]ActionSpec{}
	knownType    = map[string]bool{}   // "IAM:Role", ...
	ownService   = map[string]bool{}   // "Project", "App", "IAM"
	m2mAlias     = map[string]string{} // "App:GetM2MClient" <-> "IAM:GetM2MClient"
	typesOfOwner = map[string][]string{}
)

func init() {
	for _, s := range catalogue {
		byName[s.Name] = s
		svc, name, _ := strings.Cut(s.Name, ":")
		ownService[svc] = true
		if !knownType[s.ResourceType] {
			knownType[s.ResourceType] = true
			owner, _, _ := strings.Cut(s.ResourceType, ":")
			typesOfOwner[owner] = append(typesOfOwner[owner], s.ResourceType)
		}
		if s.ResourceType == "IAM:M2MClient" {
			other := map[string]string{"App": "IAM", "IAM": "App"}[svc]
			m2mAlias[s.Name] = other + ":" + name
		}
	}
}

// Lookup returns the catalogued action named exactly action (both M2M
// spellings are catalogued).
func Lookup(action string) (ActionSpec, bool) {
	s, ok := byName[action]
	return s, ok
}

// Actions returns the whole catalogue in a stable order.
func Actions() []ActionSpec { return slices.Clone(catalogue) }

// knownServices are the platform's services, for catching a miscased name
// ("fhir:Patient") that would otherwise silently never match.
var knownServices = []string{
	"Project", "App", "IAM", "FHIR", "Zambda", "Z3", "Messaging", "Telemed",
	"RCM", "eRx", "Payment", "Fax", "Lab", "Terminology",
}
