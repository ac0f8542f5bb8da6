package provider

// Single sign-on through the project's SSO connections, on the hosted
// login page: a "Continue with <name>" link per connection leads to
// /p/{projectId}/sso/{connectionId}?authRequest=<id>, which sends the
// browser to the connection's upstream provider; the upstream sends it
// back to /p/{projectId}/sso-callback (one redirect URI per project,
// service.SSOCallbackPath), which signs the user in and goes on, as the
// password form does, to the second factor's step or to the application
// (through a page that sends the browser on).
// The service keeps the flow (state, nonce, PKCE verifier) server-side;
// the browser keeps only the secret that binds the flow to it, in a
// cookie of the project's path.

import (
	"net/http"
	"net/url"
	"strings"

	"atrium/iam"
	"atrium/service"
	"atrium/web"
)

const (
	// ssoPath prefixes a connection's start.
	ssoPath = "/sso/"
	// ssoCookie holds the secret that binds the browser's SSO flows to it.
	ssoCookie = "atrium_sso"
)

// ssoView is the page's part in single sign-on: the links to the
// project's connections, or where a finished sign-in goes on to.
type ssoView struct {
	Buttons []ssoButton
	// Continue is the library's callback of the done request.
	Continue string
}

// ssoButton is a connection on the login page.
type ssoButton struct{ Name, URL string }

// ssoButtons are the login page's links to the project's connections.
func ssoButtons(pid, authRequestID string, conns []service.SSOOption) *ssoView {
	v := &ssoView{Buttons: make([]ssoButton, len(conns))}
	for i, c := range conns {
		v.Buttons[i] = ssoButton{Name: c.Name, URL: "/p/" + pid + ssoPath + url.PathEscape(c.ID) + "?authRequest=" + url.QueryEscape(authRequestID)}
	}
	return v
}

// sso serves a connection's start and the callback from the upstream.
func (h *handler) sso(w http.ResponseWriter, r *http.Request, pid, rest string) {
	if r.Method != http.MethodGet { // not even HEAD: each request starts or uses up a flow
		methodNotAllowed(w, "GET")
		return
	}
	var browser string
	if c, err := r.Cookie(ssoCookie); err == nil {
		browser = c.Value
	}
	if rest == service.SSOCallbackPath {
		h.ssoCallback(w, r, pid, browser)
		return
	}
	id := strings.TrimPrefix(rest, ssoPath)
	if strings.Contains(id, "/") {
		h.failed(w, r, iam.Errorf(iam.NotFound, "no such page"), "")
		return
	}
	start, err := h.svc.StartSSOSignIn(r.Context(), pid, id, r.URL.Query().Get("authRequest"), browser)
	if err != nil {
		h.failed(w, r, err, "")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: ssoCookie, Value: start.Browser, Path: "/p/" + pid + "/",
		MaxAge: int(service.AuthRequestTTL.Seconds()), HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode})
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "same-origin")
	http.Redirect(w, r, start.URL, http.StatusFound)
}

// ssoCallback finishes the sign-in the upstream sends the browser back
// from.
func (h *handler) ssoCallback(w http.ResponseWriter, r *http.Request, pid, browser string) {
	q := r.URL.Query()
	done, err := h.svc.FinishSSOSignIn(r.Context(), pid, service.SSOCallback{State: q.Get("state"), Code: q.Get("code"),
		Error: q.Get("error"), ErrorDescription: q.Get("error_description"), Browser: browser})
	if err != nil {
		h.failed(w, r, err, "")
		return
	}
	if done.Step != nil {
		h.totpStep(w, r, pid, done, "")
		return
	}
	// A page, not a redirect: the redirects since the upstream's login
	// form are subject to that page's form-action, which does not name
	// the application's callback (an Atrium upstream's does not).
	h.setSession(w, pid, done.Cookie)
	v := &loginView{Layout: web.Layout{Title: "Signed in", AppName: done.Client.Name, LogoURI: done.Client.LogoURI},
		Message: "You are signed in to " + done.Client.Name + ".", SSO: &ssoView{Continue: h.callbackURL(done.Request)}}
	h.render(w, r, http.StatusOK, v, "")
}
