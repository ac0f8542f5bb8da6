package api_test

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"atrium/atriumtest"
	"atrium/client"
	"atrium/service"
)

// SSO connections managed in GraphQL: defaults, the sealed secret that is
// never shown, validation, unique names per project, isolation and the
// project-settings grant.

const (
	ssoFields     = `{ id name issuer clientId hasClientSecret scopes claimMapping { claim field } version }`
	createSSODoc  = `mutation($in: CreateSSOConnectionInput!) { createSSOConnection(input: $in) { ssoConnection ` + ssoFields + ` } }`
	updateSSODoc  = `mutation($in: UpdateSSOConnectionInput!) { updateSSOConnection(input: $in) { ssoConnection ` + ssoFields + ` } }`
	deleteSSODoc  = `mutation($id: ID!) { deleteSSOConnection(input: {id: $id}) { deletedSSOConnectionId } }`
	listSSODoc    = `{ ssoConnections ` + ssoFields + ` }`
	ssoSecretText = "upstream-client-secret-7f3a"
)

type ssoView struct {
	ID, Name, Issuer, ClientID string
	HasClientSecret            bool
	Scopes                     []string
	ClaimMapping               []struct{ Claim, Field string }
}

func createSSO(t *testing.T, c *atriumtest.Client, in map[string]any) ssoView {
	t.Helper()
	var out struct {
		CreateSSOConnection struct{ SsoConnection ssoView }
	}
	c.MustDo(t, createSSODoc, map[string]any{"in": in}, &out)
	return out.CreateSSOConnection.SsoConnection
}

func TestSSOConnectionsInGraphQL(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	op := s.Operator(s.Sandbox)
	c := createSSO(t, op, map[string]any{"name": "Acme", "issuer": "https://idp.acme.example/realms/main", "clientId": "atrium", "clientSecret": ssoSecretText})
	if !c.HasClientSecret || strings.Join(c.Scopes, " ") != "openid email profile" || len(c.ClaimMapping) != 5 || c.ClaimMapping[0].Claim != "email" {
		t.Fatalf("defaults: %+v", c)
	}
	// The secret rests sealed and is never shown.
	r := op.Do(t, listSSODoc, nil)
	if bytes.Contains(r.Raw, []byte(ssoSecretText)) {
		t.Fatal("the client secret is in an answer")
	}
	stored, err := s.DB.Tenant(s.Sandbox).SSOConnections().Get(context.Background(), c.ID)
	atriumtest.Must(t, err)
	if len(stored.ClientSecret) == 0 || bytes.Contains(stored.ClientSecret, []byte(ssoSecretText)) {
		t.Fatalf("stored secret %q", stored.ClientSecret)
	}

	// Validation.
	for _, tc := range []struct {
		in    map[string]any
		field string
	}{
		{map[string]any{"name": "Plain", "issuer": "http://idp.example.com", "clientId": "x"}, "input.issuer"},
		{map[string]any{"name": "Query", "issuer": "https://idp.example.com/?a=1", "clientId": "x"}, "input.issuer"},
		{map[string]any{"name": "Rel", "issuer": "/idp", "clientId": "x"}, "input.issuer"},
		{map[string]any{"name": "sms", "issuer": "https://idp.example.com", "clientId": "x"}, "input.name"},
		{map[string]any{"name": "  ", "issuer": "https://idp.example.com", "clientId": "x"}, "input.name"},
		{map[string]any{"name": "NoID", "issuer": "https://idp.example.com", "clientId": " "}, "input.clientId"},
		{map[string]any{"name": "Scopes", "issuer": "https://idp.example.com", "clientId": "x", "scopes": []string{"email"}}, "input.scopes"},
		{map[string]any{"name": "Scope", "issuer": "https://idp.example.com", "clientId": "x", "scopes": []string{"openid", "a b"}}, "input.scopes[1]"},
		{map[string]any{"name": "Map", "issuer": "https://idp.example.com", "clientId": "x",
			"claimMapping": []map[string]any{{"claim": "upn", "field": "passwordHash"}}}, "input.claimMapping[0].field"},
		{map[string]any{"name": "Twice", "issuer": "https://idp.example.com", "clientId": "x",
			"claimMapping": []map[string]any{{"claim": "upn", "field": "email"}, {"claim": "mail", "field": "email"}}}, "input.claimMapping[1].field"},
		{map[string]any{"name": "Same", "issuer": "https://idp.example.com", "clientId": "x",
			"claimMapping": []map[string]any{{"claim": "upn", "field": "email"}, {"claim": "upn", "field": "name"}}}, "input.claimMapping[1].claim"},
	} {
		op.Fails(t, "BAD_USER_INPUT", tc.field, createSSODoc, map[string]any{"in": tc.in})
	}
	loop := createSSO(t, op, map[string]any{"name": "Local", "issuer": "http://127.0.0.1:9999", "clientId": "dev",
		"scopes": []string{"openid", "email"}, "claimMapping": []map[string]any{{"claim": "upn", "field": "email"}}})
	if loop.HasClientSecret || len(loop.ClaimMapping) != 1 || loop.ClaimMapping[0].Field != "email" {
		t.Fatalf("loopback connection %+v", loop)
	}

	// Names are unique per project, not across projects.
	op.Fails(t, "CONFLICT", "input.name", createSSODoc, map[string]any{"in": map[string]any{"name": "Acme", "issuer": "https://other.example", "clientId": "y"}})
	other := s.CreateProject(t, "Other")
	theirs := createSSO(t, s.Operator(other), map[string]any{"name": "Acme", "issuer": "https://idp.other.example", "clientId": "z"})
	op.Fails(t, "CONFLICT", "input.name", updateSSODoc, map[string]any{"in": map[string]any{"id": loop.ID, "name": "Acme"}})

	// Update: a field at a time; an empty secret removes it.
	var up struct {
		UpdateSSOConnection struct{ SsoConnection ssoView }
	}
	op.MustDo(t, updateSSODoc, map[string]any{"in": map[string]any{"id": c.ID, "clientSecret": "", "scopes": []string{"openid"}}}, &up)
	if u := up.UpdateSSOConnection.SsoConnection; u.HasClientSecret || u.Name != "Acme" || strings.Join(u.Scopes, " ") != "openid" {
		t.Fatalf("updated %+v", u)
	}
	op.Fails(t, "BAD_USER_INPUT", "input.issuer", updateSSODoc, map[string]any{"in": map[string]any{"id": c.ID, "issuer": "ftp://x"}})

	// Another project's connection is not found from here.
	op.Fails(t, "NOT_FOUND", "input.id", updateSSODoc, map[string]any{"in": map[string]any{"id": theirs.ID, "clientId": "mine"}})
	op.Fails(t, "NOT_FOUND", "input.id", deleteSSODoc, map[string]any{"id": theirs.ID})
	var list struct{ SsoConnections []ssoView }
	op.MustDo(t, listSSODoc, nil, &list)
	if len(list.SsoConnections) != 2 || list.SsoConnections[0].Name != "Acme" || list.SsoConnections[1].Name != "Local" {
		t.Fatalf("list %+v", list)
	}

	// Managing connections takes the project-settings grant.
	reader := atriumtest.CreateRole(t, op, "Readers", atriumtest.Allow("Project:Settings", "Project:GetProjectInfo"))
	app := createApplication(t, op, "Portal")
	inv := invite(t, op, app, reader, "reader@example.com")
	s.Accept(t, inv.Ticket, testPassword)
	res, err := client.SignIn(t.Context(), s.Client("", ""), client.SignInInput{ApplicationId: app, Email: "reader@example.com", Password: testPassword})
	atriumtest.Must(t, err)
	rc := s.Client(res.SignIn.AccessToken, "")
	rc.MustDo(t, listSSODoc, nil, nil)
	rc.Fails(t, "FORBIDDEN", "", createSSODoc, map[string]any{"in": map[string]any{"name": "Mine", "issuer": "https://x.example", "clientId": "m"}})
	rc.Fails(t, "FORBIDDEN", "", deleteSSODoc, map[string]any{"id": c.ID})

	op.MustDo(t, deleteSSODoc, map[string]any{"id": c.ID}, nil)
	op.Fails(t, "NOT_FOUND", "input.id", deleteSSODoc, map[string]any{"id": c.ID})
	op.MustDo(t, listSSODoc, nil, &list)
	if len(list.SsoConnections) != 1 {
		t.Fatalf("after delete: %+v", list)
	}
}

// A project holds at most service.MaxSSOConnections connections, since its
// login page lists them all; deleting one makes room, and another project
// is not held back by this one's.
func TestSSOConnectionsPerProjectAreCapped(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	op := s.Operator(s.Sandbox)
	conn := func(i int) map[string]any {
		return map[string]any{"name": fmt.Sprintf("IdP %02d", i), "issuer": "https://idp.example/" + strconv.Itoa(i), "clientId": "atrium"}
	}
	var first string
	for i := range service.MaxSSOConnections {
		if c := createSSO(t, op, conn(i)); i == 0 {
			first = c.ID
		}
	}
	expectError(t, op.Do(t, createSSODoc, map[string]any{"in": conn(service.MaxSSOConnections)}), "CONFLICT", "SSO connections", "delete one")
	op.MustDo(t, deleteSSODoc, map[string]any{"id": first}, nil)
	createSSO(t, op, conn(service.MaxSSOConnections))
	other := s.Operator(s.CreateProject(t, "Other"))
	createSSO(t, other, conn(0))
}
