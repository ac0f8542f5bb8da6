// Package web serves the pages a person opens in a browser: the hosted pages
// on one shared layout (layout.go), such as the invitation page (this file),
// where an invited user sets a password (a user invited by phone, who logs
// in with texted codes, is shown the way to its login instead), and
// GraphiQL (graphiql.go). Pages are self-contained (no external assets but
// an application's logo) and work offline.
package web

import (
	"context"
	_ "embed"
	"log/slog"
	"net/http"
	"strings"

	"atrium/iam"
	"atrium/service"
)

//go:embed invitation.html
var invitationHTML string

var invitationPage = NewPage("invitation", invitationHTML)

// Invitations is the service behind the invitation page.
type Invitations interface {
	OpenInvitation(ctx context.Context, ticket string) (*service.Invitation, error)
	AcceptInvitation(ctx context.Context, ticket, password string) (*service.Invitation, error)
}

// InvitationHandler serves GET (the form) and POST (set the password) on
// service.InvitationPath. Once the password is set it sends the user on to
// where it signs in (service.Invitation.LoginURL), or, when there is no such
// place, says it can now sign in.
func InvitationHandler(svc Invitations, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Secure(w)
		switch r.Method {
		case http.MethodGet:
			ticket := r.URL.Query().Get("ticket")
			inv, err := svc.OpenInvitation(r.Context(), ticket)
			render(w, r, log, pageFor(inv, ticket, err))
		case http.MethodPost:
			ticket, password := r.PostFormValue("ticket"), r.PostFormValue("password")
			inv, err := svc.OpenInvitation(r.Context(), ticket)
			if err != nil {
				render(w, r, log, pageFor(nil, ticket, err))
				return
			}
			if password != r.PostFormValue("confirm") {
				p := pageFor(inv, ticket, nil)
				p.Error = "The two passwords are not the same."
				render(w, r, log, p)
				return
			}
			done, err := svc.AcceptInvitation(r.Context(), ticket, password)
			if err == nil && done.LoginURL != "" {
				// Straight into the application's login.
				http.Redirect(w, r, done.LoginURL, http.StatusSeeOther)
				return
			}
			p := pageFor(inv, ticket, err)
			if err == nil {
				p = pageFor(done, "", nil)
				p.Done = true
			}
			render(w, r, log, p)
		default:
			w.Header().Set("Allow", "GET, POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		}
	})
}

// page is what the invitation template shows.
type page struct {
	Layout
	ProjectName, Email, Ticket, Action string
	Error, Invalid                     string
	Done                               bool
	status                             int
	headers                            http.Header // Retry-After and the like
	err                                error       // what stopped it, for the log
	// Phone is the number of a user invited by phone, whose page offers
	// the login (LoginURL) instead of a password.
	Phone, LoginURL string
}

// pageFor builds the page for an invitation, or for the error that stopped
// it: a bad ticket gets the "link does not work" page, a bad password the
// form again with the message, anything else a generic failure.
func pageFor(inv *service.Invitation, ticket string, err error) page {
	p := page{Layout: Layout{Title: "Set your password"}, Ticket: ticket, Action: service.InvitationPath, status: http.StatusOK}
	if inv != nil {
		p.ProjectName, p.Email, p.Phone, p.LoginURL = inv.ProjectName, inv.Email, inv.Phone, inv.LoginURL
		if p.Phone != "" {
			p.Title = "Your invitation"
		}
		if a := inv.Application; a != nil {
			p.AppName = a.Name
		}
		p.FormTargets = []string{inv.LoginURL} // where the form leads
	}
	if err == nil {
		return p
	}
	e, _ := iam.Public(err)
	p.status, p.err, p.headers = e.Code.HTTPStatus(), err, e.HTTPHeaders()
	switch e.Code {
	case iam.NotFound:
		// The domain says which: expired, or not valid (unknown, used or
		// replaced).
		p.Title, p.Invalid = "Invitation link not valid", sentence(e.Message)
	case iam.BadUserInput:
		p.Error = e.Message
	default:
		p.Title, p.Invalid = "Something went wrong", "Something went wrong on our side. Please try again in a moment."
	}
	return p
}

func render(w http.ResponseWriter, r *http.Request, log *slog.Logger, p page) {
	if p.status >= http.StatusInternalServerError {
		log.ErrorContext(r.Context(), "invitation page", "error", p.err.Error())
	}
	for k, v := range p.headers {
		w.Header()[k] = v
	}
	invitationPage.Render(w, r, log, p.status, &p)
}

// sentence turns a domain message ("this link has expired: …") into a
// sentence for the page.
func sentence(msg string) string {
	if msg == "" {
		return msg
	}
	return strings.ToUpper(msg[:1]) + msg[1:] + "."
}
