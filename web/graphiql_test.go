package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"atrium/atriumtest"
	"atrium/testenv"
)

// offline makes every host but the loopback address unresolvable, as on a
// machine without internet access.
var offline = chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1")

// TestGraphiQLOffline opens GraphiQL with no internet, types the operator
// headers into the Headers pane, runs a query and reads the answer on the
// page; no header is saved until the user opts in, and no request leaves
// the loopback address.
func TestGraphiQLOffline(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	ctx := testenv.Chromium(t, offline, chromedp.WindowSize(1280, 900))

	// Every request the page makes, and every error it logs (a script
	// error, a load that failed, a Content-Security-Policy violation).
	var mu sync.Mutex
	var requested, errs []string
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	requests := chromedp.Events(ctx, network.RequestWillBeSent)
	logged := chromedp.Events(ctx, cdplog.EntryAdded)
	thrown := chromedp.Events(ctx, runtime.ExceptionThrown)
	go func() {
		for ev, err := range requests {
			if err != nil {
				return
			}
			mu.Lock()
			requested = append(requested, ev.Request.URL)
			mu.Unlock()
		}
	}()
	go func() {
		for ev, err := range logged {
			if err != nil {
				return
			}
			if ev.Entry.Level == cdplog.EntryLevelError {
				mu.Lock()
				errs = append(errs, fmt.Sprintf("%s: %s (%s)", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
				mu.Unlock()
			}
		}
	}()
	go func() {
		for ev, err := range thrown {
			if err != nil {
				return
			}
			mu.Lock()
			errs = append(errs, fmt.Sprintf("exception: %s (%s:%d)", ev.ExceptionDetails.Text, ev.ExceptionDetails.URL, ev.ExceptionDetails.LineNumber))
			mu.Unlock()
		}
	}()

	queryEditor := chromedp.CSS(".graphiql-query-editor .CodeMirror-scroll")
	headersEditor := chromedp.CSS(".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror-scroll")
	headers := fmt.Sprintf(`{"Authorization": "Bearer %s", "x-oystehr-project-id": "%s"}`, atriumtest.AdminSecret, s.Sandbox)
	selectAll := chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl))
	if err := chromedp.Do(ctx,
		chromedp.Navigate(s.URL+"/"),
		chromedp.WaitVisible(queryEditor),
		chromedp.Click(chromedp.CSS(`button[data-name="headers"]`)),
		chromedp.Click(headersEditor),
		chromedp.KeyEvent(headers),
		chromedp.Click(queryEditor),
		selectAll,
		chromedp.KeyEvent("{ project { name } }"),
	); err != nil {
		t.Fatalf("type the headers and the query: %v", err)
	}
	typed, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('.graphiql-query-editor .CodeMirror, .graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror')].map(e => e.CodeMirror.getValue())`))
	if err != nil {
		t.Fatal(err)
	}
	if len(typed) != 2 || typed[0] != "{ project { name } }" || typed[1] != headers {
		t.Fatalf("the editors hold %q, want the query and %q", typed, headers)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(".graphiql-execute-button"))); err != nil {
		t.Fatalf("run the query: %v", err)
	}
	shown, err := chromedp.Run(ctx, chromedp.Poll[string](`(() => { const r = document.querySelector('.graphiql-response .CodeMirror-code'); return r && r.innerText.includes('"data"') && r.innerText; })()`))
	if err != nil {
		t.Fatalf("wait for the result: %v", err)
	}
	// The default query also asks for id and fhirVersion: their absence
	// shows that the typed query ran.
	if !strings.Contains(shown, `"name": "Sandbox"`) || strings.Contains(shown, `"errors"`) || strings.Contains(shown, "fhirVersion") {
		t.Fatalf("the result pane shows %q, want only the Sandbox project's name", shown)
	}

	stored, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`Object.fromEntries(Object.entries(localStorage))`))
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) == 0 {
		t.Fatal("localStorage is empty: GraphiQL saved nothing, so this check proves nothing")
	}
	for k, v := range stored {
		if strings.Contains(v, atriumtest.AdminSecret) || k == "graphiql:headers" {
			t.Errorf("localStorage %q holds the headers: %q", k, v)
		}
	}

	// Opting in to "Persist headers" in the settings saves them.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`button[data-value="settings"]`)),
		chromedp.Click(chromedp.ID("enable-persist-headers")),
		chromedp.KeyEvent(kb.Escape),
		chromedp.Click(chromedp.CSS(".graphiql-execute-button")),
	); err != nil {
		t.Fatalf("turn Persist headers on and run again: %v", err)
	}
	saved, err := chromedp.Run(ctx, chromedp.Poll[string](`localStorage.getItem('graphiql:headers')`))
	if err != nil {
		t.Fatalf("wait for the saved headers: %v", err)
	}
	if saved != headers {
		t.Fatalf("after opting in, localStorage holds the headers %q, want %q", saved, headers)
	}

	mu.Lock()
	defer mu.Unlock()
	sawGraphQL := false
	for _, link := range requested {
		u, err := url.Parse(link)
		if err != nil || (u.Scheme != "data" && u.Hostname() != "127.0.0.1") {
			t.Errorf("the page requested %s, off the loopback address", link)
		}
		sawGraphQL = sawGraphQL || u.Path == "/graphql"
	}
	if !sawGraphQL {
		t.Fatalf("no request to /graphql among %q: the request log is not working", requested)
	}
	for _, e := range errs {
		t.Errorf("the page logged an error: %s", e)
	}
}

// TestGraphiQLFiles checks what the page is made of without a browser: the
// page, its scripts and the icon come from Atrium, and the page names no
// other host.
func TestGraphiQLFiles(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	body := func(path string, wantType string) string {
		t.Helper()
		p := get(t, s, s.URL+path)
		if p.status != http.StatusOK || !strings.HasPrefix(p.header.Get("Content-Type"), wantType) {
			t.Fatalf("GET %s: %d %s, want 200 %s", path, p.status, p.header.Get("Content-Type"), wantType)
		}
		return p.body
	}
	page := body("/", "text/html")
	for _, src := range []string{"/graphiql/npm/react.production.min.js", "/graphiql/npm/react-dom.production.min.js", "/graphiql/npm/graphiql.min.js", "/graphiql/atrium.js"} {
		if !strings.Contains(page, `src="`+src+`"`) {
			t.Errorf("the page does not load %s", src)
		}
		body(src, "text/javascript")
	}
	body("/graphiql/npm/graphiql.min.css", "text/css")
	if strings.Contains(page, "http://") || strings.Contains(page, "https://") {
		t.Errorf("the page names another host:\n%s", page)
	}
	if icon := body("/favicon.ico", "image/"); !strings.HasPrefix(icon, "\x00\x00\x01\x00") {
		t.Errorf("/favicon.ico is not an icon: % x", icon[:min(len(icon), 8)])
	}
	for _, path := range []string{"/graphiql/", "/graphiql/npm/"} {
		if p := get(t, s, s.URL+path); p.status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404 (no listings)", path, p.status)
		}
	}
}
