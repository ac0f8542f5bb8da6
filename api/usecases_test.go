package api_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"golang.org/x/oauth2"

	"atrium/atriumtest"
	"atrium/client"
	"atrium/service"
)

// Every GraphQL operation, and every HTTP endpoint that serves a use case,
// goes through the domain's table: the request runs the use case of the
// operation's name (the service logs each one it starts, with the request
// id), and every entry of the table is reached by some request.
func TestEveryOperationRunsItsUseCase(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	src, err := os.ReadFile("../schema.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	schema, err := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphqls", Input: string(src)})
	if err != nil {
		t.Fatal(err)
	}
	reached := map[string]bool{}
	n := 0
	hc := *s.Server.Client() // every hop is a request of its own
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	send := func(name string, req *http.Request) (*http.Response, string) {
		t.Helper()
		n++
		id := fmt.Sprintf("walk-%04d-%s", n, name)
		if len(id) > 64 {
			id = id[:64]
		}
		req.Header.Set("X-Request-Id", id)
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		ran := useCasesOf(t, s.Log.String(), id)
		if !slices.Contains(ran, name) {
			t.Errorf("%s %s ran the use cases %q, not %s", req.Method, req.URL.Path, ran, name)
		}
		for _, uc := range ran {
			reached[uc] = true
		}
		return res, string(body)
	}

	// Each GraphQL operation, as the operator, with made-up arguments: the
	// outcome does not matter, which use case ran does.
	for _, root := range []*ast.Definition{schema.Query, schema.Mutation} {
		keyword := map[*ast.Definition]string{schema.Query: "query", schema.Mutation: "mutation"}[root]
		for _, f := range root.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			doc := keyword + " { " + f.Name + arguments(schema, f.Arguments) + selection(schema, f.Type) + " }"
			body, _ := json.Marshal(map[string]any{"query": doc})
			req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+atriumtest.AdminSecret)
			req.Header.Set("X-Oystehr-Project-Id", s.Sandbox)
			send(f.Name, req)
		}
	}

	// The HTTP endpoints. Accepting on the page needs a real invitation to
	// get past reading it; a too short password is enough.
	op := s.Operator(s.Sandbox)
	app := atriumtest.CreateApplication(t, op, client.CreateApplicationInput{Name: "Walk", AllowedCallbackUrls: []string{}})
	ticket := atriumtest.Invite(t, op, client.InviteUserInput{Email: ptr("walk@example.com"), ApplicationId: app,
		AccessPolicy: atriumtest.Policy(), Resource: &map[string]any{"resourceType": "Patient"}}).Ticket
	walked := walkOpenIDProvider(t, s, send)
	// An active user, whose reset link the reset page reads.
	walkerInv := atriumtest.Invite(t, op, client.InviteUserInput{Email: ptr("walker@example.com"), ApplicationId: app,
		AccessPolicy: atriumtest.Policy(), Resource: &map[string]any{"resourceType": "Patient"}})
	s.Accept(t, walkerInv.Ticket, "walker-password-1")
	walker := walkerInv.UserID
	for _, uc := range service.UseCases() {
		if uc.HTTP == "" || walked[uc.Name] {
			continue
		}
		method, path, _ := strings.Cut(uc.HTTP, " ")
		var req *http.Request
		switch uc.HTTP {
		case "GET " + service.InvitationPath:
			req, _ = http.NewRequest(method, s.URL+path+"?ticket="+url.QueryEscape(ticket), nil)
		case "POST " + service.InvitationPath:
			form := url.Values{"ticket": {ticket}, "password": {"short"}, "confirm": {"short"}}
			req, _ = http.NewRequest(method, s.URL+path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		case "GET /p/{projectId}/forgot", "GET /p/{projectId}/reset":
			req, _ = http.NewRequest(method, s.URL+strings.Replace(path, "{projectId}", s.Sandbox, 1)+"?ticket=x.y", nil)
		case "POST /p/{projectId}/forgot", "POST /p/{projectId}/signup":
			form := url.Values{"email": {"walk-page@example.com"}, "password": {"short"}, "confirm": {"short"}}
			req, _ = http.NewRequest(method, s.URL+strings.Replace(path, "{projectId}", s.Sandbox, 1), strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		case "POST /p/{projectId}/reset":
			// A reset ticket, to get past reading it; a too short password.
			var link struct {
				UserPasswordResetLink struct{ URL string }
			}
			op.MustDo(t, `mutation($id: ID!) { userPasswordResetLink(input: {id: $id}) { url } }`, map[string]any{"id": walker}, &link)
			u, err := url.Parse(link.UserPasswordResetLink.URL)
			if err != nil {
				t.Fatal(err)
			}
			form := url.Values{"ticket": {u.Query().Get("ticket")}, "password": {"short"}, "confirm": {"short"}}
			req, _ = http.NewRequest(method, s.URL+strings.Replace(path, "{projectId}", s.Sandbox, 1), strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		case "POST /oauth/token":
			form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"no-such-client"}, "client_secret": {"wrong"}}
			req, _ = http.NewRequest(method, s.URL+path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		case "GET /p/{projectId}/keys":
			req, _ = http.NewRequest(method, s.URL+strings.Replace(path, "{projectId}", s.Sandbox, 1), nil)
		case "GET /.well-known/jwks.json":
			req, _ = http.NewRequest(method, s.URL+path, nil)
		default:
			t.Errorf("use case %s is served by %s, which this test does not know how to call", uc.Name, uc.HTTP)
			continue
		}
		send(uc.Name, req)
	}

	for _, uc := range service.UseCases() {
		if !reached[uc.Name] {
			t.Errorf("no request reached the use case %s", uc.Name)
		}
	}
}

// walkOpenIDProvider reaches the use cases of the Sandbox's OpenID
// provider: a login through the hosted page, the code's exchange, a
// refresh, userinfo, a revocation, a confidential client's secret and a
// logout, one request per use case. It returns the use cases it sent.
func walkOpenIDProvider(t *testing.T, s *atriumtest.Server, send func(string, *http.Request) (*http.Response, string)) map[string]bool {
	t.Helper()
	walked := map[string]bool{}
	sent := send
	send = func(name string, req *http.Request) (*http.Response, string) {
		walked[name] = true
		return sent(name, req)
	}
	op := s.Operator(s.Sandbox)
	const cb = "https://walk.example.com/callback"
	res, err := client.CreateApplication(t.Context(), op, client.CreateApplicationInput{Name: "Walk OIDC", AllowedCallbackUrls: []string{cb}, RefreshTokenEnabled: ptr(true)})
	atriumtest.Must(t, err)
	clientID := res.CreateApplication.Application.ClientId
	inv := atriumtest.Invite(t, op, client.InviteUserInput{Email: ptr("walk.oidc@example.com"), ApplicationId: res.CreateApplication.Application.Id,
		AccessPolicy: atriumtest.Policy(), Resource: &map[string]any{"resourceType": "Patient"}})
	s.Accept(t, inv.Ticket, "walk-oidc-password")
	issuer := s.URL + "/p/" + s.Sandbox
	get := func(path string, header ...string) *http.Request {
		req, _ := http.NewRequest(http.MethodGet, issuer+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		return req
	}
	post := func(path string, form url.Values, header ...string) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, issuer+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		return req
	}
	send("openIDProvider", get("/.well-known/openid-configuration"))
	verifier := oauth2.GenerateVerifier()
	authorize := "/authorize?" + url.Values{"client_id": {clientID}, "redirect_uri": {cb}, "response_type": {"code"}, "scope": {"openid offline_access"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}.Encode()
	send("openIDClient", get(authorize))
	r, _ := send("startAuthorization", get(authorize))
	login, _ := url.Parse(r.Header.Get("Location"))
	authRequest := login.Query().Get("authRequest")
	send("authorization", get("/login?authRequest="+url.QueryEscape(authRequest)))
	send("resumeSession", get("/login?authRequest="+url.QueryEscape(authRequest)))
	send("loginOptions", get("/login?authRequest="+url.QueryEscape(authRequest)))
	send("startSsoSignIn", get("/sso/no-such-connection?authRequest="+url.QueryEscape(authRequest)))
	send("finishSsoSignIn", get("/sso-callback?state=made-up&code=x"))
	send("logInSecondFactor", post("/login", url.Values{"authRequest": {authRequest}, "state": {"made-up"}, "factor": {"totp"}, "code": {"123456"}}))
	send("startSmsLogIn", post("/login", url.Values{"authRequest": {authRequest}, "sms": {"send"}, "phone": {"+15555550123"}}))
	send("logInSms", post("/login", url.Values{"authRequest": {authRequest}, "sms": {"verify"}, "smsState": {"made-up"}, "code": {"123456"}}))
	r, _ = send("logIn", post("/login", url.Values{"authRequest": {authRequest}, "email": {"walk.oidc@example.com"}, "password": {"walk-oidc-password"}}))
	var cookie string
	for _, c := range r.Cookies() {
		cookie = c.Name + "=" + c.Value
	}
	r, _ = send("issueCode", get("/authorize/callback?id="+url.QueryEscape(authRequest), "Cookie", cookie))
	to, _ := url.Parse(r.Header.Get("Location"))
	exchange := url.Values{"grant_type": {"authorization_code"}, "client_id": {clientID}, "redirect_uri": {cb}, "code_verifier": {verifier}}
	exchange.Set("code", "not-a-code")
	send("redeemCode", post("/oauth/token", exchange))
	exchange.Set("code", to.Query().Get("code"))
	_, body := send("issueTokens", post("/oauth/token", exchange))
	var tokens struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal([]byte(body), &tokens); err != nil || tokens.RefreshToken == "" {
		t.Fatalf("token endpoint: %s", body)
	}
	_, body = send("refreshGrant", post("/oauth/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {clientID}, "refresh_token": {tokens.RefreshToken}}))
	if err := json.Unmarshal([]byte(body), &tokens); err != nil || tokens.RefreshToken == "" {
		t.Fatalf("refresh: %s", body)
	}
	send("openIDUser", get("/userinfo", "Authorization", "Bearer "+tokens.AccessToken))
	send("revokeToken", post("/revoke", url.Values{"client_id": {clientID}, "token": {tokens.RefreshToken}}))
	send("endSession", get("/end_session", "Cookie", cookie))
	conf, err := client.CreateApplication(t.Context(), op, client.CreateApplicationInput{Name: "Walk confidential", AllowedCallbackUrls: []string{cb}})
	atriumtest.Must(t, err)
	var rotated struct {
		RotateApplicationSecret struct{ Secret string }
	}
	op.MustDo(t, `mutation($id: ID!) { rotateApplicationSecret(input: {id: $id}) { secret } }`, map[string]any{"id": conf.CreateApplication.Application.Id}, &rotated)
	req := post("/revoke", url.Values{"token": {"not-a-token"}})
	req.SetBasicAuth(conf.CreateApplication.Application.ClientId, rotated.RotateApplicationSecret.Secret)
	send("verifyApplicationSecret", req)
	return walked
}

// useCasesOf lists the use cases the log shows for one request, in order.
func useCasesOf(t *testing.T, log, requestID string) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line struct {
			Msg, Name string
			RequestID string `json:"request_id"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "use case" && line.RequestID == requestID {
			out = append(out, line.Name)
		}
	}
	return out
}

// arguments writes made-up values for the required arguments of a field.
func arguments(s *ast.Schema, args ast.ArgumentDefinitionList) string {
	var parts []string
	for _, a := range args {
		if a.Type.NonNull {
			parts = append(parts, a.Name+": "+value(s, a.Type, 0))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// value is a literal of type t: its required input fields only.
func value(s *ast.Schema, t *ast.Type, depth int) string {
	if t.Elem != nil {
		return "[" + value(s, t.Elem, depth) + "]"
	}
	def := s.Types[t.Name()]
	switch {
	case def.Kind == ast.Enum:
		return def.EnumValues[0].Name
	case def.Kind == ast.InputObject:
		var parts []string
		for _, f := range def.Fields {
			if f.Type.NonNull && depth < 5 {
				parts = append(parts, f.Name+": "+value(s, f.Type, depth+1))
			}
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case t.Name() == "Int" || t.Name() == "Float":
		return "1"
	case t.Name() == "Boolean":
		return "false"
	case t.Name() == "Time":
		return `"2026-01-01T00:00:00Z"`
	case t.Name() == "JSON":
		return "{}"
	}
	return `"walk"`
}

// selection selects __typename of an object result, nothing of a scalar.
func selection(s *ast.Schema, t *ast.Type) string {
	if def := s.Types[t.Name()]; def != nil && (def.Kind == ast.Object || def.Kind == ast.Interface || def.Kind == ast.Union) {
		return " { __typename }"
	}
	return ""
}
