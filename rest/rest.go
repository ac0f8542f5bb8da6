// Package rest is the platform's REST API (the Oystehr project API) over
// Atrium's domain, mounted under /v1, so that the official @oystehr/sdk runs
// against Atrium unchanged: the same verbs, paths, parameters, JSON shapes
// and error bodies as the platform.
//
// It is a transport like graph/: every handler decodes the request, calls
// one service use case and encodes the answer. The routes are one table
// (routes, gathered from one file per resource); the OpenAPI document
// served at /v1/openapi.json is generated from it, and a test proves that
// every route names a use case of the domain.
package rest

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"atrium/service"
)

// route is one endpoint of /v1.
type route struct {
	method string
	// path is relative to /v1, in net/http pattern syntax ("/iam/role/{roleId}").
	path string
	// useCase names the entry of the domain's use-case table
	// (service.UseCases) the route calls; "" only for routes outside the
	// domain (the version, the API description).
	useCase string
	summary string
	// status is the answer on success: 200, or 204 with no body.
	status int
	// body and answer are the types of the JSON the route reads (nil:
	// none) and answers, for the API description.
	body, answer any
	// query lists the query parameters the route reads.
	query []string
	// handle decodes the request, calls the use case and returns what is
	// encoded as the answer.
	handle handler
}

// routes is the whole API, resource by resource, and its description.
func routes() []route {
	return slices.Concat(versionRoutes(), projectRoutes(), roleRoutes(), applicationRoutes(),
		userRoutes(), m2mRoutes(), developerRoutes(), []route{{method: http.MethodGet, path: openAPIPath,
			status: http.StatusOK, summary: "This description of the API (OpenAPI 3.1)"}})
}

// openAPIPath is where the API's description is served (Handler gives the
// route its handler, which answers the description of every route).
const openAPIPath = "/openapi.json"

// Options configure the handler.
type Options struct {
	Service *service.Service
	Log     *slog.Logger
}

// Handler serves the API; mount it with the /v1 prefix stripped.
func Handler(o Options) http.Handler {
	all := routes()
	doc := openAPI(all)
	for i := range all {
		if all[i].path == openAPIPath {
			all[i].handle = func(context.Context, *service.Service, *request) (any, error) { return doc, nil }
		}
	}
	mux := http.NewServeMux()
	for _, rt := range all {
		mux.Handle(rt.method+" "+rt.path, metered("/v1"+rt.path, serve(o, rt)))
	}
	return jsonMisses(mux)
}

// serve runs one route: decode, call, encode.
func serve(o Options, rt route) http.Handler {
	h := http.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := &request{r: r}
		res, err := call(r.Context(), o.Service, rt, q)
		if err != nil {
			writeError(r.Context(), o.Log, w, err)
			return
		}
		if rt.status == http.StatusNoContent {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		writeJSON(w, rt.status, res)
	}))
	if rt.method == http.MethodPost {
		h = idempotent(o, h)
	}
	return h
}

// jsonMisses answers unknown paths (404) and known paths with another verb
// (405, with Allow) in the API's JSON error shape instead of net/http's text.
// Each route is metered on its own (Handler); the misses count as
// unmatchedRoute.
func jsonMisses(mux *http.ServeMux) http.Handler {
	miss := metered(unmatchedRoute, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, _ := mux.Handler(r)
		// Let the mux decide between 404 and 405 (and list the verbs).
		rec := &missRecorder{header: http.Header{}}
		h.ServeHTTP(rec, r)
		switch rec.status {
		case http.StatusMethodNotAllowed:
			allow := rec.header.Get("Allow")
			w.Header().Set("Allow", allow)
			writeProblem(w, http.StatusMethodNotAllowed, codeMethodNotAllowed,
				r.Method+" is not allowed on /v1"+r.URL.Path+"; use "+strings.ReplaceAll(allow, ", ", " or "), "")
		case http.StatusNotFound, 0:
			writeProblem(w, http.StatusNotFound, codeNotFound, "no endpoint /v1"+r.URL.Path+" (the API is described at /v1/openapi.json)", "")
		default: // a redirect to a cleaned path
			for k, v := range rec.header {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.status)
		}
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r) // sets the path values
			return
		}
		miss.ServeHTTP(w, r)
	})
}

// missRecorder captures the status and headers of the mux's own answer.
type missRecorder struct {
	header http.Header
	status int
}

func (m *missRecorder) Header() http.Header         { return m.header }
func (m *missRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (m *missRecorder) WriteHeader(code int)        { m.status = code }

// deletion is the DELETE route of the entity whose id is the path's one
// parameter: it answers 204.
func deletion(path, useCase, summary string, del func(*service.Service, context.Context, string) error) route {
	param := pathParam.FindStringSubmatch(path)[1]
	return route{method: http.MethodDelete, path: path, useCase: useCase, status: http.StatusNoContent, summary: summary,
		handle: func(ctx context.Context, s *service.Service, q *request) (any, error) {
			return nil, del(s, ctx, q.path(param))
		}}
}

// secretJSON is the answer of a rotate-secret route.
type secretJSON struct {
	Secret string `json:"secret"`
}

// secretRotation is the rotate-secret route of the entity whose id is the
// path's one parameter: its body is an empty object (or none), its answer
// the new secret.
func secretRotation(path, useCase, summary string, rotate func(*service.Service, context.Context, string) (string, error)) route {
	param := pathParam.FindStringSubmatch(path)[1]
	return route{method: http.MethodPost, path: path, useCase: useCase, status: http.StatusOK, answer: secretJSON{}, summary: summary,
		handle: func(ctx context.Context, s *service.Service, q *request) (any, error) {
			if err := q.decode(&struct{}{}); err != nil {
				return nil, err
			}
			secret, err := rotate(s, ctx, q.path(param))
			if err != nil {
				return nil, err
			}
			return secretJSON{Secret: secret}, nil
		}}
}

// handler is what a route runs.
type handler = func(ctx context.Context, s *service.Service, q *request) (any, error)

// withBody decodes the JSON body into a fresh B, then runs h with it.
func withBody[B any](h func(ctx context.Context, s *service.Service, q *request, in *B) (any, error)) handler {
	return func(ctx context.Context, s *service.Service, q *request) (any, error) {
		var in B
		if err := q.decode(&in); err != nil {
			return nil, err
		}
		return h(ctx, s, q, &in)
	}
}

// answer encodes a use case's result with conv, or passes its error on.
func answer[E, T any](conv func(*E) T) func(*E, error) (any, error) {
	return func(e *E, err error) (any, error) {
		if err != nil {
			return nil, err
		}
		return conv(e), nil
	}
}

// answerIn is answer for a conversion that reads more through the service
// (the roles an entity holds).
func answerIn[E, T any](ctx context.Context, s *service.Service, conv func(context.Context, *service.Service, *E) (T, error)) func(*E, error) (any, error) {
	return func(e *E, err error) (any, error) {
		if err != nil {
			return nil, err
		}
		return conv(ctx, s, e)
	}
}
