package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"atrium/testenv"
)

// appLogin is an application's own login page on 127.0.0.1, which records
// that a browser arrived.
func appLogin(t *testing.T) (url string, arrived <-chan string) {
	t.Helper()
	hits := make(chan string, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case hits <- r.URL.String():
		default:
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><title>App login</title><h1 id="app-login">App login</h1>`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/login", hits
}

// The invitation page, in a browser: the form sets the password and leads
// straight into the application's own login page.
func TestBrowserAcceptsInvitation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	login, arrived := appLogin(t)
	app := f.createApp(t, "Browser App", login, false)
	const email, password = "browser@example.com", "typed-in-chromium-1"
	inv := f.invite(t, app, email)
	ctx := testenv.Chromium(t)

	// The link's host is ATRIUM_PUBLIC_URL, which does not resolve here.
	if err := chromedp.Do(ctx, chromedp.Navigate(local(t, f.s, inv.URL))); err != nil {
		t.Fatalf("open the invitation: %v", err)
	}
	shown, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("email")))
	if err != nil {
		t.Fatalf("read the invitee: %v", err)
	}
	if strings.TrimSpace(shown) != email {
		t.Fatalf("the page shows %q, want %q", shown, email)
	}
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.SendKeys(chromedp.ID("confirm"), password),
		chromedp.Click(chromedp.ID("submit")),
		chromedp.WaitVisible(chromedp.ID("app-login")),
	); err != nil {
		t.Fatalf("fill in and submit the form: %v", err)
	}
	if got := <-arrived; got != "/login" {
		t.Fatalf("the application's login page was asked for %q", got)
	}
	where, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if where != login {
		t.Fatalf("the browser is at %q, want the application's login %q", where, login)
	}
	screenshot(t, ctx, "invitation-accepted.png")
	// The password typed in the browser signs the user in.
	var signedIn struct {
		SignIn struct {
			AccessToken string
			User        struct{ ID string }
		}
	}
	f.s.Client("", "").MustDo(t, signInMut, map[string]any{"a": app, "e": email, "p": password}, &signedIn)
	if signedIn.SignIn.User.ID != inv.UserID {
		t.Fatalf("signIn: %+v", signedIn)
	}
	var me struct {
		Me struct {
			ID, Status string
			Email      *string
		}
	}
	f.s.Client(signedIn.SignIn.AccessToken, "").MustDo(t, `{ me { id status email } }`, nil, &me)
	if me.Me.ID != inv.UserID || me.Me.Status != "ACTIVE" || me.Me.Email == nil || *me.Me.Email != email {
		t.Fatalf("me: %+v", me.Me)
	}
}

// screenshot saves what the browser shows, for a person to look at.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Logf("screenshot: %v", err)
		return
	}
	name = filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(name, shot, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", name, len(shot))
}

// Forgot password in a browser: ask for a link, open it from the email
// (real SMTP), choose a new password, and sign in with it.
func TestBrowserForgotResetSignIn(t *testing.T) {
	t.Parallel()
	f, ts := mailFixture(t)
	const email, password = "browser-reset@example.com", "typed-new-password-2"
	f.member(t, email, "the-old-password-1")
	ctx := testenv.Chromium(t)

	if err := chromedp.Do(ctx,
		chromedp.Navigate(f.s.URL+f.hosted("forgot")),
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.Click(chromedp.ID("submit")),
		chromedp.WaitVisible(chromedp.CSS("p.ok")),
	); err != nil {
		t.Fatalf("ask for a link: %v", err)
	}
	sent, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("result")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sent, "we have sent it a link") || !strings.Contains(sent, email) {
		t.Fatalf("after asking: %q", sent)
	}
	link := resetLink(t, f, ts, email)

	if err := chromedp.Do(ctx, chromedp.Navigate(local(t, f.s, link))); err != nil {
		t.Fatalf("open the link: %v", err)
	}
	shown, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("email")))
	if err != nil || strings.TrimSpace(shown) != email {
		t.Fatalf("the reset page shows %q (%v), want %s", shown, err, email)
	}
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.SendKeys(chromedp.ID("confirm"), password),
		chromedp.Click(chromedp.ID("submit")),
		chromedp.WaitVisible(chromedp.CSS("p.ok")),
	); err != nil {
		t.Fatalf("choose the new password: %v", err)
	}
	result, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("result")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(result, "Your password is changed") {
		t.Fatalf("after the reset: %q", result)
	}
	href, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.ID("continue"), "href"))
	if err != nil || !href.Exists || href.Value != loginURL {
		t.Fatalf("continue link %+v (%v), want %s", href, err, loginURL)
	}
	screenshot(t, ctx, "password-reset.png")

	f.s.SignIn(t, f.app, email, password)
	f.s.Client("", "").Fails(t, "UNAUTHENTICATED", "", signInMut, map[string]any{"a": f.app, "e": email, "p": "the-old-password-1"})
}
