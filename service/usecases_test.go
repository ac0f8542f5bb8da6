package service_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"atrium/access"
	"atrium/atriumtest"
	"atrium/auth"
	"atrium/iam"
	"atrium/service"
)

func TestMain(m *testing.M) { atriumtest.Main(m) }

// call is how a test reaches the method that serves a use case; the inputs
// do not matter, the caller does.
type call struct {
	useCase, method string
	do              func(context.Context, *service.Service) error
}

func calls() []call {
	one := func(f func(context.Context, *service.Service) (any, error)) func(context.Context, *service.Service) error {
		return func(ctx context.Context, s *service.Service) error { _, err := f(ctx, s); return err }
	}
	return []call{
		{"project", "Project", one(func(ctx context.Context, s *service.Service) (any, error) { return s.Project(ctx) })},
		{"projects", "Projects", one(func(ctx context.Context, s *service.Service) (any, error) { return s.Projects(ctx) })},
		{"createProject", "CreateProject", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.CreateProject(ctx, service.NewProject{Name: "P", FHIRVersion: iam.R4})
		})},
		{"updateProject", "UpdateProject", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.UpdateProject(ctx, service.ProjectChanges{})
		})},
		{"auditEvents", "AuditEvents", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.AuditEvents(ctx, service.PageArgs{}, iam.AuditFilter{})
		})},
		{"role", "Role", one(func(ctx context.Context, s *service.Service) (any, error) { return s.Role(ctx, "r") })},
		{"roles", "Roles", one(func(ctx context.Context, s *service.Service) (any, error) { return s.Roles(ctx) })},
		{"createRole", "CreateRole", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.CreateRole(ctx, service.NewRole{Name: "R"})
		})},
		{"updateRole", "UpdateRole", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.UpdateRole(ctx, "r", service.RoleChanges{})
		})},
		{"deleteRole", "DeleteRole", func(ctx context.Context, s *service.Service) error { return s.DeleteRole(ctx, "r") }},
		{"checkAccess", "CheckAccess", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.CheckAccess(ctx, service.Subject{UserID: "u"}, "IAM:GetRole", "IAM:Role")
		})},
		{"application", "Application", one(func(ctx context.Context, s *service.Service) (any, error) { return s.Application(ctx, "a") })},
		{"applications", "Applications", one(func(ctx context.Context, s *service.Service) (any, error) { return s.Applications(ctx) })},
		{"createApplication", "CreateApplication", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.CreateApplication(ctx, service.ApplicationInput{})
		})},
		{"updateApplication", "UpdateApplication", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.UpdateApplication(ctx, "a", service.ApplicationInput{})
		})},
		{"deleteApplication", "DeleteApplication", func(ctx context.Context, s *service.Service) error { return s.DeleteApplication(ctx, "a") }},
		{"rotateApplicationSecret", "RotateApplicationSecret", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.RotateApplicationSecret(ctx, "a")
		})},
		{"verifyApplicationSecret", "VerifyApplicationSecret", func(ctx context.Context, s *service.Service) error {
			return s.VerifyApplicationSecret(ctx, "p", "no-such-client", "secret")
		}},
		{"user", "User", one(func(ctx context.Context, s *service.Service) (any, error) { return s.User(ctx, "u") })},
		{"users", "Users", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.Users(ctx, service.PageArgs{}, iam.UserFilter{}, iam.UsersByCreatedAt, false)
		})},
		{"me", "Me", one(func(ctx context.Context, s *service.Service) (any, error) { return s.Me(ctx) })},
		{"inviteUser", "InviteUser", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.InviteUser(ctx, service.InviteInput{})
		})},
		{"inviteUsers", "InviteUsers", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.InviteUsers(ctx, []service.InviteInput{{}})
		})},
		{"resendInvitation", "ResendInvitation", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.ResendInvitation(ctx, "u")
		})},
		{"openInvitation", "OpenInvitation", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.OpenInvitation(ctx, "no-such-ticket")
		})},
		{"acceptInvitation", "AcceptInvitation", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.AcceptInvitation(ctx, "no-such-ticket", "a-long-password")
		})},
		{"signIn", "SignIn", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.SignIn(ctx, "no-such-app", "a@example.com", "a-long-password")
		})},
		{"signUp", "SignUp", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.SignUp(ctx, service.SignUpInput{ApplicationID: "no-such-app"})
		})},
		{"updateUser", "UpdateUser", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.UpdateUser(ctx, "u", service.UserChanges{})
		})},
		{"deleteUser", "DeleteUser", func(ctx context.Context, s *service.Service) error { return s.DeleteUser(ctx, "u") }},
		{"disableUser", "SetUserDisabled", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.SetUserDisabled(ctx, "u", true)
		})},
		{"enableUser", "SetUserDisabled", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.SetUserDisabled(ctx, "u", false)
		})},
		{"hostedProject", "HostedProject", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.HostedProject(ctx, "no-such-project")
		})},
		{"forgotPassword", "ForgotPassword", func(ctx context.Context, s *service.Service) error {
			return s.ForgotPassword(ctx, "no-such-project", "a@example.com", "")
		}},
		{"openPasswordReset", "OpenPasswordReset", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.OpenPasswordReset(ctx, "no-such-project", "no-such-ticket")
		})},
		{"resetPassword", "ResetPassword", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.ResetPassword(ctx, "no-such-project", "no-such-ticket", "a-long-password")
		})},
		{"createAccount", "CreateAccount", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.CreateAccount(ctx, "no-such-project", "a@example.com", "a-long-password")
		})},
		{"userPasswordResetLink", "UserPasswordResetLink", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.UserPasswordResetLink(ctx, "u", "")
		})},
		{"developer", "Developer", one(func(ctx context.Context, s *service.Service) (any, error) { return s.Developer(ctx, "d") })},
		{"developers", "Developers", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.Developers(ctx, service.PageArgs{}, iam.DeveloperFilter{}, iam.UsersByCreatedAt, false)
		})},
		{"inviteDeveloper", "InviteDeveloper", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.InviteDeveloper(ctx, service.DeveloperInput{})
		})},
		{"updateDeveloper", "UpdateDeveloper", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.UpdateDeveloper(ctx, "d", service.Optional[[]string]{}, service.Optional[*access.Policy]{})
		})},
		{"removeDeveloper", "RemoveDeveloper", func(ctx context.Context, s *service.Service) error { return s.RemoveDeveloper(ctx, "d") }},
		{"signInDeveloper", "SignInDeveloper", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.SignInDeveloper(ctx, "nobody@example.com", "a-long-password")
		})},
		{"m2mClient", "M2MClient", one(func(ctx context.Context, s *service.Service) (any, error) { return s.M2MClient(ctx, "c") })},
		{"m2mClients", "M2MClients", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.M2MClients(ctx, service.PageArgs{}, iam.M2MFilter{}, iam.UsersByCreatedAt, false)
		})},
		{"m2mMe", "M2MMe", one(func(ctx context.Context, s *service.Service) (any, error) { return s.M2MMe(ctx) })},
		{"createM2MClient", "CreateM2MClient", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.CreateM2MClient(ctx, service.M2MInput{})
		})},
		{"updateM2MClient", "UpdateM2MClient", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.UpdateM2MClient(ctx, "c", service.M2MInput{})
		})},
		{"deleteM2MClient", "DeleteM2MClient", func(ctx context.Context, s *service.Service) error { return s.DeleteM2MClient(ctx, "c") }},
		{"rotateM2MClientSecret", "RotateM2MClientSecret", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.RotateM2MClientSecret(ctx, "c")
		})},
		{"issueM2MClientToken", "ClientCredentials", func(ctx context.Context, s *service.Service) error {
			_, _, err := s.ClientCredentials(ctx, "no-such-client", "secret")
			return err
		}},
		{"openIDProvider", "OpenIDProvider", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.OpenIDProvider(ctx, "no-such-project")
		})},
		{"openIDClient", "OpenIDClient", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.OpenIDClient(ctx, "no-such-project", "c")
		})},
		{"startAuthorization", "StartAuthorization", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.StartAuthorization(ctx, "no-such-project", &iam.AuthRequest{ClientID: "c"})
		})},
		{"authorization", "Authorization", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.Authorization(ctx, "no-such-project", "r")
		})},
		{"logIn", "LogIn", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.LogIn(ctx, "no-such-project", "r", "a@example.com", "a-long-password")
		})},
		{"resumeSession", "ResumeSession", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.ResumeSession(ctx, "no-such-project", "r", "")
		})},
		{"issueCode", "IssueCode", func(ctx context.Context, s *service.Service) error {
			return s.IssueCode(ctx, "no-such-project", "r", "code")
		}},
		{"redeemCode", "RedeemCode", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.RedeemCode(ctx, "no-such-project", "code")
		})},
		{"issueTokens", "IssueTokens", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.IssueTokens(ctx, "no-such-project", service.TokenRequest{}, "", false)
		})},
		{"refreshGrant", "RefreshGrant", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.RefreshGrant(ctx, "no-such-project", "g.secret")
		})},
		{"openIDUser", "OpenIDUserOf", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.OpenIDUserOf(ctx, "no-such-project", "u", "")
		})},
		{"revokeToken", "RevokeToken", func(ctx context.Context, s *service.Service) error {
			return s.RevokeToken(ctx, "no-such-project", "c", "g.x")
		}},
		{"endSession", "EndSession", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.EndSession(ctx, "no-such-project", "", "", "")
		})},
		{"revokeAccessToken", "RevokeAccessToken", func(ctx context.Context, s *service.Service) error {
			return s.RevokeAccessToken(ctx, "a", "t")
		}},
		{"revokeRefreshToken", "RevokeRefreshToken", func(ctx context.Context, s *service.Service) error {
			return s.RevokeRefreshToken(ctx, "a", "g.t")
		}},
		{"projectKeys", "ProjectKeys", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.ProjectKeys(ctx, "no-such-project")
		})},
		{"platformKeys", "PlatformKeys", one(func(ctx context.Context, s *service.Service) (any, error) { return s.PlatformKeys(ctx) })},
		{"node", "Node", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.Node(ctx, iam.GlobalID("Role", "r"))
		})},
		{"rolesConnection", "RolesPage", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.RolesPage(ctx, service.PageArgs{})
		})},
		{"applicationsConnection", "ApplicationsPage", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.ApplicationsPage(ctx, service.PageArgs{})
		})},
		{"nodes", "Nodes", func(ctx context.Context, s *service.Service) error {
			_, _, err := s.Nodes(ctx, []string{iam.GlobalID("Role", "r")})
			return err
		}},

		{"startSignIn", "StartSignIn", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.StartSignIn(ctx, "no-such-app", "a@example.com", "a-long-password")
		})},
		{"beginTotpEnrolment", "BeginTOTPEnrolment", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.BeginTOTPEnrolment(ctx, "no-such-state")
		})},
		{"confirmTotpEnrolment", "ConfirmTOTPEnrolment", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.ConfirmTOTPEnrolment(ctx, "no-such-state", "123456")
		})},
		{"verifyTotp", "VerifyTOTP", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.VerifyTOTP(ctx, "no-such-state", "123456")
		})},
		{"useRecoveryCode", "UseRecoveryCode", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.UseRecoveryCode(ctx, "no-such-state", "abcde-fghjk")
		})},
		{"logInSecondFactor", "LogInSecondFactor", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.LogInSecondFactor(ctx, "no-such-project", "r", "no-such-state", service.FactorTOTP, "123456")
		})},
		{"startSmsSignIn", "StartSMSSignIn", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.StartSMSSignIn(ctx, "no-such-app", "+15555550123")
		})},
		{"verifySmsSignIn", "VerifySMSSignIn", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.VerifySMSSignIn(ctx, "no-such-app", "+15555550123", "123456")
		})},
		{"startSmsLogIn", "StartSMSLogIn", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.StartSMSLogIn(ctx, "no-such-project", "r", "+15555550123")
		})},
		{"logInSms", "LogInSMS", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.LogInSMS(ctx, "no-such-project", "r", "no-such-state", "123456")
		})},
		{"ssoConnections", "SSOConnections", one(func(ctx context.Context, s *service.Service) (any, error) { return s.SSOConnections(ctx) })},
		{"createSSOConnection", "CreateSSOConnection", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.CreateSSOConnection(ctx, service.SSOConnectionInput{})
		})},
		{"updateSSOConnection", "UpdateSSOConnection", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.UpdateSSOConnection(ctx, "c", service.SSOConnectionInput{})
		})},
		{"deleteSSOConnection", "DeleteSSOConnection", func(ctx context.Context, s *service.Service) error { return s.DeleteSSOConnection(ctx, "c") }},
		{"loginOptions", "LoginOptions", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.LoginOptions(ctx, "no-such-project")
		})},
		{"startSsoSignIn", "StartSSOSignIn", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.StartSSOSignIn(ctx, "no-such-project", "c", "r", "")
		})},
		{"finishSsoSignIn", "FinishSSOSignIn", one(func(ctx context.Context, s *service.Service) (any, error) {
			return s.FinishSSOSignIn(ctx, "no-such-project", service.SSOCallback{State: "s", Code: "c"})
		})},
		{"resetUserMfa", "ResetUserMFA", one(func(ctx context.Context, s *service.Service) (any, error) { return s.ResetUserMFA(ctx, "u") })},
	}
}

// isStateError reports an answer about a login state: the steps after a
// first factor are public, their proof is the state they are given.
func isStateError(err error) bool {
	var e *iam.Error
	return errors.As(err, &e) && e.Field == "input.state"
}

// notUseCases are the exported methods that serve no use case of their
// own, and why.
var notUseCases = map[string]string{
	"Bootstrap":            "run once at start-up, before anyone can call",
	"Close":                "run once at shutdown, to drain the work done off the answer path",
	"OriginAllowed":        "the CORS decision, taken before any use case",
	"ProjectOriginAllowed": "the CORS decision of a project's OpenID endpoints, taken before any use case",
	"WithLoaders":          "gives a request its batch loaders",
	"ProjectRole":          "a part of a project some use case has already returned",
	"MemberCount":          "a part of a role some use case has already returned",
	"UserRoles":            "a part of a user some use case has already returned",
	"DeveloperRoles":       "a part of a developer some use case has already returned",
	"M2MClientRoles":       "a part of a machine client some use case has already returned",
	"UserProfile":          "a part of a user some use case has already returned",
	"DeveloperProfile":     "a part of a developer some use case has already returned",
	"M2MClientProfile":     "a part of a machine client some use case has already returned",
	"Once":                 "runs a transport's request at most once per request id; the use case inside checks and audits",
	"SSOCallbackURL":       "a part of an SSO connection some use case has already returned",
}

// Every exported method of Service either serves a use case of the table
// or is listed, with its reason, as not one; every use case has a method.
func TestEveryMethodServesAUseCase(t *testing.T) {
	byMethod := map[string]bool{}
	byUseCase := map[string]bool{}
	for _, c := range calls() {
		byMethod[c.method], byUseCase[c.useCase] = true, true
	}
	typ := reflect.TypeFor[*service.Service]()
	for i := range typ.NumMethod() {
		m := typ.Method(i).Name
		if !byMethod[m] && notUseCases[m] == "" {
			t.Errorf("Service.%s serves no use case of the table (service/usecases.go) and is not listed as not one", m)
		}
		if byMethod[m] && notUseCases[m] != "" {
			t.Errorf("Service.%s is both a use case and not one", m)
		}
	}
	for _, uc := range service.UseCases() {
		if !byUseCase[uc.Name] {
			t.Errorf("use case %s has no call in this test", uc.Name)
		}
		delete(byUseCase, uc.Name)
	}
	for name := range byUseCase {
		t.Errorf("the test calls %s, which is not in the table", name)
	}
}

// The table is well formed: a guarded use case's action is catalogued and
// acts on its resource type, every use case some principal may call names
// who, and every audited one names its action.
func TestUseCaseTable(t *testing.T) {
	seen := map[string]bool{}
	for _, uc := range service.UseCases() {
		if seen[uc.Name] {
			t.Errorf("use case %s is in the table twice", uc.Name)
		}
		seen[uc.Name] = true
		grants := []service.Grant{{Action: uc.Action, Resource: uc.Resource}}
		if uc.Or != nil {
			grants = append(grants, *uc.Or)
		}
		if uc.Guarded() {
			for _, g := range grants {
				spec, ok := access.Lookup(g.Action)
				if !ok || spec.ResourceType != g.Resource {
					t.Errorf("%s: %s on %s is not an action of the catalogue on its resource type (%+v)", uc.Name, g.Action, g.Resource, spec)
				}
				if spec.TypeWide && uc.ID != "" {
					t.Errorf("%s: %s acts on the type as a whole, yet the grant names an id", uc.Name, g.Action)
				}
			}
			if !slices.Equal(uc.Kinds, []auth.Kind{auth.Operator, auth.Developer, auth.User, auth.M2MClient}) {
				t.Errorf("%s: a guarded use case is open to every kind, its policy decides; got %v", uc.Name, uc.Kinds)
			}
		} else if uc.ID != "" || uc.Or != nil {
			t.Errorf("%s: an id or an alternative grant, without a resource", uc.Name)
		}
		if uc.Audited() && uc.Action == "" {
			t.Errorf("%s is audited but names no action", uc.Name)
		}
	}
}

// Each use case checks its caller itself, whatever the transport: a
// credential is needed unless the use case is public, a principal of a
// kind the table does not allow is refused, and a guarded use case does
// not reveal a project to a developer who is not its member. The debug log
// shows the use case that ran.
func TestEveryUseCaseChecksItsCaller(t *testing.T) {
	s := atriumtest.NewServer(t)
	as := func(p *auth.Principal) context.Context {
		return auth.WithRequest(t.Context(), auth.Request{Principal: p, ProjectID: s.Sandbox})
	}
	principals := map[auth.Kind]*auth.Principal{
		auth.Operator:  {Kind: auth.Operator},
		auth.Developer: {Kind: auth.Developer, ID: "not-a-member"},
		auth.User:      {Kind: auth.User, ID: "no-such-user", ProjectID: s.Sandbox},
		auth.M2MClient: {Kind: auth.M2MClient, ID: "no-such-client", ProjectID: s.Sandbox},
	}
	table := map[string]service.UseCase{}
	for _, uc := range service.UseCases() {
		table[uc.Name] = uc
	}
	for _, c := range calls() {
		uc, ok := table[c.useCase]
		if !ok {
			continue // TestEveryMethodServesAUseCase reports it
		}
		ran := func(ctx context.Context) error {
			before := len(s.Log.String())
			err := c.do(ctx, s.Service)
			if line := `"msg":"use case","name":"` + uc.Name + `"`; !strings.Contains(s.Log.String()[before:], line) {
				t.Errorf("%s: Service.%s did not run its use case (no %s in the log)", uc.Name, c.method, line)
			}
			return err
		}
		anonymous := ran(t.Context())
		if uc.Public() {
			if code := iam.ErrorCode(anonymous); code == iam.Unauthenticated && anonymous != nil && !strings.Contains(anonymous.Error(), "wrong") && !strings.Contains(anonymous.Error(), "unknown client") && !isStateError(anonymous) {
				t.Errorf("%s is public, yet an anonymous call is refused: %v", uc.Name, anonymous)
			}
			continue
		}
		if code := iam.ErrorCode(anonymous); code != iam.Unauthenticated {
			t.Errorf("%s: an anonymous call gives %v, want UNAUTHENTICATED", uc.Name, anonymous)
		}
		for kind, p := range principals {
			err := ran(as(p))
			switch {
			case !slices.Contains(uc.Kinds, kind):
				if iam.ErrorCode(err) != iam.Forbidden {
					t.Errorf("%s by a %s: %v, want FORBIDDEN (the table allows only %v)", uc.Name, kind, err, uc.Kinds)
				}
			case uc.Guarded() && kind == auth.Developer:
				if iam.ErrorCode(err) != iam.NotFound {
					t.Errorf("%s by a developer of another project: %v, want NOT_FOUND", uc.Name, err)
				}
			}
		}
	}
}
