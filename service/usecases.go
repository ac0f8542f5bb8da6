package service

import "atrium/auth"

// UseCase is one operation of the domain, the same whichever transport
// serves it. The table below is the one place that says who may call what
// and what the audit trail records; every exported method of Service starts
// by running its entry (Service.begin), so no transport can skip the check
// or the event.
type UseCase struct {
	// Name is the operation's name; the GraphQL field of the same name
	// serves it, and HTTP names the endpoint that does when it is not (only)
	// a GraphQL operation.
	Name string
	// Action is the platform action (access/catalogue.go) the caller's
	// effective policy must allow on Resource; for an audited use case it is
	// also the action its events record.
	Action string
	// Resource is the resource type Action acts on, e.g. IAM:Role; "" when
	// no project policy decides (signed-in or public use cases).
	Resource string
	// ID names the input that gives the resource's id ("id", "input.id"):
	// the grant is then on Resource:<id>. "" for the type as a whole.
	ID string
	// Or is a grant accepted instead of Action on Resource.
	Or *Grant
	// Kinds are the principal kinds that may call it; nil for a public use
	// case, which needs no credential.
	Kinds []auth.Kind
	// Target is the type of entity the audit events name as their target;
	// "" for a use case that is not audited (reads).
	Target string
	// Fields are the input fields recorded when the transport does not say
	// which were given (inputs of a fixed shape).
	Fields []string
	// HTTP is the endpoint, other than /graphql, that serves the use case.
	HTTP string
	// ChecksCredential marks the use cases that check or set a password
	// (an argon2id hash each): a GraphQL request may hold one of them, and
	// their audit events are written off the answer path.
	ChecksCredential bool
}

// Grant is an action on a resource, e.g. IAM:GetRole on IAM:Role:<id>.
type Grant struct{ Action, Resource string }

// Public reports whether anyone may call the use case, without a credential.
func (uc *UseCase) Public() bool { return uc.Kinds == nil }

// Guarded reports whether a project's access policy decides the use case.
func (uc *UseCase) Guarded() bool { return uc.Resource != "" }

// Audited reports whether the use case records audit events.
func (uc *UseCase) Audited() bool { return uc.Target != "" }

// UseCases returns the table, in its order.
func UseCases() []UseCase {
	out := make([]UseCase, len(table))
	for i, uc := range table {
		out[i] = *uc
	}
	return out
}

var table []*UseCase

func useCase(uc UseCase) *UseCase {
	table = append(table, &uc)
	return &uc
}

// Who may call: anyone holding a credential of the project's (its policy
// decides, the operator may do everything), or only some kinds.
var (
	anyone        = []auth.Kind{auth.Operator, auth.Developer, auth.User, auth.M2MClient}
	administrator = []auth.Kind{auth.Operator, auth.Developer}
)

// The use cases, by domain.
var (
	// Projects.
	ucProject       = useCase(UseCase{Name: "project", Action: "Project:GetProjectInfo", Resource: "Project:Settings", Kinds: anyone})
	ucProjects      = useCase(UseCase{Name: "projects", Kinds: anyone})
	ucCreateProject = useCase(UseCase{Name: "createProject", Action: "Project:CreateProject", Kinds: administrator, Target: "Project"})
	ucUpdateProject = useCase(UseCase{Name: "updateProject", Action: "Project:UpdateProjectInfo", Resource: "Project:Settings", Kinds: anyone, Target: "Project"})
	ucAuditEvents   = useCase(UseCase{Name: "auditEvents", Action: "Project:ListAuditEvents", Resource: "Project:Settings", Kinds: anyone})

	// Roles and the access simulator.
	ucRole        = useCase(UseCase{Name: "role", Action: "IAM:GetRole", Resource: "IAM:Role", ID: "id", Kinds: anyone})
	ucRoles       = useCase(UseCase{Name: "roles", Action: "IAM:ListAllRoles", Resource: "IAM:Role", Kinds: anyone})
	ucCreateRole  = useCase(UseCase{Name: "createRole", Action: "IAM:CreateRole", Resource: "IAM:Role", Kinds: anyone, Target: "Role"})
	ucUpdateRole  = useCase(UseCase{Name: "updateRole", Action: "IAM:UpdateRole", Resource: "IAM:Role", ID: "input.id", Kinds: anyone, Target: "Role"})
	ucDeleteRole  = useCase(UseCase{Name: "deleteRole", Action: "IAM:DeleteRole", Resource: "IAM:Role", ID: "input.id", Kinds: anyone, Target: "Role"})
	ucCheckAccess = useCase(UseCase{Name: "checkAccess", Action: "IAM:SimulateAccess", Resource: "IAM:Role", Kinds: anyone, Target: "Role"})

	// Applications.
	ucApplication             = useCase(UseCase{Name: "application", Action: "App:GetApplication", Resource: "App:Application", ID: "id", Kinds: anyone})
	ucApplications            = useCase(UseCase{Name: "applications", Action: "App:ListAllApplications", Resource: "App:Application", Kinds: anyone})
	ucCreateApplication       = useCase(UseCase{Name: "createApplication", Action: "App:CreateApplication", Resource: "App:Application", Kinds: anyone, Target: "Application"})
	ucUpdateApplication       = useCase(UseCase{Name: "updateApplication", Action: "App:UpdateApplication", Resource: "App:Application", ID: "input.id", Kinds: anyone, Target: "Application"})
	ucDeleteApplication       = useCase(UseCase{Name: "deleteApplication", Action: "App:DeleteApplication", Resource: "App:Application", ID: "input.id", Kinds: anyone, Target: "Application"})
	ucRotateApplicationSecret = useCase(UseCase{Name: "rotateApplicationSecret", Action: "App:RotateApplicationSecret", Resource: "App:Application", ID: "input.id", Kinds: anyone, Target: "Application"})
	// The OpenID provider's token endpoint checks a confidential client.
	ucVerifyApplicationSecret = useCase(UseCase{Name: "verifyApplicationSecret", Action: "App:AuthenticateApplication", Target: "Application", Fields: []string{"client_id", "client_secret"}, HTTP: "POST /p/{projectId}/oauth/token"})

	// Users, invitations and sign-in.
	ucUser             = useCase(UseCase{Name: "user", Action: "App:GetUser", Resource: "App:User", ID: "id", Kinds: anyone})
	ucUsers            = useCase(UseCase{Name: "users", Action: "Project:ListAllUsers", Resource: "Project:Settings", Or: &Grant{"App:ListAllUsers", "App:User"}, Kinds: anyone})
	ucMe               = useCase(UseCase{Name: "me", Kinds: []auth.Kind{auth.User}})
	ucInviteUser       = useCase(UseCase{Name: "inviteUser", Action: "App:CreateUser", Resource: "App:User", Kinds: anyone, Target: "User"})
	ucInviteUsers      = useCase(UseCase{Name: "inviteUsers", Action: "App:CreateUser", Resource: "App:User", Kinds: anyone, Target: "User"})
	ucResendInvitation = useCase(UseCase{Name: "resendInvitation", Action: "App:CreateUser", Resource: "App:User", Kinds: anyone, Target: "User"})
	ucOpenInvitation   = useCase(UseCase{Name: "openInvitation", HTTP: "GET " + InvitationPath})
	ucAcceptInvitation = useCase(UseCase{Name: "acceptInvitation", Action: "App:AcceptInvitation", Target: "User", Fields: []string{"password", "ticket"}, HTTP: "POST " + InvitationPath, ChecksCredential: true})
	ucSignIn           = useCase(UseCase{Name: "signIn", Action: "App:SignIn", Target: "User", Fields: []string{"applicationId", "email", "password"}, ChecksCredential: true})
	ucSignUp           = useCase(UseCase{Name: "signUp", Action: "App:SignUp", Target: "User", Fields: []string{"applicationId", "email", "password"}, ChecksCredential: true})
	ucUpdateUser       = useCase(UseCase{Name: "updateUser", Action: "App:UpdateUser", Resource: "App:User", ID: "input.id", Kinds: anyone, Target: "User"})
	ucDeleteUser       = useCase(UseCase{Name: "deleteUser", Action: "App:DeleteUser", Resource: "App:User", ID: "input.id", Kinds: anyone, Target: "User"})
	ucDisableUser      = useCase(UseCase{Name: "disableUser", Action: "App:UpdateUser", Resource: "App:User", ID: "input.id", Kinds: anyone, Target: "User"})
	ucEnableUser       = useCase(UseCase{Name: "enableUser", Action: "App:UpdateUser", Resource: "App:User", ID: "input.id", Kinds: anyone, Target: "User"})

	// The hosted pages (password.go): forgotten passwords, reset links and
	// self-registration, under /p/{projectId}/.
	ucHostedProject         = useCase(UseCase{Name: "hostedProject", HTTP: "GET /p/{projectId}/forgot"})
	ucForgotPassword        = useCase(UseCase{Name: "forgotPassword", Action: "App:ForgotPassword", Target: "User", Fields: []string{"email"}, HTTP: "POST /p/{projectId}/forgot", ChecksCredential: true})
	ucOpenPasswordReset     = useCase(UseCase{Name: "openPasswordReset", HTTP: "GET /p/{projectId}/reset"})
	ucResetPassword         = useCase(UseCase{Name: "resetPassword", Action: "App:ResetPassword", Target: "User", Fields: []string{"password", "ticket"}, HTTP: "POST /p/{projectId}/reset", ChecksCredential: true})
	ucCreateAccount         = useCase(UseCase{Name: "createAccount", Action: "App:SignUp", Target: "User", Fields: []string{"email", "password"}, HTTP: "POST /p/{projectId}/signup", ChecksCredential: true})
	ucUserPasswordResetLink = useCase(UseCase{Name: "userPasswordResetLink", Action: "App:GetUserPasswordResetLink", Resource: "App:User", ID: "input.id", Kinds: anyone, Target: "User"})

	// Developers.
	ucDeveloper       = useCase(UseCase{Name: "developer", Action: "IAM:GetDeveloper", Resource: "IAM:Developer", ID: "id", Kinds: anyone})
	ucDevelopers      = useCase(UseCase{Name: "developers", Action: "Project:ListAllUsers", Resource: "Project:Settings", Or: &Grant{"IAM:ListAllDevelopers", "IAM:Developer"}, Kinds: anyone})
	ucInviteDeveloper = useCase(UseCase{Name: "inviteDeveloper", Action: "IAM:InviteDeveloper", Resource: "IAM:Developer", Kinds: anyone, Target: "Developer"})
	ucUpdateDeveloper = useCase(UseCase{Name: "updateDeveloper", Action: "IAM:UpdateDeveloper", Resource: "IAM:Developer", ID: "input.id", Kinds: anyone, Target: "Developer"})
	ucRemoveDeveloper = useCase(UseCase{Name: "removeDeveloper", Action: "IAM:RemoveDeveloper", Resource: "IAM:Developer", ID: "input.id", Kinds: anyone, Target: "Developer"})
	// A developer's sign-in is recorded in every project it belongs to.
	ucSignInDeveloper = useCase(UseCase{Name: "signInDeveloper", Action: "IAM:SignInDeveloper", Target: "Developer", Fields: []string{"email", "password"}, ChecksCredential: true})

	// Machine clients.
	ucM2MClient             = useCase(UseCase{Name: "m2mClient", Action: "App:GetM2MClient", Resource: "IAM:M2MClient", ID: "id", Kinds: anyone})
	ucM2MClients            = useCase(UseCase{Name: "m2mClients", Action: "App:ListAllM2MClients", Resource: "IAM:M2MClient", Kinds: anyone})
	ucM2MMe                 = useCase(UseCase{Name: "m2mMe", Kinds: []auth.Kind{auth.M2MClient}})
	ucCreateM2MClient       = useCase(UseCase{Name: "createM2MClient", Action: "App:CreateM2MClient", Resource: "IAM:M2MClient", Kinds: anyone, Target: "M2MClient"})
	ucUpdateM2MClient       = useCase(UseCase{Name: "updateM2MClient", Action: "App:UpdateM2MClient", Resource: "IAM:M2MClient", ID: "input.id", Kinds: anyone, Target: "M2MClient"})
	ucDeleteM2MClient       = useCase(UseCase{Name: "deleteM2MClient", Action: "App:DeleteM2MClient", Resource: "IAM:M2MClient", ID: "input.id", Kinds: anyone, Target: "M2MClient"})
	ucRotateM2MClientSecret = useCase(UseCase{Name: "rotateM2MClientSecret", Action: "App:RotateM2MClientSecret", Resource: "IAM:M2MClient", ID: "input.id", Kinds: anyone, Target: "M2MClient"})
	ucIssueM2MClientToken   = useCase(UseCase{Name: "issueM2MClientToken", Action: "IAM:IssueM2MClientToken", Target: "M2MClient", Fields: []string{"client_id", "client_secret"}, HTTP: "POST /oauth/token"})

	// The project's OpenID provider (oidc.go), served under its issuer
	// /p/{projectId}. It authenticates its clients itself, so these are
	// public; the login checks a password and the logout ends a session.
	ucOpenIDProvider     = useCase(UseCase{Name: "openIDProvider", HTTP: "GET /p/{projectId}/.well-known/openid-configuration"})
	ucOpenIDClient       = useCase(UseCase{Name: "openIDClient", HTTP: "GET /p/{projectId}/authorize"})
	ucStartAuthorization = useCase(UseCase{Name: "startAuthorization", HTTP: "GET /p/{projectId}/authorize"})
	ucAuthorization      = useCase(UseCase{Name: "authorization", HTTP: "GET /p/{projectId}/login"})
	ucLogIn              = useCase(UseCase{Name: "logIn", Action: "App:SignIn", Target: "User", Fields: []string{"authRequest", "email", "password"}, HTTP: "POST /p/{projectId}/login", ChecksCredential: true})
	ucResumeSession      = useCase(UseCase{Name: "resumeSession", HTTP: "GET /p/{projectId}/login"})
	ucIssueCode          = useCase(UseCase{Name: "issueCode", HTTP: "GET /p/{projectId}/authorize/callback"})
	ucRedeemCode         = useCase(UseCase{Name: "redeemCode", HTTP: "POST /p/{projectId}/oauth/token"})
	ucIssueTokens        = useCase(UseCase{Name: "issueTokens", HTTP: "POST /p/{projectId}/oauth/token"})
	ucRefreshGrant       = useCase(UseCase{Name: "refreshGrant", HTTP: "POST /p/{projectId}/oauth/token"})
	ucOpenIDUser         = useCase(UseCase{Name: "openIDUser", HTTP: "GET /p/{projectId}/userinfo"})
	ucRevokeToken        = useCase(UseCase{Name: "revokeToken", HTTP: "POST /p/{projectId}/revoke"})
	ucEndSession         = useCase(UseCase{Name: "endSession", HTTP: "GET /p/{projectId}/end_session"})
	// Revoking an application's tokens, as its developers (GraphQL, REST).
	ucRevokeAccessToken  = useCase(UseCase{Name: "revokeAccessToken", Action: "App:RevokeAccessToken", Resource: "App:Application", ID: "input.id", Kinds: anyone, Target: "Application"})
	ucRevokeRefreshToken = useCase(UseCase{Name: "revokeRefreshToken", Action: "App:RevokeRefreshToken", Resource: "App:Application", ID: "input.id", Kinds: anyone, Target: "Application"})
	// Token issuers' published keys (public: any resource server reads them).
	ucProjectKeys  = useCase(UseCase{Name: "projectKeys", HTTP: "GET /p/{projectId}/keys"})
	ucPlatformKeys = useCase(UseCase{Name: "platformKeys", HTTP: "GET /.well-known/jwks.json"})

	// Any entity by its global id: the use case of its type then decides.
	ucNode  = useCase(UseCase{Name: "node", Kinds: anyone})
	ucNodes = useCase(UseCase{Name: "nodes", Kinds: anyone})

	// Pages of roles and applications (roles and applications list them all).
	ucRolesConnection        = useCase(UseCase{Name: "rolesConnection", Action: "IAM:ListAllRoles", Resource: "IAM:Role", Kinds: anyone})
	ucApplicationsConnection = useCase(UseCase{Name: "applicationsConnection", Action: "App:ListAllApplications", Resource: "App:Application", Kinds: anyone})

	// Sign-ins of more than one step (login.go), the TOTP second factor
	// (mfa.go), SMS codes (smscode.go) and SSO connections (sso.go). The
	// steps after the first factor carry a login state (login.go).
	ucStartSignIn          = useCase(UseCase{Name: "startSignIn", Action: "App:SignIn", Target: "User", Fields: []string{"applicationId", "email", "password"}, ChecksCredential: true})
	ucBeginTotpEnrolment   = useCase(UseCase{Name: "beginTotpEnrolment", Action: "App:EnrolMFA", Target: "User", Fields: []string{"state"}})
	ucConfirmTotpEnrolment = useCase(UseCase{Name: "confirmTotpEnrolment", Action: "App:EnrolMFA", Target: "User", Fields: []string{"code", "state"}, ChecksCredential: true})
	ucVerifyTotp           = useCase(UseCase{Name: "verifyTotp", Action: "App:VerifyMFA", Target: "User", Fields: []string{"code", "state"}, ChecksCredential: true})
	ucUseRecoveryCode      = useCase(UseCase{Name: "useRecoveryCode", Action: "App:VerifyMFA", Target: "User", Fields: []string{"code", "state"}, ChecksCredential: true})
	ucLogInSecondFactor    = useCase(UseCase{Name: "logInSecondFactor", Action: "App:VerifyMFA", Target: "User", Fields: []string{"authRequest", "code", "factor", "state"}, HTTP: "POST /p/{projectId}/login", ChecksCredential: true})
	ucStartSmsSignIn       = useCase(UseCase{Name: "startSmsSignIn", Action: "App:StartSMSSignIn", Target: "User", Fields: []string{"applicationId", "phoneNumber"}, ChecksCredential: true})
	ucVerifySmsSignIn      = useCase(UseCase{Name: "verifySmsSignIn", Action: "App:SignIn", Target: "User", Fields: []string{"applicationId", "code", "phoneNumber"}, ChecksCredential: true})
	ucResetUserMfa         = useCase(UseCase{Name: "resetUserMfa", Action: "App:ResetUserMFA", Resource: "App:User", ID: "input.id", Kinds: anyone, Target: "User"})
	// The same SMS codes on the hosted login page (smslogin.go), bound to
	// its authorization request.
	ucStartSmsLogIn = useCase(UseCase{Name: "startSmsLogIn", Action: "App:StartSMSSignIn", Target: "User", Fields: []string{"authRequest", "phoneNumber"}, HTTP: "POST /p/{projectId}/login", ChecksCredential: true})
	ucLogInSms      = useCase(UseCase{Name: "logInSms", Action: "App:SignIn", Target: "User", Fields: []string{"authRequest", "code", "state"}, HTTP: "POST /p/{projectId}/login", ChecksCredential: true})
	// SSO connections are part of the project's settings: the catalogue has
	// no actions of their own.
	ucSSOConnections      = useCase(UseCase{Name: "ssoConnections", Action: "Project:GetProjectInfo", Resource: "Project:Settings", Kinds: anyone})
	ucCreateSSOConnection = useCase(UseCase{Name: "createSSOConnection", Action: "Project:UpdateProjectInfo", Resource: "Project:Settings", Kinds: anyone, Target: "SSOConnection"})
	ucUpdateSSOConnection = useCase(UseCase{Name: "updateSSOConnection", Action: "Project:UpdateProjectInfo", Resource: "Project:Settings", Kinds: anyone, Target: "SSOConnection"})
	ucDeleteSSOConnection = useCase(UseCase{Name: "deleteSSOConnection", Action: "Project:UpdateProjectInfo", Resource: "Project:Settings", Kinds: anyone, Target: "SSOConnection"})
	// What the login page offers besides the application's settings
	// (oidc.go: signup, the buttons of the connections); signing in
	// through a connection (ssoflow.go): the hop to the upstream provider,
	// and the callback from it, which signs the user in.
	ucLoginOptions    = useCase(UseCase{Name: "loginOptions", HTTP: "GET /p/{projectId}/login"})
	ucStartSsoSignIn  = useCase(UseCase{Name: "startSsoSignIn", HTTP: "GET /p/{projectId}/sso/{connectionId}"})
	ucFinishSsoSignIn = useCase(UseCase{Name: "finishSsoSignIn", Action: "App:SignIn", Target: "User", Fields: []string{"code", "state"}, HTTP: "GET /p/{projectId}" + SSOCallbackPath})
)
