package service_test

import (
	"context"
	"testing"

	"atrium/atriumtest"
	"atrium/auth"
	"atrium/client"
	"atrium/iam"
	"atrium/service"
)

// The guard and the access simulator read a principal the same way, so
// they agree for a user in every status: what the simulator says the user
// may do is what the guard lets it do.
func TestGuardAndSimulatorAgreeOnEveryUserStatus(t *testing.T) {
	s := atriumtest.NewServer(t)
	op := s.Operator(s.Sandbox)
	app := atriumtest.CreateApplication(t, op, client.CreateApplicationInput{Name: "Statuses", AllowedCallbackUrls: []string{}})
	invite := func(email string) (id, ticket string) {
		inv := atriumtest.Invite(t, op, client.InviteUserInput{Email: &email, ApplicationId: app, Resource: &map[string]any{"resourceType": "Patient"},
			AccessPolicy: atriumtest.Policy(atriumtest.Allow("IAM:Role", "IAM:ListAllRoles"))})
		return inv.UserID, inv.Ticket
	}
	accept := func(ticket string) { s.Accept(t, ticket, "status-pass-1") }
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
