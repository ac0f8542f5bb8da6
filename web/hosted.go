package web

// The hosted pages around the login page, under a project's issuer path:
// /p/{projectId}/forgot (ask for a reset link), /p/{projectId}/reset (set a
// new password with it) and /p/{projectId}/signup (self-registration). Each
// takes an optional authRequest (the login in progress), carries it through
// its form and, on success, returns to /p/{projectId}/login?authRequest=…
// with a notice; without one it ends on its own page. Every rule is the
// service's; a form posted from another site is refused (Mount wraps the
// routes, and the invitation page, in http.CrossOriginProtection).

import (
	"context"
	_ "embed"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"

	"atrium/iam"
	"atrium/service"
)

var (
	//go:embed forgot.html
	forgotHTML string
	//go:embed reset.html
	resetHTML string
	//go:embed signup.html
	signupHTML string
	//go:embed message.html
	messageHTML string

	forgotPage  = NewPage("forgot", forgotHTML)
	resetPage   = NewPage("reset", resetHTML)
	signupPage  = NewPage("signup", signupHTML)
	messagePage = NewPage("message", messageHTML)
)

// Hosted is the service behind the hosted pages.
type Hosted interface {
	Invitations
	HostedProject(ctx context.Context, projectID string) (*service.HostedProject, error)
	ForgotPassword(ctx context.Context, projectID, email, authRequest string) error
	OpenPasswordReset(ctx context.Context, projectID, ticket string) (*service.PasswordReset, error)
	ResetPassword(ctx context.Context, projectID, ticket, password string) (*service.PasswordReset, error)
	CreateAccount(ctx context.Context, projectID, email, password string) (*iam.User, error)
}

// Mount registers the invitation page and the hosted pages on mux, each
// behind cross-origin protection. The patterns are more specific than the
// OpenID provider's /p/{projectId}/, so they win over it.
func Mount(mux *http.ServeMux, svc Hosted, log *slog.Logger) {
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		renderMessage(w, r, log, http.StatusForbidden, "Form refused",
			"This form was sent from another site, so it was not accepted.",
			"Open the page from its own link and try again.")
	}))
	h := hosted{svc: svc, log: log}
	mux.Handle(service.InvitationPath, csrf.Handler(InvitationHandler(svc, log)))
	mux.Handle("/p/{projectId}/forgot", csrf.Handler(h.page(h.forgot)))
	mux.Handle("/p/{projectId}/reset", csrf.Handler(h.page(h.reset)))
	mux.Handle("/p/{projectId}/signup", csrf.Handler(h.page(h.signup)))
}

type hosted struct {
	svc Hosted
	log *slog.Logger
}

// hostedView is what the forgot, reset and sign-up templates show.
type hostedView struct {
	Layout
	ProjectName string
	Action      string // the form's own path
	AuthRequest string
	Email       string
	Ticket      string
	Error       string // a problem with what was typed: the form again
	Invalid     string // the link does not work
	Done        bool
	// LoginURL is where to sign in: the login in progress, else the
	// application's login page; ForgotURL asks for a new reset link.
	LoginURL, ForgotURL template.URL
}

// visit is one request to a hosted page of a known project.
type visit struct {
	w           http.ResponseWriter
	r           *http.Request
	project     *service.HostedProject
	authRequest string
}

// page answers GET and POST for a project that exists (a 404 page
// otherwise, as the service says), and 405 for other methods.
func (h hosted) page(serve func(v *visit, view *hostedView)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Secure(w)
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			w.Header().Set("Allow", "GET, POST")
			renderMessage(w, r, h.log, http.StatusMethodNotAllowed, "Not available", "This page only opens in a browser.", "")
			return
		}
		p, err := h.svc.HostedProject(r.Context(), r.PathValue("projectId"))
		if err != nil {
			h.fail(w, r, err)
			return
		}
		v := &visit{w: w, r: r, project: p, authRequest: authRequestOf(r)}
		view := &hostedView{Layout: Layout{}, ProjectName: p.Name, Action: r.URL.Path, AuthRequest: v.authRequest,
			LoginURL: v.loginURL(""), ForgotURL: template.URL(v.path("forgot", nil))}
		serve(v, view)
	})
}

// authRequestPattern is what an authRequest id may look like; anything else
// is dropped rather than carried around.
var authRequestPattern = regexp.MustCompile(`^[A-Za-z0-9._~:-]{1,256}$`)

func authRequestOf(r *http.Request) string {
	a := r.FormValue("authRequest") // the query on GET, the form on POST
	if !authRequestPattern.MatchString(a) {
		return ""
	}
	return a
}

// path is a hosted page of the visit's project, with the login in progress
// and query.
func (v *visit) path(page string, query url.Values) string {
	if query == nil {
		query = url.Values{}
	}
	if v.authRequest != "" {
		query.Set("authRequest", v.authRequest)
	}
	p := service.HostedPath(v.project.ID, page)
	if len(query) > 0 {
		p += "?" + query.Encode()
	}
	return p
}

// loginURL is where to sign in: the login in progress (with notice), else
// appLogin, else the project's first application's login page.
func (v *visit) loginURL(appLogin string) template.URL {
	switch {
	case v.authRequest != "":
		return template.URL(v.path("login", nil))
	case appLogin != "":
		return template.URL(appLogin)
	}
	return template.URL(v.project.LoginURL)
}

// done ends a successful form: back to the login in progress with notice,
// else the page's own confirmation.
func (h hosted) done(v *visit, notice string, page *Page, view *hostedView) {
	if v.authRequest != "" {
		http.Redirect(v.w, v.r, v.path("login", url.Values{"notice": {notice}}), http.StatusSeeOther)
		return
	}
	view.Done = true
	page.Render(v.w, v.r, h.log, http.StatusOK, view)
}

// forgot: GET shows the form, POST asks the service for a link and says the
// same whatever the address.
func (h hosted) forgot(v *visit, view *hostedView) {
	view.Title = "Forgot your password?"
	if v.r.Method == http.MethodGet {
		forgotPage.Render(v.w, v.r, h.log, http.StatusOK, view)
		return
	}
	view.Email = v.r.PostFormValue("email")
	if err := h.svc.ForgotPassword(v.r.Context(), v.project.ID, view.Email, v.authRequest); err != nil {
		h.again(v, forgotPage, view, err)
		return
	}
	view.Done, view.Title = true, "Check your email"
	forgotPage.Render(v.w, v.r, h.log, http.StatusOK, view)
}

// reset: GET shows the form for a working link, POST sets the password.
func (h hosted) reset(v *visit, view *hostedView) {
	view.Title, view.Ticket = "Choose a new password", v.r.FormValue("ticket")
	r, err := h.svc.OpenPasswordReset(v.r.Context(), v.project.ID, view.Ticket)
	if err != nil {
		h.invalid(v, view, err)
		return
	}
	view.Email, view.LoginURL = r.User.Email, v.loginURL(r.LoginURL)
	view.FormTargets = []string{r.RedirectURL} // where the form may lead
	if v.r.Method == http.MethodGet {
		resetPage.Render(v.w, v.r, h.log, http.StatusOK, view)
		return
	}
	password := v.r.PostFormValue("password")
	if password != v.r.PostFormValue("confirm") {
		view.Error = "The two passwords are not the same."
		resetPage.Render(v.w, v.r, h.log, http.StatusBadRequest, view)
		return
	}
	if r, err = h.svc.ResetPassword(v.r.Context(), v.project.ID, view.Ticket, password); err != nil {
		if iam.ErrorCode(err) == iam.NotFound {
			h.invalid(v, view, err)
			return
		}
		h.again(v, resetPage, view, err)
		return
	}
	if v.authRequest == "" && r.RedirectURL != "" {
		http.Redirect(v.w, v.r, r.RedirectURL, http.StatusSeeOther)
		return
	}
	view.Title, view.Ticket = "Password changed", ""
	h.done(v, "password-reset", resetPage, view)
}

// invalid shows that a reset link does not work (or whatever else stopped
// opening it).
func (h hosted) invalid(v *visit, view *hostedView, err error) {
	if iam.ErrorCode(err) != iam.NotFound {
		h.fail(v.w, v.r, err)
		return
	}
	e, _ := iam.Public(err)
	view.Title, view.Invalid, view.Ticket = "Reset link not valid", sentence(e.Message), ""
	resetPage.Render(v.w, v.r, h.log, http.StatusNotFound, view)
}

// signup: GET shows the form when the project takes registrations, POST
// asks the service to create the account (which refuses when it does not).
func (h hosted) signup(v *visit, view *hostedView) {
	view.Title = "Create an account"
	if v.r.Method == http.MethodGet {
		if !v.project.SignupOpen {
			renderMessage(v.w, v.r, h.log, http.StatusForbidden, "Sign-up is closed",
				v.project.Name+" does not take registrations here.", "Ask the people who run it for an invitation.")
			return
		}
		signupPage.Render(v.w, v.r, h.log, http.StatusOK, view)
		return
	}
	view.Email = v.r.PostFormValue("email")
	password := v.r.PostFormValue("password")
	if password != v.r.PostFormValue("confirm") {
		view.Error = "The two passwords are not the same."
		signupPage.Render(v.w, v.r, h.log, http.StatusBadRequest, view)
		return
	}
	u, err := h.svc.CreateAccount(v.r.Context(), v.project.ID, view.Email, password)
	if err != nil {
		if iam.ErrorCode(err) == iam.Forbidden { // closed, perhaps since the form opened
			e, _ := iam.Public(err)
			renderMessage(v.w, v.r, h.log, http.StatusForbidden, "Sign-up is closed", sentence(e.Message), "")
			return
		}
		h.again(v, signupPage, view, err)
		return
	}
	view.Title, view.Email = "Account created", u.Email
	h.done(v, "account-created", signupPage, view)
}

// again shows the form once more with the domain's message, for what the
// person can fix (a bad input, a taken email, too many tries); anything
// else is a failure page.
func (h hosted) again(v *visit, page *Page, view *hostedView, err error) {
	switch iam.ErrorCode(err) {
	case iam.BadUserInput, iam.Conflict, iam.RateLimited:
	default:
		h.fail(v.w, v.r, err)
		return
	}
	e, _ := iam.Public(err)
	for k, vs := range e.HTTPHeaders() {
		v.w.Header()[k] = vs
	}
	view.Error = sentence(e.Message)
	page.Render(v.w, v.r, h.log, e.Code.HTTPStatus(), view)
}

// fail shows an error kindly, with its code's status: an unknown project
// is a page not found; a failure on Atrium's side is logged, never shown.
func (h hosted) fail(w http.ResponseWriter, r *http.Request, err error) {
	e, _ := iam.Public(err)
	status := e.Code.HTTPStatus()
	for k, vs := range e.HTTPHeaders() {
		w.Header()[k] = vs
	}
	switch {
	case status >= http.StatusInternalServerError:
		h.log.ErrorContext(r.Context(), "hosted page", "path", r.URL.Path, "error", err.Error())
		renderMessage(w, r, h.log, status, "Something went wrong", "Something went wrong on our side. Please try again in a moment.", "")
	case e.Code == iam.NotFound:
		renderMessage(w, r, h.log, status, "Page not found", "There is no such page here.", "Check the link you followed.")
	default:
		renderMessage(w, r, h.log, status, "Not possible", sentence(e.Message), "")
	}
}

// messageView is what the message template shows.
type messageView struct {
	Layout
	Heading, Text, Hint string
}

func renderMessage(w http.ResponseWriter, r *http.Request, log *slog.Logger, status int, heading, text, hint string) {
	messagePage.Render(w, r, log, status, &messageView{Layout: Layout{Title: heading}, Heading: heading, Text: text, Hint: hint})
}
