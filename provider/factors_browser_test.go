package provider_test

// The SMS login and the TOTP step of the hosted login page in headless
// Chromium: the browser goes from the application's /authorize through the
// login page's forms to the application's callback (a loopback server
// answering for app.test), and the test exchanges the code it lands with
// and reads the ID token's amr. The SMS code comes from the test outbox;
// the TOTP codes are computed here from the key the page shows. One
// browser per test; every step is bounded by stepTimeout.

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"atrium/atriumtest"
	"atrium/client"
	"atrium/testenv"
)

// stepTimeout bounds one step of a browser flow (a page and its form).
const stepTimeout = 20 * time.Second

// appBrowser starts the application's loopback server (its callback page,
// and its login page: a redirect to login when not empty) and a headless
// Chromium that reaches the test server as atrium.test and that server as
// app.test.
func appBrowser(t *testing.T, s *atriumtest.Server, login string) context.Context {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		testenv.Missing(t, testenv.Network, err.Error())
	}
	app := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" && login != "" {
			http.Redirect(w, r, login, http.StatusFound)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><title>App</title><p id="callback">back in the application</p>`))
	}))
	app.Listener.Close()
	app.Listener = ln
	app.Start()
	t.Cleanup(app.Close)
	ctx := testenv.Chromium(t, chromedp.Flag("host-resolver-rules",
		"MAP atrium.test "+s.Listener.Addr().String()+", MAP app.test "+ln.Addr().String()))
	open(t, ctx)
	return ctx
}

// open starts the browser and the tab of ctx, so that they live as long as
// ctx and not as long as the first step's timeout.
func open(t *testing.T, ctx context.Context) {
	t.Helper()
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
}

// step runs actions within stepTimeout, or fails the test saying what.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v (at %s)", what, err, location(ctx))
	}
}

// value runs one action that reads a value, within stepTimeout.
func value[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// location is the page's URL, for a failure's message.
func location(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	u, _ := chromedp.Run(ctx, chromedp.Location())
	return u
}

// landed checks that the browser is on the application's callback with
// z's state and returns the code.
func landed(t *testing.T, ctx context.Context, z *authorization) string {
	t.Helper()
	step(t, ctx, "back to the application", chromedp.WaitVisible(chromedp.ID("callback")))
	u, err := url.Parse(value(t, ctx, "the callback's URL", chromedp.Location()))
	atriumtest.Must(t, err)
	if got := u.Scheme + "://" + u.Host + u.Path; got != callback || u.Query().Get("state") != z.state || u.Query().Get("code") == "" {
		t.Fatalf("the browser landed on %s, want %s with the state and a code", u, callback)
	}
	return u.Query().Get("code")
}

// A user invited by phone opens the link its invitation text brings, goes
// on to the application's login page, and logs in with a code texted to
// it.
func TestSMSLogInInChromium(t *testing.T) {
	f := newSMSLogin(t, client.CreateApplicationInput{LoginWithEmailEnabled: ptr(false), LoginRedirectUri: ptr(appOrigin + "/login")})
	authorize, z := f.authorizeURL(f.sms, nil)
	ctx := appBrowser(t, f.s, authorize)

	// The invitation's link (read from its text by newSMSLogin) names the
	// number and leads to the application's login (loginRedirectUri),
	// which sends the browser to /authorize and on to the login page.
	step(t, ctx, "the invitation link", chromedp.Navigate(f.user.URL), chromedp.WaitVisible(chromedp.ID("invited-phone")))
	if got := value(t, ctx, "the invitation page", chromedp.Text(chromedp.ID("invited-phone"))); got != smsPhone {
		t.Fatalf("the invitation page names %q", got)
	}
	step(t, ctx, "the login page", chromedp.Click(chromedp.ID("login")), chromedp.WaitVisible(chromedp.ID("sms-send")))
	if n := value(t, ctx, "the password field", chromedp.Evaluate[int](`document.querySelectorAll("#password").length`)); n != 0 {
		t.Fatal("the login page of an application without email login shows a password field")
	}
	step(t, ctx, "the phone number",
		chromedp.SendKeys(chromedp.ID("phone"), smsPhone),
		chromedp.Click(chromedp.ID("sms-send")),
		chromedp.WaitVisible(chromedp.ID("sms-code")))
	code := f.code(t, smsPhone)
	step(t, ctx, "the code",
		chromedp.SendKeys(chromedp.ID("sms-code"), code),
		chromedp.Click(chromedp.ID("sms-verify")))
	if amr := amrOf(t, f.project, f.sms, nil, landed(t, ctx, z), z); !slices.Contains(amr, "sms") {
		t.Fatalf("amr %v after an SMS login in the browser", amr)
	}
}

// On an application with mfaEnabled: the password, then the enrolment
// (the QR image and the key on the page, a code computed from the key,
// the recovery codes), on to the application; then, in a fresh browser
// context, a login asks for a code, the same code again is refused, and a
// recovery code works once.
func TestTOTPInChromium(t *testing.T) {
	s := atriumtest.NewServer(t)
	p := newProject(t, s, "")
	a := p.newApp(t, client.CreateApplicationInput{Name: "Secure Clinic", MfaEnabled: ptr(true)})
	ctx := appBrowser(t, s, "")
	firstFactor := func(ctx context.Context, authorize string) {
		t.Helper()
		step(t, ctx, "the password",
			chromedp.Navigate(authorize),
			chromedp.WaitVisible(chromedp.ID("password")),
			chromedp.SendKeys(chromedp.ID("email"), p.email),
			chromedp.SendKeys(chromedp.ID("password"), password),
			chromedp.Click(chromedp.ID("submit")),
			chromedp.WaitVisible(chromedp.ID("code")))
	}

	authorize, z := p.authorizeURL(a, nil)
	firstFactor(ctx, authorize)
	value(t, ctx, "the QR image", chromedp.Poll[bool](`(() => { const i = document.getElementById("qr"); return i && i.complete && i.naturalWidth > 0 || null; })()`))
	secret := value(t, ctx, "the key", chromedp.Text(chromedp.ID("secret")))
	enrol, err := totp.GenerateCode(secret, time.Now())
	atriumtest.Must(t, err)
	step(t, ctx, "the enrolment's code",
		chromedp.SendKeys(chromedp.ID("code"), enrol),
		chromedp.Click(chromedp.ID("submit")),
		chromedp.WaitVisible(chromedp.ID("recovery-codes")))
	recovery := value(t, ctx, "the recovery codes", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#recovery-codes code")].map(c => c.textContent)`))
	if len(recovery) != 10 {
		t.Fatalf("recovery codes %v", recovery)
	}
	step(t, ctx, "continue", chromedp.Click(chromedp.ID("continue")))
	if amr := amrOf(t, p, a, nil, landed(t, ctx, z), z); !slices.Equal(amr, []string{"pwd", "otp", "mfa"}) {
		t.Fatalf("amr %v after the enrolment", amr)
	}

	// A fresh browser context has no session: password, then a code. The
	// enrolment's step is used, so the code is the next step's (the
	// server allows one step of skew).
	fresh, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancel()
	open(t, fresh)
	authorize, z = p.authorizeURL(a, nil)
	firstFactor(fresh, authorize)
	if n := value(t, fresh, "the QR image", chromedp.Evaluate[int](`document.querySelectorAll("#qr").length`)); n != 0 {
		t.Fatal("an enrolled user is asked to enrol again")
	}
	next, err := totp.GenerateCode(secret, time.Now().Add(30*time.Second))
	atriumtest.Must(t, err)
	step(t, fresh, "the code", chromedp.SendKeys(chromedp.ID("code"), next), chromedp.Click(chromedp.ID("submit")))
	if amr := amrOf(t, p, a, nil, landed(t, fresh, z), z); !slices.Equal(amr, []string{"pwd", "otp", "mfa"}) {
		t.Fatalf("amr %v after a code", amr)
	}

	// The same code again, within its window, is refused; a recovery code
	// on the same page logs in.
	authorize, z = p.authorizeURL(a, url.Values{"prompt": {"login"}})
	firstFactor(fresh, authorize)
	step(t, fresh, "the same code again",
		chromedp.SendKeys(chromedp.ID("code"), next),
		chromedp.Click(chromedp.ID("submit")),
		chromedp.WaitVisible(chromedp.ID("error")))
	if msg := value(t, fresh, "the error", chromedp.Text(chromedp.ID("error"))); !strings.Contains(msg, "Wrong code") {
		t.Fatalf("a replayed code says %q", msg)
	}
	step(t, fresh, "a recovery code",
		chromedp.SendKeys(chromedp.ID("recovery"), recovery[0]),
		chromedp.Click(chromedp.ID("use-recovery")))
	if amr := amrOf(t, p, a, nil, landed(t, fresh, z), z); !slices.Equal(amr, []string{"pwd", "rec", "mfa"}) {
		t.Fatalf("amr %v after a recovery code", amr)
	}

	// Once: the same recovery code is refused next time.
	authorize, z = p.authorizeURL(a, url.Values{"prompt": {"login"}})
	firstFactor(fresh, authorize)
	step(t, fresh, "the used recovery code",
		chromedp.SendKeys(chromedp.ID("recovery"), recovery[0]),
		chromedp.Click(chromedp.ID("use-recovery")),
		chromedp.WaitVisible(chromedp.ID("error")))
	if msg := value(t, fresh, "the error", chromedp.Text(chromedp.ID("error"))); !strings.Contains(msg, "Wrong code") {
		t.Fatalf("a used recovery code says %q", msg)
	}
}
