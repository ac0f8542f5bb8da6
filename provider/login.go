package provider

// The hosted login page, /p/{projectId}/login?authRequest=<id>, in the
// application's name and logo (the shared layout of package web): email
// and password, when the application has loginWithEmailEnabled, checked by
// the service's logIn use case under the sign-in throttle, and a text
// message's code when it has passwordlessSMS (sms.go). A browser that
// holds a session of the project is logged in without the form, unless the
// request says prompt=login or its max_age has passed; with prompt=none and
// no usable session the application hears login_required. The page and the
// logged-out page sit behind net/http's CrossOriginProtection (CSRF).

import (
	"context"
	_ "embed"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"atrium/iam"
	"atrium/service"
	"atrium/web"
)

//go:embed login.html
var loginHTML string

var loginPage = web.NewPage("login", loginHTML)

// sessionCookie holds the browser session of one project (its path is the
// project's issuer path).
const sessionCookie = "atrium_session"

type loginView struct {
	web.Layout
	AuthRequest, Email, Error string
	// Off explains why the form is not offered.
	Off string
	// Message is a page without a form (an unknown request, logged out).
	Message           string
	ForgotURL, SignUp string
	// TOTP is the second step of a login to an application with
	// mfaEnabled (totp.go).
	TOTP *totpView
	// SMS is the SMS login (sms.go), when the application has
	// passwordlessSMS.
	SMS *smsView
	// SSO is the project's connections, "Continue with <name>", or the
	// way on after a sign-in through one (sso.go).
	SSO *ssoView
}

// OtherWays reports whether the page offers a way in besides the
// password: the SMS login or an SSO connection.
func (v *loginView) OtherWays() bool { return v.SMS != nil || (v.SSO != nil && len(v.SSO.Buttons) > 0) }

// page serves the login and logged-out pages.
func (h *handler) page(w http.ResponseWriter, r *http.Request) {
	pid := projectOf(r.Context())
	if strings.HasSuffix(r.URL.Path, loggedOutPath) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			methodNotAllowed(w, "GET, HEAD")
			return
		}
		h.render(w, r, http.StatusOK, &loginView{Layout: web.Layout{Title: "Logged out"}, Message: "You are logged out."}, "")
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		h.loginForm(w, r, pid)
	case http.MethodPost:
		h.logIn(w, r, pid)
	default:
		methodNotAllowed(w, "GET, HEAD, POST")
	}
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
}

// notices are what the login page says when the hosted pages of package
// web send the browser back to it (notice=...).
var notices = map[string]string{
	"password-reset":  "Your password is reset. Log in with your new password.",
	"account-created": "Your account is created. Log in to continue.",
}

// loginForm resumes the browser's session when the request accepts it,
// answers login_required to prompt=none without one, and shows the form
// otherwise.
func (h *handler) loginForm(w http.ResponseWriter, r *http.Request, pid string) {
	id := r.URL.Query().Get("authRequest")
	req, err := h.svc.Authorization(r.Context(), pid, id)
	if err != nil {
		h.failed(w, r, err, "")
		return
	}
	done, err := h.svc.ResumeSession(r.Context(), pid, id, requestOf(r.Context()).sessionCookie)
	switch {
	case err == nil:
		h.toCallback(w, r, done.Request)
		return
	case !errors.Is(err, service.ErrLoginRequired):
		h.failed(w, r, err, req.RedirectURI)
		return
	case slices.Contains(req.Prompt, oidc.PromptNone):
		op.AuthRequestError(w, r, authRequest{req, h.base}, oidc.ErrLoginRequired(), h.op)
		return
	}
	c, err := h.svc.OpenIDClient(r.Context(), pid, req.ClientID)
	if err != nil {
		h.failed(w, r, err, req.RedirectURI)
		return
	}
	v := h.view(r.Context(), pid, req, c)
	v.Email, v.Notice = req.LoginHint, notices[r.URL.Query().Get("notice")]
	h.render(w, r, http.StatusOK, v, req.RedirectURI)
}

// logIn checks the form's email and password, begins the browser session
// and sends the browser on to the library's callback.
func (h *handler) logIn(w http.ResponseWriter, r *http.Request, pid string) {
	if step := r.PostFormValue("sms"); step != "" {
		h.smsLogIn(w, r, pid, step)
		return
	}
	if r.PostFormValue("state") != "" {
		h.secondFactor(w, r, pid)
		return
	}
	id, email := r.PostFormValue("authRequest"), r.PostFormValue("email")
	done, err := h.svc.LogIn(r.Context(), pid, id, email, r.PostFormValue("password"))
	if err == nil && done.Step != nil {
		h.totpStep(w, r, pid, done, "")
		return
	}
	if err == nil {
		h.setSession(w, pid, done.Cookie)
		h.toCallback(w, r, done.Request)
		return
	}
	req, c, e := h.refused(w, r, pid, id, err, false)
	if e == nil {
		return
	}
	v := h.view(r.Context(), pid, req, c)
	v.Email, v.Error = email, sentence(e.Message)
	h.render(w, r, e.Code.HTTPStatus(), v, req.RedirectURI)
}

// refused reads the request and client of a form the service refused
// with err, to show the form again with the error (and its headers); it
// shows the error page instead, and answers a nil error, for an error the
// form cannot fix (or any about the login state, when restart says so).
func (h *handler) refused(w http.ResponseWriter, r *http.Request, pid, id string, err error, restart bool) (*iam.AuthRequest, *service.OpenIDClient, *iam.Error) {
	req, rerr := h.svc.Authorization(r.Context(), pid, id)
	if rerr != nil {
		h.failed(w, r, rerr, "")
		return nil, nil, nil
	}
	c, cerr := h.svc.OpenIDClient(r.Context(), pid, req.ClientID)
	if cerr != nil {
		h.failed(w, r, cerr, req.RedirectURI)
		return nil, nil, nil
	}
	e, internal := iam.Public(err)
	if internal || e.Code == iam.Internal || e.Code == iam.Unavailable || (restart && e.Field == "input.state") {
		h.failed(w, r, err, req.RedirectURI)
		return nil, nil, nil
	}
	for k, vs := range e.HTTPHeaders() {
		w.Header()[k] = vs
	}
	return req, c, e
}

// setSession sets the cookie of a new browser session.
func (h *handler) setSession(w http.ResponseWriter, pid, cookie string) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: cookie, Path: "/p/" + pid + "/",
		MaxAge: int(service.BrowserSessionTTL.Seconds()), HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode})
}

// view is the login page of a request.
func (h *handler) view(ctx context.Context, pid string, req *iam.AuthRequest, c *service.OpenIDClient) *loginView {
	v := &loginView{Layout: web.Layout{Title: "Log in to " + c.Name, AppName: c.Name, LogoURI: c.LogoURI}, AuthRequest: req.ID}
	if !c.LoginWithEmailEnabled {
		v.Off = c.Name + " does not offer email and password login. Go back to the application and choose another way to log in."
	}
	if c.PasswordlessSMS {
		v.SMS = &smsView{}
	}
	q := "?authRequest=" + url.QueryEscape(req.ID)
	v.ForgotURL = "/p/" + pid + "/forgot" + q
	o, err := h.svc.LoginOptions(ctx, pid)
	if err != nil {
		h.log.WarnContext(ctx, "login page: the project's options", "error", err.Error())
		return v
	}
	if o.SignupEnabled {
		v.SignUp = "/p/" + pid + "/signup" + q
	}
	v.SSO = ssoButtons(pid, req.ID, o.SSO)
	return v
}

// toCallback sends the browser to the library's callback, which issues
// the code to the application.
func (h *handler) toCallback(w http.ResponseWriter, r *http.Request, req *iam.AuthRequest) {
	http.Redirect(w, r, h.callbackURL(req), http.StatusSeeOther)
}

// callbackURL is the library's callback of a done request.
func (h *handler) callbackURL(req *iam.AuthRequest) string {
	return issuer(h.base, req.ProjectID) + callbackPath + "?id=" + url.QueryEscape(req.ID)
}

// sameBrowser lets the callback issue a code only to the browser whose
// session completed the login: a login link passed to someone else does
// not hand its code to the one who made it.
func (h *handler) sameBrowser(w http.ResponseWriter, r *http.Request) bool {
	rq := requestOf(r.Context())
	req, err := h.svc.Authorization(r.Context(), rq.project, r.URL.Query().Get("id"))
	if err != nil {
		h.failed(w, r, err, "")
		return false
	}
	sid, _, _ := strings.Cut(rq.sessionCookie, ".")
	if !req.Done() || sid != req.SessionID {
		h.failed(w, r, iam.Errorf(iam.Forbidden, "this login was completed in another browser; go back to the application and start again"), "")
		return false
	}
	return true
}

// failed shows an error page; it never redirects.
func (h *handler) failed(w http.ResponseWriter, r *http.Request, err error, redirect string) {
	e, internal := iam.Public(err)
	if internal || e.Code == iam.Internal || e.Code == iam.Unavailable {
		h.log.ErrorContext(r.Context(), "login page", "error", err.Error())
	}
	for k, vs := range e.HTTPHeaders() {
		w.Header()[k] = vs
	}
	h.render(w, r, e.Code.HTTPStatus(), &loginView{Layout: web.Layout{Title: "Cannot log in"}, Message: sentence(e.Message)}, redirect)
}

// render writes a page; redirect is where its form may end (the
// application's callback, through the library's), which the page's
// form-action must allow (web.Layout.FormTargets).
func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, v *loginView, redirect string) {
	if redirect != "" {
		v.FormTargets = []string{redirect}
	}
	v.InlineImages = v.TOTP != nil && v.TOTP.QR != ""
	loginPage.Render(w, r, h.log, status, v)
}

// sentence turns a domain message into a sentence for the page.
func sentence(msg string) string {
	if msg == "" {
		return msg
	}
	msg = strings.ToUpper(msg[:1]) + msg[1:]
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}
