package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"atrium/atriumtest"
)

// Every answer /graphql gives a request it cannot run is GraphQL JSON whose
// errors carry a code of the closed set, with the HTTP status of the one
// table: other verbs, other content types, bodies that are not a GraphQL
// request, a mutation over GET, variables that are not an object, and a
// body over the 1 MiB limit, declared or not.
func TestTransportErrorsCarryACode(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	big := `{"query":"{ __typename }","variables":{"pad":"` + strings.Repeat("x", 1<<20) + `"}}`
	type req struct {
		name, method, contentType, body, query string
		chunked                                bool
		status                                 int
	}
	cases := []req{
		{"PUT", http.MethodPut, "application/json", `{"query":"{ __typename }"}`, "", false, http.StatusMethodNotAllowed},
		{"DELETE", http.MethodDelete, "application/json", `{"query":"{ __typename }"}`, "", false, http.StatusMethodNotAllowed},
		{"PATCH", http.MethodPatch, "application/json", `{"query":"{ __typename }"}`, "", false, http.StatusMethodNotAllowed},
		{"OPTIONS without a preflight", http.MethodOptions, "", "", "", false, http.StatusMethodNotAllowed},
		{"no content type", http.MethodPost, "", `{"query":"{ __typename }"}`, "", false, http.StatusUnsupportedMediaType},
		{"text/plain", http.MethodPost, "text/plain", `{ __typename }`, "", false, http.StatusUnsupportedMediaType},
		{"form", http.MethodPost, "application/x-www-form-urlencoded", `query=%7B__typename%7D`, "", false, http.StatusUnsupportedMediaType},
		{"not JSON", http.MethodPost, "application/json", `{"query":`, "", false, http.StatusBadRequest},
		{"variables not an object", http.MethodPost, "application/json", `{"query":"{ __typename }","variables":"x"}`, "", false, http.StatusBadRequest},
		{"no query", http.MethodPost, "application/json", `{}`, "", false, http.StatusBadRequest},
		{"GET variables not JSON", http.MethodGet, "", "", "query=%7B__typename%7D&variables=%5B1", false, http.StatusBadRequest},
		{"GET mutation", http.MethodGet, "", "", "query=" + url.QueryEscape(`mutation { signIn(input: {applicationId: "x", email: "a@example.org", password: "x"}) { accessToken } }`), false, http.StatusMethodNotAllowed},
		{"over 1 MiB, declared", http.MethodPost, "application/json", big, "", false, http.StatusRequestEntityTooLarge},
		{"over 1 MiB, chunked", http.MethodPost, "application/json", big, "", true, http.StatusRequestEntityTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body io.Reader = strings.NewReader(c.body)
			if c.chunked {
				body = io.MultiReader(body) // no declared length
			}
			r, err := http.NewRequest(c.method, s.URL+"/graphql?"+c.query, body)
			if err != nil {
				t.Fatal(err)
			}
			if c.contentType != "" {
				r.Header.Set("Content-Type", c.contentType)
			}
			res, raw := do(t, s.Server.Client(), r)
			if res.StatusCode != c.status {
				t.Errorf("status %d, want %d: %.200s", res.StatusCode, c.status, raw)
			}
			var out struct {
				Errors []struct {
					Message    string
					Extensions struct{ Code string }
				}
			}
			if err := json.Unmarshal([]byte(raw), &out); err != nil || len(out.Errors) == 0 {
				t.Fatalf("not GraphQL JSON with errors: %.200s", raw)
			}
			if code := out.Errors[0].Extensions.Code; code != "BAD_USER_INPUT" {
				t.Errorf("code %q (%s), want BAD_USER_INPUT", code, out.Errors[0].Message)
			}
		})
	}
}
