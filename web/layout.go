package web

// The shared layout of the hosted pages (invitation, login, forgot and reset
// password, sign-up): one template (layout.html) with the one style sheet,
// one render helper, and the security headers they all send.
//
// A page is its own template file that defines "content":
//
//	//go:embed login.html
//	var loginHTML string
//	var loginPage = web.NewPage("login", loginHTML)
//
//	type loginView struct {
//		web.Layout        // Title, AppName, LogoURI, Notice, FormTargets
//		Email, Error string
//	}
//
//	loginPage.Render(w, r, log, http.StatusOK, &loginView{Layout: web.Layout{Title: "Sign in", AppName: app.Name}})
//
// Inside "content", {{template "alert" .Error}} shows an error message the
// shared way (class "error", role "alert", id "error") and
// {{template "new-password"}} the two fields that choose a password
// (password, confirm). Data is escaped by html/template; nothing in a page
// may load anything from elsewhere except the application's logo, which the
// Content-Security-Policy then allows. The policy's form-action is 'self':
// a form whose answer redirects to another origin (an application's
// callback or login page) must name that URL in FormTargets, or browsers
// stop the redirect. Secure sets the same headers on answers that are not
// pages (redirects, 405s); Mount wraps every form route in
// http.CrossOriginProtection.

import (
	_ "embed"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"atrium/iam"
)

//go:embed layout.html
var layoutHTML string

var layout = template.Must(template.New("layout.html").Parse(layoutHTML))

// Layout is what the shared layout shows around a page's content. Page data
// embeds it.
type Layout struct {
	// Title is the document title (the browser tab).
	Title string
	// AppName is the application the page is for; the layout uses it as
	// the logo's text, pages use it in their headings. It may be empty.
	AppName string
	// LogoURI is the application's logo (its logoUri). It is shown at the
	// top only when it is an absolute http(s) URL; anything else is left out.
	LogoURI string
	// Notice is a short confirmation shown above the content ("Your
	// password is reset."), role "status", id "notice".
	Notice string
	// FormTargets are the URLs on other origins that the page's form may
	// end at through a redirect (an application's login page or callback).
	// Browsers apply the Content-Security-Policy's form-action to every
	// redirect after a form is sent, so the policy allows their origins
	// (only absolute http(s) URLs with a plain host; others are left out).
	FormTargets []string
	// InlineImages lets the page show data: images (an enrolment's QR
	// code).
	InlineImages bool
}

// PageLayout returns the layout part of page data; embedding Layout
// provides it.
func (l *Layout) PageLayout() *Layout { return l }

// Logo is the logo's URL when it may be shown, else "": an absolute
// http(s) URL whose host is a plain name or address (it goes into the
// Content-Security-Policy header).
func (l *Layout) Logo() string {
	if _, ok := origin(l.LogoURI); !ok {
		return ""
	}
	return l.LogoURI
}

// policy is the page's Content-Security-Policy: csp, with the logo's origin
// (and data: for inline images) as image sources and the form targets'
// origins as form actions.
func (l *Layout) policy() string {
	p := csp
	for _, t := range l.FormTargets {
		if o, ok := origin(t); ok {
			p = strings.Replace(p, "form-action 'self'", "form-action 'self' "+o, 1)
		}
	}
	var images []string
	if l.InlineImages {
		images = append(images, "data:")
	}
	if o, ok := origin(l.Logo()); ok {
		images = append(images, o)
	}
	if len(images) > 0 {
		p += "; img-src " + strings.Join(images, " ")
	}
	return p
}

var plainHost = regexp.MustCompile(`^[A-Za-z0-9.\-]+(:[0-9]+)?$|^\[[0-9A-Fa-f:.]+\](:[0-9]+)?$`)

// View is the data of a page: anything that embeds Layout.
type View interface{ PageLayout() *Layout }

// Page is one hosted page: the shared layout around its own "content".
type Page struct {
	name string
	t    *template.Template
}

// NewPage parses a page's template (which must define "content") into a
// copy of the layout. It panics on a bad template, so call it when the
// package loads.
func NewPage(name, content string) *Page {
	t := template.Must(template.Must(layout.Clone()).New(name).Parse(content))
	if t.Lookup("content") == nil {
		panic("web: page " + name + " does not define \"content\"")
	}
	return &Page{name: name, t: t}
}

// Render writes the page with status: the security headers (see Secure),
// the image source of the logo when there is one, and the layout around
// the page's content. A failure to render is logged, never shown.
func (p *Page) Render(w http.ResponseWriter, r *http.Request, log *slog.Logger, status int, v View) {
	Secure(w)
	w.Header().Set("Content-Security-Policy", v.PageLayout().policy())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := p.t.ExecuteTemplate(w, "layout", v); err != nil {
		log.ErrorContext(r.Context(), "rendering a page", "page", p.name, "error", err.Error())
	}
}

// csp allows only the page's own inline style and posting its forms back to
// Atrium: no script, no framing, nothing fetched from elsewhere.
const csp = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Secure sets the headers of every hosted page, rendered or not: no
// referrer beyond Atrium's own origin (URLs hold tickets), no framing, no
// caching, no sniffing, and the content security policy above. The
// referrer policy is same-origin, not no-referrer: under no-referrer a
// browser posts a form with Origin: null, and where it sends no
// Sec-Fetch-Site (a page served over plain http to a host that is not
// loopback) CrossOriginProtection then refuses every post.
func Secure(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
}

// origin is scheme://host of an absolute http(s) URL whose host is a plain
// name or address, for a CSP source; ok false for anything else.
func origin(raw string) (string, bool) {
	if raw == "" || iam.ValidWebURL(raw) != nil {
		return "", false
	}
	u, _ := url.Parse(raw)
	if !plainHost.MatchString(u.Host) {
		return "", false
	}
	return u.Scheme + "://" + u.Host, true
}
