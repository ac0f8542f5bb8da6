package web_test

// The invitation page of a user invited by phone number: it logs in with
// codes texted to it, so the page sets no password; it names the number
// and leads to the application's login.

import (
	"net/http"
	"testing"

	"atrium/client"
)

func TestInvitationPageOfAUserInvitedByPhone(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	inv := f.invite(t, f.app, "", func(in *client.InviteUserInput) { in.Email, in.PhoneNumber = nil, ptr("+15555550123") })
	p := get(t, f.s, local(t, f.s, inv.URL))
	if p.status != http.StatusOK {
		t.Fatalf("GET invitation: %d\n%s", p.status, p.body)
	}
	wantSecure(t, p)
	p.want(t, "Sandbox", appName, `id="invited-phone">&#43;15555550123<`, `<a href="`+loginURL+`" id="login">Log in to `+appName+`</a>`)
	p.wantNot(t, "<form", `type="password"`, inv.Ticket)
	if f.status(t, inv.UserID) != "INVITED" {
		t.Fatal("opening the page changed the user")
	}

	// An email invitation still sets a password.
	email := f.invite(t, f.app, "by.email@example.com")
	get(t, f.s, local(t, f.s, email.URL)).want(t, `type="password"`)
}
