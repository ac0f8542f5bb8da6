package provider_test

// Single sign-on in headless Chromium: an application of project A (no
// email and password of its own) sends the browser to A's login page; the
// user clicks "Continue with <upstream>", signs in on the upstream
// project's hosted login page, and arrives at the application's callback
// with a code, through A's SSO callback. The code exchanges for tokens
// whose amr says fed.

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"atrium/atriumtest"
	"atrium/client"
	"atrium/testenv"
)

func TestSSOInChromium(t *testing.T) {
	f := newSSO(t)
	f.setDefaultRole(t)

	// The application's callback, on its own loopback origin: it hands
	// the test what it got.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		testenv.Missing(t, testenv.Network, err.Error())
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	origin := "http://localhost:" + port
	got := make(chan url.Values, 1)
	appServer := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case got <- r.URL.Query():
		default:
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><title>App</title><p id="arrived">arrived</p>`))
	}))
	appServer.Listener.Close()
	appServer.Listener = ln
	appServer.Start()
	t.Cleanup(appServer.Close)

	a := f.a.newApp(t, client.CreateApplicationInput{Name: "SSO only", LoginWithEmailEnabled: ptr(false),
		AllowedCallbackUrls: []string{origin + "/callback"}, AllowedCORSOriginsUrls: []string{origin}})
	authorize, z := f.a.authorizeURL(a, url.Values{"redirect_uri": {origin + "/callback"}})

	ctx := testenv.Chromium(t, chromedp.Flag("host-resolver-rules", "MAP atrium.test "+f.s.Listener.Addr().String()))
	if err := chromedp.Do(ctx,
		chromedp.Navigate(authorize),
		chromedp.WaitVisible(chromedp.CSS("a.sso")),
	); err != nil {
		t.Fatalf("no SSO link on A's login page: %v", err)
	}
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			where, _ := chromedp.Run(ctx, chromedp.Location())
			body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
			t.Fatalf("%s: %v (at %s: %.300s)", what, err, where, body)
		}
	}
	step("to the upstream's login page", chromedp.Click(chromedp.CSS("a.sso")), chromedp.WaitVisible(chromedp.ID("password")))
	step("signing in at the upstream",
		chromedp.SendKeys(chromedp.ID("email"), f.idpUser),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.ID("submit")),
		chromedp.WaitVisible(chromedp.ID("arrived")))
	var q url.Values
	select {
	case q = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("the application's callback was not reached")
	}
	if q.Get("state") != z.state || q.Get("code") == "" {
		t.Fatalf("the application got %v", q)
	}
	r := f.a.rp(t, a)
	r.conf.RedirectURL = origin + "/callback"
	tok, err := r.exchange(q.Get("code"), z)
	atriumtest.Must(t, err)
	var claims struct {
		AMR   []string `json:"amr"`
		Email string   `json:"email"`
	}
	atriumtest.Must(t, r.idToken(t, tok).Claims(&claims))
	if !slices.Contains(claims.AMR, "fed") || claims.Email != f.idpUser {
		t.Fatalf("ID token claims %+v, want amr fed and the upstream user's email", claims)
	}
}
