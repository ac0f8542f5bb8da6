package web

// Tests of the shared layout itself; the pages built on it are tested
// through the real server in the _test package.

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

var testPage = NewPage("test", `{{define "content"}}<h1>{{.Heading}}</h1>{{template "alert" .Error}}{{end}}`)

type testView struct {
	Layout
	Heading, Error string
}

func renderTest(t *testing.T, v *testView) (*httptest.ResponseRecorder, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	testPage.Render(rec, httptest.NewRequest(http.MethodGet, "/", nil), slog.New(slog.DiscardHandler), http.StatusTeapot, v)
	return rec, rec.Body.String()
}

func TestLayoutSlots(t *testing.T) {
	rec, body := renderTest(t, &testView{
		Layout:  Layout{Title: "Sign <in>", AppName: `Clinic "One"`, LogoURI: "https://cdn.example.com/logo.png", Notice: "Your password is reset."},
		Heading: "Hello", Error: "Wrong <password>",
	})
	if rec.Code != http.StatusTeapot {
		t.Fatalf("status %d", rec.Code)
	}
	for _, want := range []string{
		"<title>Sign &lt;in&gt;</title>",
		`<img src="https://cdn.example.com/logo.png" alt="Clinic &#34;One&#34;" id="logo">`,
		`<p class="ok" role="status" id="notice">Your password is reset.</p>`,
		"<h1>Hello</h1>",
		`<p class="error" role="alert" id="error">Wrong &lt;password&gt;</p>`,
		"<style>",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q:\n%s", want, body)
		}
	}
	csp := rec.Header().Get("Content-Security-Policy")
	if !strings.HasSuffix(csp, "; img-src https://cdn.example.com") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy %q does not allow the logo's origin alone", csp)
	}
	if rec.Header().Get("X-Frame-Options") != "DENY" || rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("security headers: %v", rec.Header())
	}
}

func TestLayoutLeavesOutEmptyAndBadSlots(t *testing.T) {
	for _, logo := range []string{"", "javascript:alert(1)", "/relative.png", "https://user:pw@example.com/l.png", "https://a;script-src/x.png", "data:image/png;base64,AAAA"} {
		rec, body := renderTest(t, &testView{Layout: Layout{Title: "T", LogoURI: logo}, Heading: "H"})
		for _, not := range []string{"<img", `id="notice"`, `id="error"`, "img-src"} {
			if strings.Contains(body, not) || strings.Contains(rec.Header().Get("Content-Security-Policy"), not) {
				t.Errorf("logo %q: the page has %q:\n%s\n%v", logo, not, body, rec.Header())
			}
		}
	}
}

func TestNewPageNeedsContent(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("a page without \"content\" was accepted")
		}
	}()
	NewPage("empty", `{{define "other"}}x{{end}}`)
}
