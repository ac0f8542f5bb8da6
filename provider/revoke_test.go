package provider_test

// Revoking an application's tokens as its developers: App:RevokeAccessToken
// and App:RevokeRefreshToken, over REST (the platform's SDK) and GraphQL.

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"atrium/atriumtest"
	"atrium/client"
)

func TestRevokeTokensThroughTheAPI(t *testing.T) {
	s := atriumtest.NewServer(t)
	p := newProject(t, s, "")
	other := newProject(t, s, "Other")
	second := p.newApp(t, client.CreateApplicationInput{Name: "Second"})
	b := newBrowser(t, s)
	r := p.rp(t, p.app)
	login := func() *oauth2.Token {
		code, z := p.code(t, b, p.app, nil)
		tok, err := r.exchange(code, z)
		atriumtest.Must(t, err)
		return tok
	}
	rest := func(appID, project, what, token string) (int, map[string]any) {
		body, _ := json.Marshal(map[string]string{"token": token})
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/v1/application/"+appID+"/revoke-"+what+"-token", strings.NewReader(string(body)))
		req.Header.Set("Authorization", "Bearer "+atriumtest.AdminSecret)
		req.Header.Set("X-Oystehr-Project-Id", project)
		req.Header.Set("Content-Type", "application/json")
		res, err := s.Server.Client().Do(req)
		atriumtest.Must(t, err)
		defer res.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(res.Body).Decode(&out)
		return res.StatusCode, out
	}

	tok := login()
	if status, _ := rest(second.ID, p.id, "refresh", tok.RefreshToken); status != http.StatusNotFound {
		t.Fatalf("revoking through another application: %d, want 404", status)
	}
	if status, _ := rest(other.app.ID, other.id, "refresh", tok.RefreshToken); status != http.StatusNotFound {
		t.Fatalf("revoking through another project: %d, want 404", status)
	}
	if _, err := r.refresh(tok.RefreshToken); err != nil {
		t.Fatalf("refused revocations revoked the token: %v", err)
	}
	tok = login()
	if status, out := rest(p.app.ID, p.id, "refresh", tok.RefreshToken); status != http.StatusOK || out["message"] == "" {
		t.Fatalf("REST revoke-refresh-token: %d %v", status, out)
	}
	if _, err := r.refresh(tok.RefreshToken); !invalidGrant(err) {
		t.Fatalf("refresh after REST revocation: %v, want invalid_grant", err)
	}

	tok = login()
	if status, out := rest(p.app.ID, p.id, "access", "not-a-jwt"); status != http.StatusBadRequest {
		t.Fatalf("REST revoke-access-token of garbage: %d %v, want 400", status, out)
	}
	p.operator.MustDo(t, `mutation($id: ID!, $token: String!) { revokeAccessToken(input: {id: $id, token: $token}) { message } }`,
		map[string]any{"id": p.app.ID, "token": tok.AccessToken}, nil)
	if _, err := r.provider.UserInfo(r.ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Fatal("userinfo with a revoked access token succeeded")
	}
	if _, err := r.refresh(tok.RefreshToken); !invalidGrant(err) {
		t.Fatalf("refresh after its access token was revoked: %v, want invalid_grant", err)
	}
	tok = login()
	p.operator.MustDo(t, `mutation($id: ID!, $token: String!) { revokeRefreshToken(input: {id: $id, token: $token}) { message } }`,
		map[string]any{"id": p.app.ID, "token": tok.RefreshToken}, nil)
	if _, err := r.refresh(tok.RefreshToken); !invalidGrant(err) {
		t.Fatalf("refresh after GraphQL revocation: %v, want invalid_grant", err)
	}
}
