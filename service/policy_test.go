package service_test

import (
	"context"
	"net/url"
	"testing"

	"atrium/atriumtest"
	"atrium/auth"
	"atrium/iam"
	"atrium/service"
)

// The guard and the access simulator read a principal the same way, so
// they agree for a user in every status: what the simulator says the user
// may do is what the guard lets it do.
func TestGuardAndSimulatorAgreeOnEveryUserStatus(t *testing.T) {
	s := atriumtest.NewServer(t)
	op := s.Operator(s.Sandbox)
	var app struct {
		CreateApplication struct{ Application struct{ ID string } }
	}
	op.MustDo(t, `mutation { createApplication(input: {name: "Statuses", allowedCallbackUrls: []}) { application { id } } }`, nil, &app)
	invite := func(email string) (id, ticket string) {
		var out struct {
			InviteUser struct {
				User          struct{ ID string }
				InvitationURL string
			}
		}
		op.MustDo(t, `mutation($app: ID!, $email: String!) { inviteUser(input: {email: $email, applicationId: $app, resource: {resourceType: "Patient"},
			accessPolicy: {rule: [{resource: "IAM:Role", action: "IAM:ListAllRoles", effect: Allow}]}}) { user { id } invitationUrl } }`,
			map[string]any{"app": app.CreateApplication.Application.ID, "email": email}, &out)
		u, err := url.Parse(out.InviteUser.InvitationURL)
		if err != nil {
			t.Fatal(err)
		}
		return out.InviteUser.User.ID, u.Query().Get("ticket")
	}
	accept := func(ticket string) {
		s.Client("", "").MustDo(t, `mutation($t: String!) { acceptInvitation(input: {ticket: $t, password: "status-pass-1"}) { user { id } } }`, map[string]any{"t": ticket}, nil)
	}
	users := map[iam.UserStatus]func() string{
		iam.Invited: func() string { id, _ := invite("invited@example.com"); return id },
		iam.Active:  func() string { id, ticket := invite("active@example.com"); accept(ticket); return id },
		iam.Disabled: func() string {
			id, ticket := invite("disabled@example.com")
			accept(ticket)
			op.MustDo(t, `mutation($id: ID!) { disableUser(input: {id: $id}) { user { id } } }`, map[string]any{"id": id}, nil)
			return id
		},
	}
	asOperator := auth.WithRequest(t.Context(), auth.Request{Principal: &auth.Principal{Kind: auth.Operator}, ProjectID: s.Sandbox})
	for _, status := range iam.UserStatuses() {
		newUser, ok := users[status]
		if !ok {
			t.Errorf("no user in status %s to check", status)
			continue
		}
		id := newUser()
		asUser := auth.WithRequest(context.Background(), auth.Request{Principal: &auth.Principal{Kind: auth.User, ID: id, ProjectID: s.Sandbox}})
		_, guard := s.Service.Roles(asUser)
		check, err := s.Service.CheckAccess(asOperator, service.Subject{UserID: id}, "IAM:ListAllRoles", "IAM:Role")
		if err != nil {
			t.Fatal(err)
		}
		if (guard == nil) != check.Allowed {
			t.Errorf("a %s user: the guard says %v, the simulator allowed=%v (%s)", status, guard, check.Allowed, check.Reason)
		}
		if want := status == iam.Active; check.Allowed != want {
			t.Errorf("a %s user: allowed=%v, want %v (%s)", status, check.Allowed, want, check.Reason)
		}
	}
}
