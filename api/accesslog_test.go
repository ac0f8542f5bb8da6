package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"atrium/atriumtest"
	"atrium/client"
)

// accessLine returns the access-log line of the request with id reqID.
func accessLine(t *testing.T, s *atriumtest.Server, reqID string) map[string]any {
	t.Helper()
	for _, line := range strings.Split(s.Log.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		if rec["msg"] == "request" && rec["request_id"] == reqID {
			return rec
		}
	}
	t.Fatalf("no access-log line for request %s in:\n%s", reqID, s.Log.String())
	return nil
}

// Each request's log line names the operation, the project, the principal's
// kind and id, and the duration in milliseconds; never a credential.
func TestAccessLogLine(t *testing.T) {
	t.Parallel()
	s := atriumtest.NewServer(t)
	op := s.Operator(s.Sandbox)
	app := atriumtest.CreateApplication(t, op, client.CreateApplicationInput{Name: "Log App", AllowedCallbackUrls: []string{"https://log.example.com/cb"}})
	email := "logged@example.com"
	user := s.SignedInUser(t, op, client.InviteUserInput{ApplicationId: app, Email: &email,
		AccessPolicy: atriumtest.Policy(atriumtest.Allow("Project:Settings", "Project:GetProjectInfo"))}, testPassword)

	cases := []struct {
		name    string
		headers map[string]string
		query   string
		want    map[string]any
	}{
		{"operator", map[string]string{"Authorization": "Bearer " + atriumtest.AdminSecret, "X-Oystehr-Project-Id": s.Sandbox},
			`query Project { project { id } }`,
			map[string]any{"operation": "Project", "operation_type": "query", "project_id": s.Sandbox, "principal_kind": "OPERATOR", "principal_id": nil}},
		{"user, project from the token", map[string]string{"Authorization": "Bearer " + user.Token},
			`query WhoAmI { me { id } }`,
			map[string]any{"operation": "WhoAmI", "operation_type": "query", "project_id": s.Sandbox, "principal_kind": "USER", "principal_id": user.ID}},
		{"anonymous mutation", nil,
			`mutation { signIn(input: {applicationId: "` + app + `", email: "nobody@example.com", password: "wrong-password-1"}) { accessToken } }`,
			map[string]any{"operation": "(anonymous)", "operation_type": "mutation", "project_id": nil, "principal_kind": "ANONYMOUS", "principal_id": nil}},
	}
	for _, c := range cases {
		res, _ := rawPost(t, s, c.headers, c.query, nil)
		rec := accessLine(t, s, res.Header.Get("X-Request-Id"))
		for k, v := range c.want {
			if rec[k] != v {
				t.Errorf("%s: %s = %#v, want %#v (line %v)", c.name, k, rec[k], v, rec)
			}
		}
		ms, ok := rec["duration_ms"].(float64)
		if !ok || ms < 0 || ms > 60_000 {
			t.Errorf("%s: duration_ms = %#v, want a number of milliseconds", c.name, rec["duration_ms"])
		}
		if _, ok := rec["duration"]; ok {
			t.Errorf("%s: the line still has a bare duration: %v", c.name, rec)
		}
	}
	logs := s.Log.String()
	for _, secret := range []string{atriumtest.AdminSecret, user.Token, testPassword} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds a credential")
		}
	}
}
