package provider_test

// A real single-page app on another origin, in headless Chromium, with
// oidc-client-ts (the npm package .ci/run installs under .ci/node): it
// sends the browser to the project's login page, the user logs in there,
// the app exchanges the code (a cross-origin call the provider's CORS must
// allow) and calls /graphql with the access token.

import (
	"encoding/json"
	"html/template"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"atrium/atriumtest"
	"atrium/client"
	"atrium/testenv"
)

const oidcClientTS = "../.ci/node/node_modules/oidc-client-ts/dist/browser/oidc-client-ts.min.js"

var spaPage = template.Must(template.New("spa").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>SPA</title></head><body>
<p id="status">starting</p><pre id="result"></pre>
<script src="/oidc-client-ts.min.js"></script>
<script>
const cfg = {{.}};
const users = new oidc.UserManager({
  authority: cfg.authority, client_id: cfg.clientId,
  redirect_uri: cfg.origin + "/callback", post_logout_redirect_uri: cfg.origin + "/",
  scope: "openid profile email fhirUser offline_access",
});
const status = (s) => { document.getElementById("status").textContent = s; };
(async () => {
  try {
    if (location.pathname === "/callback") {
      const user = await users.signinRedirectCallback();
      const res = await fetch(cfg.graphql, {method: "POST",
        headers: {"Authorization": "Bearer " + user.access_token, "Content-Type": "application/json"},
        body: JSON.stringify({query: "{ me { id email } }"})});
      const body = await res.json();
      document.getElementById("result").textContent = JSON.stringify({
        sub: user.profile.sub, iss: user.profile.iss, fhirUser: user.profile.fhirUser,
        refresh: !!user.refresh_token, me: body.data ? body.data.me : body});
      status("done");
    } else {
      status("redirecting");
      await users.signinRedirect();
    }
  } catch (e) { status("error: " + e); }
})();
</script></body></html>`))

func TestSPALogsInWithOIDCClientTS(t *testing.T) {
	lib, err := os.ReadFile(oidcClientTS)
	if err != nil {
		testenv.Missing(t, testenv.Node, "oidc-client-ts is not installed (npm install --prefix .ci/node oidc-client-ts@3.5.0, as .ci/run does)")
	}
	s := atriumtest.NewServer(t)
	p := newProject(t, s, "")

	// The SPA on its own loopback origin. localhost is a secure context, so
	// the browser gives oidc-client-ts WebCrypto for PKCE.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		testenv.Missing(t, testenv.Network, err.Error())
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	origin := "http://localhost:" + port
	spaApp := p.newApp(t, client.CreateApplicationInput{Name: "Browser SPA", RefreshTokenEnabled: ptr(true),
		AllowedCallbackUrls: []string{origin + "/callback"}, AllowedLogoutUrls: []string{origin + "/"}, AllowedCORSOriginsUrls: []string{origin}})
	cfg, _ := json.Marshal(map[string]string{"authority": p.issuer, "clientId": spaApp.ClientID, "origin": origin, "graphql": publicURL + "/graphql"})
	spa := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oidc-client-ts.min.js" {
			w.Header().Set("Content-Type", "text/javascript")
			_, _ = w.Write(lib)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = spaPage.Execute(w, template.JS(cfg))
	}))
	spa.Listener.Close()
	spa.Listener = ln
	spa.Start()
	t.Cleanup(spa.Close)

	// atrium.test, the server's public name, reaches the test server.
	ctx := testenv.Chromium(t, chromedp.Flag("host-resolver-rules", "MAP atrium.test "+s.Listener.Addr().String()))
	if err := chromedp.Do(ctx,
		chromedp.Navigate(origin+"/start"),
		chromedp.WaitVisible(chromedp.ID("password")),
	); err != nil {
		t.Fatalf("the SPA did not reach the login page: %v", err)
	}
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil || !strings.Contains(title, "Browser SPA") {
		t.Fatalf("login page title %q (%v)", title, err)
	}
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("email"), p.email),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.ID("submit")),
		chromedp.WaitVisible(chromedp.ID("status")), // back on the SPA
	); err != nil {
		t.Fatalf("log in: %v", err)
	}
	// The SPA exchanges the code and calls /graphql.
	state, err := chromedp.Run(ctx, chromedp.Poll[string](`(() => {
		const s = document.getElementById("status").textContent;
		return s === "done" || s.startsWith("error") ? s : null; })()`))
	if err != nil || state != "done" {
		t.Fatalf("the SPA ended in %q (%v)", state, err)
	}
	raw, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("result")))
	atriumtest.Must(t, err)
	var got struct {
		Sub, Iss, FHIRUser string
		Refresh            bool
		Me                 struct{ ID, Email string }
	}
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		t.Fatalf("SPA result %q: %v", raw, err)
	}
	if got.Sub != p.user.UserID || got.Iss != p.issuer || got.FHIRUser != p.user.Profile || !got.Refresh || got.Me.ID != p.user.UserID || got.Me.Email != p.email {
		t.Fatalf("the SPA got %+v", got)
	}
}
