package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"atrium/atriumtest"
	"atrium/client"
)

var deviceRef = regexp.MustCompile(`^Device/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// m2mRoleIDs returns the ids of a machine client's roles.
func m2mRoleIDs(c client.M2MClientParts) []string {
	var ids []string
	for _, r := range c.Roles {
		ids = append(ids, r.Id)
	}
	return ids
}

// fullAccess reports whether a policy is exactly the full-access one.
func fullAccess(p *client.M2MClientPartsAccessPolicy) bool {
	return p != nil && len(p.Rule) == 1 && p.Rule[0].Effect == client.EffectAllow &&
		slices.Equal(p.Rule[0].Resource, []string{"*"}) && slices.Equal(p.Rule[0].Action, []string{"*"})
}

// A new project's default machine client, the token endpoint (form, JSON,
// HTTP Basic, RFC 6749 §5.2 errors), the machine token in its own project
// and nowhere else, and secret rotation.
func TestM2MDefaultClientAndTokenEndpoint(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	ctx := t.Context()
	p := s.CreateProject(t, "Backend")
	op := s.Operator(p)

	list, err := client.M2MClients(ctx, op, nil, nil, nil)
	atriumtest.Must(t, err)
	if len(list.M2mClients.Edges) != 1 || list.M2mClients.PageInfo.HasNextPage {
		t.Fatalf("a new project has machine clients %+v", list.M2mClients)
	}
	def := list.M2mClients.Edges[0].Node
	if def.Name != "Default" || !fullAccess(def.AccessPolicy) || len(def.Roles) != 0 || !deviceRef.MatchString(def.Profile) ||
		def.ClientId == "" || def.ClientId == def.Id {
		t.Fatalf("default machine client: %+v", def)
	}
	// Another project's default client is its own.
	other, err := client.M2MClients(ctx, s.Operator(s.Sandbox), nil, nil, nil)
	atriumtest.Must(t, err)
	if len(other.M2mClients.Edges) != 1 || other.M2mClients.Edges[0].Node.Id == def.Id || other.M2mClients.Edges[0].Node.ClientId == def.ClientId {
		t.Fatalf("sandbox machine clients: %+v", other.M2mClients.Edges)
	}
	_, err = client.M2MClient(ctx, s.Operator(s.Sandbox), def.Id)
	atriumtest.FailsWith(t, err, "NOT_FOUND")

	// Until a secret is made, no secret works.
	wantOAuthError(t, s.ClientCredentials(t, def.ClientId, ""), http.StatusUnauthorized, "invalid_client")
	wantOAuthError(t, s.ClientCredentials(t, def.ClientId, "guess"), http.StatusUnauthorized, "invalid_client")

	secret := atriumtest.RotateSecret(t, op, def.Id)

	// Form-encoded (RFC 6749 §4.4.2).
	ok := s.ClientCredentials(t, def.ClientId, secret)
	tok, _ := ok.Body["access_token"].(string)
	exp, _ := ok.Body["expires_in"].(float64)
	if ok.Status != http.StatusOK || tok == "" || ok.Body["token_type"] != "Bearer" || exp < 3590 || exp > 3600 {
		t.Fatalf("form grant: %d %s", ok.Status, ok.Raw)
	}
	if ok.Header.Get("Cache-Control") != "no-store" || ok.Header.Get("Pragma") != "no-cache" {
		t.Errorf("token answer headers: Cache-Control %q, Pragma %q", ok.Header.Get("Cache-Control"), ok.Header.Get("Pragma"))
	}
	// JSON body.
	body, _ := json.Marshal(map[string]string{"grant_type": "client_credentials", "client_id": def.ClientId, "client_secret": secret})
	js := s.TokenRequest(t, "application/json; charset=utf-8", string(body), "", "")
	if js.Status != http.StatusOK || js.Body["access_token"] == "" || js.Body["token_type"] != "Bearer" {
		t.Fatalf("JSON grant: %d %s", js.Status, js.Raw)
	}
	// HTTP Basic client authentication (§2.3.1).
	basic := s.TokenRequest(t, "application/x-www-form-urlencoded", "grant_type=client_credentials", def.ClientId, secret)
	if basic.Status != http.StatusOK || basic.Body["token_type"] != "Bearer" {
		t.Fatalf("Basic grant: %d %s", basic.Status, basic.Raw)
	}

	// Errors (§5.2).
	wrong := s.ClientCredentials(t, def.ClientId, secret+"x")
	wantOAuthError(t, wrong, http.StatusUnauthorized, "invalid_client")
	unknown := s.ClientCredentials(t, "no-such-client", secret)
	wantOAuthError(t, unknown, http.StatusUnauthorized, "invalid_client")
	if wrong.Body["error_description"] != unknown.Body["error_description"] {
		t.Errorf("a wrong secret (%v) and an unknown client (%v) are told apart", wrong.Body["error_description"], unknown.Body["error_description"])
	}
	basicWrong := s.TokenRequest(t, "application/x-www-form-urlencoded", "grant_type=client_credentials", def.ClientId, "wrong")
	wantOAuthError(t, basicWrong, http.StatusUnauthorized, "invalid_client")
	if basicWrong.Header.Get("WWW-Authenticate") == "" {
		t.Error("a failed Basic authentication has no WWW-Authenticate header")
	}
	form := func(v url.Values) atriumtest.TokenResponse {
		return s.TokenRequest(t, "application/x-www-form-urlencoded", v.Encode(), "", "")
	}
	wantOAuthError(t, form(url.Values{"grant_type": {"password"}, "client_id": {def.ClientId}, "client_secret": {secret}}), http.StatusBadRequest, "unsupported_grant_type")
	wantOAuthError(t, form(url.Values{"grant_type": {"authorization_code"}, "code": {"x"}}), http.StatusBadRequest, "unsupported_grant_type")
	wantOAuthError(t, form(url.Values{"grant_type": {"client_credentials"}, "client_id": {def.ClientId}}), http.StatusUnauthorized, "invalid_client")
	wantOAuthError(t, s.TokenRequest(t, "", "", "", ""), http.StatusBadRequest, "invalid_request")
	wantOAuthError(t, s.TokenRequest(t, "text/plain", "grant_type=client_credentials", "", ""), http.StatusBadRequest, "invalid_request")
	wantOAuthError(t, s.TokenRequest(t, "application/json", `{"grant_type":`, "", ""), http.StatusBadRequest, "invalid_request")

	// The machine token acts in its own project, with or without the header.
	me, err := client.M2MMe(ctx, s.Client(tok, ""))
	atriumtest.Must(t, err)
	if me.M2mMe.Id != def.Id || me.M2mMe.ClientId != def.ClientId || me.M2mMe.Name != "Default" {
		t.Fatalf("m2mMe: %+v", me.M2mMe)
	}
	for _, header := range []string{"", p} {
		if id, err := projectID(t, s.Client(tok, header)); err != nil || id != p {
			t.Fatalf("project with header %q: %q, %v", header, id, err)
		}
	}
	if got := projectIDs(t, s.Client(tok, "")); !slices.Equal(got, []string{p}) {
		t.Fatalf("projects of a machine client: %v", got)
	}
	// Another project's header finds nothing, as if it did not exist.
	_, errOther := projectID(t, s.Client(tok, s.Sandbox))
	const ghost = "00000000-0000-4000-8000-000000000000"
	_, errGhost := projectID(t, s.Client(tok, ghost))
	if a, b := notFoundShape(t, errOther, s.Sandbox), notFoundShape(t, errGhost, ghost); a != b {
		t.Errorf("another project: %q; no such project: %q", a, b)
	}
	_, err = client.M2MClients(ctx, s.Client(tok, s.Sandbox), nil, nil, nil)
	atriumtest.FailsWith(t, err, "NOT_FOUND")
	// A machine client is not a user.
	_, err = client.Me(ctx, s.Client(tok, ""))
	atriumtest.FailsWith(t, err, "FORBIDDEN")

	// Rotating again: the old secret fails at once, the new one works.
	secret2 := atriumtest.RotateSecret(t, s.Client(tok, ""), def.Id) // full access: it may rotate itself
	if secret2 == secret {
		t.Fatal("rotation returned the same secret")
	}
	wantOAuthError(t, s.ClientCredentials(t, def.ClientId, secret), http.StatusUnauthorized, "invalid_client")
	tok2 := s.M2MToken(t, def.ClientId, secret2)
	if me, err := client.M2MMe(ctx, s.Client(tok2, "")); err != nil || me.M2mMe.Id != def.Id {
		t.Fatalf("m2mMe with the new secret's token: %+v, %v", me, err)
	}
	// Tokens issued under the old secret stop working with it: a rotation
	// usually means the secret leaked.
	for _, old := range []string{tok, js.Body["access_token"].(string)} {
		_, err = client.M2MMe(ctx, s.Client(old, ""))
		atriumtest.FailsWith(t, err, "UNAUTHENTICATED")
		_, err = client.M2MClients(ctx, s.Client(old, ""), nil, nil, nil)
		atriumtest.FailsWith(t, err, "UNAUTHENTICATED")
	}
	// The secret is never readable back: no field of the client holds it.
	raw := s.Operator(p).Do(t, `query($id: ID!) { m2mClient(id: $id) { id clientId name description profile jwksUrl createdAt updatedAt } }`, map[string]any{"id": def.Id})
	if len(raw.Errors) > 0 || strings.Contains(string(raw.Data), secret) || strings.Contains(string(raw.Data), secret2) {
		t.Fatalf("m2mClient(id): %s %+v", raw.Data, raw.Errors)
	}
}

// Creating, listing, updating and deleting machine clients.
func TestM2MClientLifecycle(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	ctx := t.Context()
	p := s.CreateProject(t, "Machines")
	op := s.Operator(p)
	reader := atriumtest.CreateRole(t, op, "Reader", atriumtest.Allow("Project:Settings", "Project:GetProjectInfo"))
	roleLister := atriumtest.CreateRole(t, op, "Role lister", atriumtest.Allow("IAM:Role", "IAM:ListAllRoles"))

	// Roles-or-policy.
	for _, in := range []client.CreateM2MClientInput{{Name: "Nothing"}, {Name: "Empty roles", Roles: []string{}}} {
		_, err := client.CreateM2MClient(ctx, op, in)
		atriumtest.FailsWith(t, err, "BAD_USER_INPUT")
		if f := atriumtest.ErrorField(err); f != "input.roles" {
			t.Errorf("%s: error names field %q", in.Name, f)
		}
	}
	_, err := client.CreateM2MClient(ctx, op, client.CreateM2MClientInput{Name: "Foreign role", Roles: []string{"00000000-0000-4000-8000-000000000000"}})
	atriumtest.FailsWith(t, err, "NOT_FOUND")

	cr, err := client.CreateM2MClient(ctx, op, client.CreateM2MClientInput{Name: "Lab Sync", Description: ptr("pulls lab results"), Roles: []string{reader}})
	atriumtest.Must(t, err)
	m := cr.CreateM2MClient.M2mClient
	if m.Name != "Lab Sync" || m.Description != "pulls lab results" || !deviceRef.MatchString(m.Profile) || m.ClientId == "" || m.AccessPolicy != nil {
		t.Fatalf("created machine client: %+v", m)
	}
	got, err := client.M2MClient(ctx, op, m.Id)
	atriumtest.Must(t, err)
	if got.M2mClient.ClientId != m.ClientId || got.M2mClient.Profile != m.Profile || !slices.Equal(m2mRoleIDs(got.M2mClient.M2MClientParts), []string{reader}) {
		t.Fatalf("m2mClient(id): %+v", got.M2mClient)
	}
	pol, err := client.CreateM2MClient(ctx, op, client.CreateM2MClientInput{Name: "Policy only", AccessPolicy: atriumtest.Policy(atriumtest.Allow("IAM:Role", "IAM:ListAllRoles"))})
	atriumtest.Must(t, err)
	if pm := pol.CreateM2MClient.M2mClient; pm.AccessPolicy == nil || len(pm.Roles) != 0 || pm.Profile == m.Profile || pm.ClientId == m.ClientId {
		t.Fatalf("policy-only machine client: %+v", pm)
	}

	// Listing: oldest first (Default, Lab Sync, Policy only); filters.
	names := func(f *client.M2MClientFilter) []string {
		t.Helper()
		res, err := client.M2MClients(ctx, op, nil, nil, f)
		atriumtest.Must(t, err)
		var out []string
		for _, e := range res.M2mClients.Edges {
			out = append(out, e.Node.Name)
		}
		return out
	}
	if got := names(nil); !slices.Equal(got, []string{"Default", "Lab Sync", "Policy only"}) {
		t.Fatalf("m2mClients = %v", got)
	}
	if got := names(&client.M2MClientFilter{Name: ptr("lab")}); !slices.Equal(got, []string{"Lab Sync"}) {
		t.Errorf("filter name lab = %v", got)
	}
	if got := names(&client.M2MClientFilter{RoleId: &reader}); !slices.Equal(got, []string{"Lab Sync"}) {
		t.Errorf("filter role reader = %v", got)
	}
	page1, err := client.M2MClients(ctx, op, ptr(2), nil, nil)
	atriumtest.Must(t, err)
	page2, err := client.M2MClients(ctx, op, ptr(2), page1.M2mClients.PageInfo.EndCursor, nil)
	atriumtest.Must(t, err)
	if len(page1.M2mClients.Edges) != 2 || !page1.M2mClients.PageInfo.HasNextPage || len(page2.M2mClients.Edges) != 1 ||
		page2.M2mClients.PageInfo.HasNextPage || page2.M2mClients.Edges[0].Node.Name != "Policy only" {
		t.Fatalf("paging by 2: %+v / %+v", page1.M2mClients, page2.M2mClients)
	}

	// Its token can do what Reader allows and nothing else.
	secret := atriumtest.RotateSecret(t, op, m.Id)
	tok := s.M2MToken(t, m.ClientId, secret)
	mc := s.Client(tok, "")
	if id, err := projectID(t, mc); err != nil || id != p {
		t.Fatalf("project: %q, %v", id, err)
	}
	atriumtest.FailsWith(t, canListRoles(t, mc), "FORBIDDEN")
	_, err = client.M2MClients(ctx, mc, nil, nil, nil)
	atriumtest.FailsWith(t, err, "FORBIDDEN")

	// updateM2MClient: present fields change, roles replace the set; the
	// change applies to the live token at once.
	up, err := client.UpdateM2MClient(ctx, op, client.UpdateM2MClientInput{Id: m.Id, Name: ptr("Lab Sync v2"), Roles: []string{roleLister}, JwksUrl: ptr("https://lab.example.com/jwks.json")})
	atriumtest.Must(t, err)
	u := up.UpdateM2MClient.M2mClient
	if u.Name != "Lab Sync v2" || u.Description != "pulls lab results" || u.ClientId != m.ClientId || u.Profile != m.Profile ||
		!slices.Equal(m2mRoleIDs(u.M2MClientParts), []string{roleLister}) {
		t.Fatalf("updated machine client: %+v", u)
	}
	atriumtest.Must(t, canListRoles(t, mc))
	_, err = projectID(t, mc)
	atriumtest.FailsWith(t, err, "FORBIDDEN")
	// Roles-or-policy holds on update.
	r := s.Operator(p).Do(t, `mutation($id: ID!) { updateM2MClient(input: {id: $id, roles: []}) { m2mClient { id } } }`, map[string]any{"id": m.Id})
	if r.Code() != "BAD_USER_INPUT" {
		t.Fatalf("updateM2MClient to no roles and no policy: %+v", r.Errors)
	}
	_, err = client.UpdateM2MClient(ctx, op, client.UpdateM2MClientInput{Id: m.Id, JwksUrl: ptr("not a url")})
	atriumtest.FailsWith(t, err, "BAD_USER_INPUT")
	_, err = client.UpdateM2MClient(ctx, s.Operator(s.Sandbox), client.UpdateM2MClientInput{Id: m.Id, Name: ptr("hijacked")})
	atriumtest.FailsWith(t, err, "NOT_FOUND")

	// deleteM2MClient: its token stops working at once, and its secret.
	del, err := client.DeleteM2MClient(ctx, op, client.DeleteM2MClientInput{Id: m.Id})
	atriumtest.Must(t, err)
	if del.DeleteM2MClient.DeletedM2MClientId != m.Id {
		t.Fatalf("deleteM2MClient: %+v", del.DeleteM2MClient)
	}
	_, err = client.M2MMe(ctx, mc)
	atriumtest.FailsWith(t, err, "UNAUTHENTICATED")
	atriumtest.FailsWith(t, canListRoles(t, mc), "UNAUTHENTICATED")
	wantOAuthError(t, s.ClientCredentials(t, m.ClientId, secret), http.StatusUnauthorized, "invalid_client")
	_, err = client.M2MClient(ctx, op, m.Id)
	atriumtest.FailsWith(t, err, "NOT_FOUND")
	_, err = client.DeleteM2MClient(ctx, op, client.DeleteM2MClientInput{Id: m.Id})
	atriumtest.FailsWith(t, err, "NOT_FOUND")
	_, err = client.RotateM2MClientSecret(ctx, op, client.RotateM2MClientSecretInput{Id: m.Id})
	atriumtest.FailsWith(t, err, "NOT_FOUND")
	if got := names(nil); !slices.Equal(got, []string{"Default", "Policy only"}) {
		t.Fatalf("m2mClients after the delete = %v", got)
	}
}

// The createM2MClient payload shows the roles the client was given, as a
// later read does.
func TestCreateM2MClientResponseListsRoles(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	op := s.Operator(s.Sandbox)
	role := atriumtest.CreateRole(t, op, "Reader", atriumtest.Allow("Project:Settings", "Project:GetProjectInfo"))
	res, err := client.CreateM2MClient(t.Context(), op, client.CreateM2MClientInput{Name: "Backend", Roles: []string{role}})
	atriumtest.Must(t, err)
	read, err := client.M2MClient(t.Context(), op, res.CreateM2MClient.M2mClient.Id)
	atriumtest.Must(t, err)
	if got := m2mRoleIDs(read.M2mClient.M2MClientParts); !slices.Equal(got, []string{role}) {
		t.Fatalf("stored client's roles: %v", got)
	}
	if got := res.CreateM2MClient.M2mClient.Roles; len(got) != 1 || got[0].Id != role || got[0].Name != "Reader" {
		t.Fatalf("createM2MClient payload roles: %+v, want [Reader]", got)
	}
}

// A missing grant_type is a missing required parameter: RFC 6749 §5.2 names
// that invalid_request, not unsupported_grant_type.
func TestTokenEndpointMissingGrantType(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	r := s.TokenRequest(t, "application/x-www-form-urlencoded", url.Values{"client_id": {"x"}, "client_secret": {"y"}}.Encode(), "", "")
	if r.Status != http.StatusBadRequest {
		t.Fatalf("missing grant_type: %d %s", r.Status, r.Raw)
	}
	if r.Body["error"] == "unsupported_grant_type" {
		t.Error("api/oauth.go tokenEndpoint answers a request without grant_type with unsupported_grant_type; RFC 6749 §5.2 says a missing required parameter is invalid_request")
	}
	wantOAuthError(t, r, http.StatusBadRequest, "invalid_request")
}

// Both spellings of the machine client actions (App:* as the guard names
// them, IAM:* as real policies do) grant the same, to users and developers.
func TestM2MActionSpellings(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	ctx := t.Context()
	p := s.CreateProject(t, "Spellings")
	op := s.Operator(p)
	list, err := client.M2MClients(ctx, op, nil, nil, nil)
	atriumtest.Must(t, err)
	def := list.M2mClients.Edges[0].Node.Id
	other, err := client.CreateM2MClient(ctx, op, client.CreateM2MClientInput{Name: "Other", AccessPolicy: atriumtest.Policy(atriumtest.Allow("IAM:Role", "IAM:GetRole"))})
	atriumtest.Must(t, err)
	otherID := other.CreateM2MClient.M2mClient.Id

	type want struct{ getDef, getOther, list bool }
	cases := []struct {
		name string
		rule client.AccessPolicyRuleInput
		want want
	}{
		{"App:GetM2MClient", atriumtest.Allow("IAM:M2MClient:*", "App:GetM2MClient"), want{true, true, false}},
		{"IAM:GetM2MClient", atriumtest.Allow("IAM:M2MClient:*", "IAM:GetM2MClient"), want{true, true, false}},
		{"IAM:GetM2MClient on one id", atriumtest.Allow("IAM:M2MClient:"+def, "IAM:GetM2MClient"), want{true, false, false}},
		{"App:ListAllM2MClients", atriumtest.Allow("IAM:M2MClient", "App:ListAllM2MClients"), want{false, false, true}},
		{"IAM:ListAllM2MClients", atriumtest.Allow("IAM:M2MClient", "IAM:ListAllM2MClients"), want{false, false, true}},
		{"IAM:* on IAM:M2MClient:*", atriumtest.Allow("IAM:M2MClient:*", "IAM:*"), want{true, true, true}},
		{"IAM:GetRole only", atriumtest.Allow("IAM:Role", "IAM:GetRole"), want{false, false, false}},
	}
	roles := make([]string, len(cases))
	for i, tc := range cases {
		roles[i] = atriumtest.CreateRole(t, op, tc.name, tc.rule)
	}

	// One user and one developer, signed in once each; their roles change
	// between cases (effective at once, on the same token).
	app := atriumtest.CreateApplication(t, op, client.CreateApplicationInput{Name: "Console"})
	inv := atriumtest.Invite(t, op, client.InviteUserInput{Email: ptr("spell.user@example.com"), ApplicationId: app, Roles: []string{roles[len(roles)-1]}})
	userID, ticket := inv.UserID, inv.Ticket
	anon := s.Client("", "")
	s.Accept(t, ticket, testPassword)
	us, err := client.SignIn(ctx, anon, client.SignInInput{ApplicationId: app, Email: "spell.user@example.com", Password: testPassword})
	atriumtest.Must(t, err)
	dinv, err := client.InviteDeveloper(ctx, op, client.InviteDeveloperInput{Email: "spell.dev@example.com", Roles: []string{roles[len(roles)-1]}})
	atriumtest.Must(t, err)
	devID := dinv.InviteDeveloper.Developer.Id
	s.Accept(t, atriumtest.Ticket(t, *dinv.InviteDeveloper.InvitationUrl), testPassword)
	ds, err := client.SignInDeveloper(ctx, anon, client.SignInDeveloperInput{Email: "spell.dev@example.com", Password: testPassword})
	atriumtest.Must(t, err)

	principals := []struct {
		kind  string
		token string
		setTo func(role string)
	}{
		{"user", us.SignIn.AccessToken, func(role string) {
			s.Operator(p).MustDo(t, `mutation($id: ID!, $r: [ID!]) { updateUser(input: {id: $id, roles: $r}) { user { id } } }`, map[string]any{"id": userID, "r": []string{role}}, nil)
		}},
		{"developer", ds.SignInDeveloper.AccessToken, func(role string) {
			_, err := client.UpdateDeveloper(ctx, op, client.UpdateDeveloperInput{Id: devID, Roles: []string{role}})
			atriumtest.Must(t, err)
		}},
	}
	for _, pr := range principals {
		c := s.Client(pr.token, p)
		for i, tc := range cases {
			pr.setTo(roles[i])
			check := func(what string, err error, allowed bool) {
				t.Helper()
				switch {
				case allowed && err != nil:
					t.Errorf("%s with %s: %s refused: %v", pr.kind, tc.name, what, err)
				case !allowed && atriumtest.ErrorCode(err) != "FORBIDDEN":
					t.Errorf("%s with %s: %s gave %v, want FORBIDDEN", pr.kind, tc.name, what, err)
				}
			}
			_, err := client.M2MClient(ctx, c, def)
			check("m2mClient(default)", err, tc.want.getDef)
			_, err = client.M2MClient(ctx, c, otherID)
			check("m2mClient(other)", err, tc.want.getOther)
			_, err = client.M2MClients(ctx, c, nil, nil, nil)
			check("m2mClients", err, tc.want.list)
		}
	}
}
