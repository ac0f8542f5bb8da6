package web

import (
	"embed"
	"net/http"
)

// The GraphiQL page, its start-up script, Atrium's icon and, under npm/,
// the npm packages' own dist files the page runs on (graphiql/npm/README.md
// names each package, its version and licence). Everything is inside the
// binary: the page makes no request beyond Atrium, so it works offline.
//
//go:embed graphiql/index.html graphiql/atrium.js graphiql/atrium.css graphiql/favicon.ico graphiql/npm/*.js graphiql/npm/*.css graphiql/npm/LICENSE.*
var graphiqlFiles embed.FS

// GraphiQL serves the GraphiQL page on "/", its files under "/graphiql/"
// and the icon on "/favicon.ico". The page posts to /graphql on its own
// origin and keeps the Headers pane in memory only, unless the user turns
// "Persist headers" on in GraphiQL's settings.
func GraphiQL() http.Handler {
	files := http.FileServerFS(graphiqlFiles)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		switch r.URL.Path {
		case "/":
			// GraphiQL sets inline styles and draws icons from data: URLs;
			// every script, style and request stays on Atrium.
			h.Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("Cache-Control", "no-cache")
			http.ServeFileFS(w, r, graphiqlFiles, "graphiql/index.html")
		case "/favicon.ico":
			h.Set("Cache-Control", "public, max-age=86400")
			http.ServeFileFS(w, r, graphiqlFiles, "graphiql/favicon.ico")
		default:
			if r.URL.Path == "/graphiql/" || r.URL.Path == "/graphiql/npm/" { // no listings
				http.NotFound(w, r)
				return
			}
			h.Set("Cache-Control", "public, max-age=3600")
			files.ServeHTTP(w, r)
		}
	})
}
