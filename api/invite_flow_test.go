package api_test

import (
	"net/url"
	"testing"

	"atrium/atriumtest"
)

// invitee sets up an application and a role and invites one practitioner.
type invitee struct {
	App, Role, UserID, URL, Ticket string
}

func createApplication(t *testing.T, c *atriumtest.Client, name string) string {
	t.Helper()
	var out struct {
		CreateApplication struct{ Application struct{ ID string } }
	}
	c.MustDo(t, `mutation($n: String!) { createApplication(input: {name: $n, allowedCallbackUrls: ["https://app.example.com/callback"], loginRedirectUri: "https://app.example.com/login"}) { application { id } } }`,
		map[string]any{"n": name}, &out)
	return out.CreateApplication.Application.ID
}

func invite(t *testing.T, c *atriumtest.Client, app, role, email string) invitee {
	t.Helper()
	var out struct {
		InviteUser struct {
			User          struct{ ID string }
			InvitationURL string
		}
	}
	c.MustDo(t, `mutation($in: InviteUserInput!) { inviteUser(input: $in) { user { id } invitationUrl } }`, map[string]any{"in": map[string]any{
		"email": email, "applicationId": app, "roles": []string{role},
		"resource": map[string]any{"resourceType": "Practitioner", "name": []any{map[string]any{"family": "Snow"}}},
	}}, &out)
	u, err := url.Parse(out.InviteUser.InvitationURL)
	if err != nil {
		t.Fatal(err)
	}
	return invitee{App: app, Role: role, UserID: out.InviteUser.User.ID, URL: out.InviteUser.InvitationURL, Ticket: u.Query().Get("ticket")}
}

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
