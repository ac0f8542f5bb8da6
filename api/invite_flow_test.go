package api_test

import (
	"testing"

	"atrium/atriumtest"
)

func TestInviteAcceptSignIn(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	op := s.Operator(s.Sandbox)
	app := createApplication(t, op, "EHR")
	role := createRole(t, op, "Staff")
	inv := invite(t, op, app, role, "  Jon.Snow@Example.com ")

	var accepted struct {
		AcceptInvitation struct {
			User struct{ Status, Email string }
		}
	}
	s.Client("", "").MustDo(t, `mutation($t: String!) { acceptInvitation(input: {ticket: $t, password: "winter-is-coming"}) { user { status email } } }`,
		map[string]any{"t": inv.Ticket}, &accepted)
	if accepted.AcceptInvitation.User.Status != "ACTIVE" || accepted.AcceptInvitation.User.Email != "jon.snow@example.com" {
		t.Fatalf("accept: %+v", accepted)
	}
	var signIn struct{ SignIn struct{ AccessToken string } }
	s.Client("", "").MustDo(t, `mutation($a: ID!) { signIn(input: {applicationId: $a, email: "jon.snow@example.com", password: "winter-is-coming"}) { accessToken expiresAt } }`,
		map[string]any{"a": app}, &signIn)
	var me struct {
		Me struct {
			ID    string
			Roles []struct{ Name string }
		}
	}
	s.Client(signIn.SignIn.AccessToken, "").MustDo(t, `{ me { id roles { name } } }`, nil, &me)
	if me.Me.ID != inv.UserID || len(me.Me.Roles) != 1 || me.Me.Roles[0].Name != "Staff" {
		t.Fatalf("me: %+v", me)
	}
	var list struct {
		Users struct {
			TotalCount int
			Edges      []struct{ Node struct{ ID string } }
		}
	}
	s.Client(signIn.SignIn.AccessToken, "").MustDo(t, `{ users(first: 10) { totalCount edges { node { id } } } }`, nil, &list)
	if list.Users.TotalCount != 1 || list.Users.Edges[0].Node.ID != inv.UserID {
		t.Fatalf("users: %+v", list)
	}
}
