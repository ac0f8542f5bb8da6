package main

// Restart, crash and backup of the embedded default: the data written by
// one process is there for the next, on the same data dir or a backup of it.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"atrium/atriumtest"
	"atrium/config"
)

// stablePublicURL keeps the token issuers (ATRIUM_PUBLIC_URL/p/<project>)
// of processes on different ports the same, as a deployment's are: a token
// names its issuer, and a start with another public URL refuses it.
const stablePublicURL = "ATRIUM_PUBLIC_URL=http://atrium.example"

// written is what one round of writes made, with the credentials it got.
type written struct {
	round                         int
	project, role, app, user, dev string
	m2m, m2mClientID              string
	userEmail, devEmail, password string
	userToken, devToken, m2mToken string
	auditActions                  []string
}

// writeEverything writes into every collection through the API: a project,
// a role, an application, a user who accepts its invitation and signs in, a
// developer who does the same, a machine client with a new secret and a
// token from /oauth/token; each of them leaves audit events.
func writeEverything(t *testing.T, p *proc, sandbox string, round int) written {
	t.Helper()
	op := p.operator(t, sandbox)
	w := written{round: round, password: fmt.Sprintf("correct horse %d battery", round),
		userEmail: fmt.Sprintf("user%d@example.com", round), devEmail: fmt.Sprintf("dev%d@example.com", round)}

	var proj struct {
		CreateProject struct{ Project struct{ ID string } }
	}
	op.MustDo(t, `mutation($n: String!) { createProject(input: {name: $n, fhirVersion: R4}) { project { id } } }`,
		map[string]any{"n": fmt.Sprintf("Project %d", round)}, &proj)
	w.project = proj.CreateProject.Project.ID

	var role struct {
		CreateRole struct{ Role struct{ ID string } }
	}
	op.MustDo(t, `mutation($n: String!) { createRole(input: {name: $n, accessPolicy: {rule: [
		{resource: "Project:Settings", action: "Project:GetProjectInfo", effect: Allow}
		{resource: "App:User", action: ["App:ListAllUsers", "App:GetUser"], effect: Allow}]}}) { role { id } } }`,
		map[string]any{"n": fmt.Sprintf("Staff %d", round)}, &role)
	w.role = role.CreateRole.Role.ID

	var app struct {
		CreateApplication struct{ Application struct{ ID string } }
	}
	op.MustDo(t, `mutation($n: String!) { createApplication(input: {name: $n, allowedCallbackUrls: ["https://ehr.example.com/cb"],
		loginRedirectUri: "https://ehr.example.com/login"}) { application { id } } }`,
		map[string]any{"n": fmt.Sprintf("EHR %d", round)}, &app)
	w.app = app.CreateApplication.Application.ID

	var inv struct {
		InviteUser struct {
			User          struct{ ID string }
			InvitationURL string
		}
	}
	op.MustDo(t, `mutation($e: String!, $a: ID!, $r: ID!) { inviteUser(input: {email: $e, applicationId: $a, roles: [$r],
		resource: {resourceType: "Practitioner", name: [{family: "Snow", given: ["Jon"]}]}}) { user { id } invitationUrl } }`,
		map[string]any{"e": w.userEmail, "a": w.app, "r": w.role}, &inv)
	w.user = inv.InviteUser.User.ID
	accept(t, p, inv.InviteUser.InvitationURL, w.password)
	var signIn struct{ SignIn struct{ AccessToken string } }
	p.client("", "").MustDo(t, `mutation($a: ID!, $e: String!, $p: String!) { signIn(input: {applicationId: $a, email: $e, password: $p}) { accessToken } }`,
		map[string]any{"a": w.app, "e": w.userEmail, "p": w.password}, &signIn)
	w.userToken = signIn.SignIn.AccessToken

	var dev struct {
		InviteDeveloper struct {
			Developer     struct{ ID string }
			InvitationURL string
		}
	}
	op.MustDo(t, `mutation($e: String!, $r: ID!) { inviteDeveloper(input: {email: $e, roles: [$r]}) { developer { id } invitationUrl } }`,
		map[string]any{"e": w.devEmail, "r": w.role}, &dev)
	w.dev = dev.InviteDeveloper.Developer.ID
	accept(t, p, dev.InviteDeveloper.InvitationURL, w.password)
	var devIn struct{ SignInDeveloper struct{ AccessToken string } }
	p.client("", "").MustDo(t, `mutation($e: String!, $p: String!) { signInDeveloper(input: {email: $e, password: $p}) { accessToken } }`,
		map[string]any{"e": w.devEmail, "p": w.password}, &devIn)
	w.devToken = devIn.SignInDeveloper.AccessToken

	var m2m struct {
		CreateM2MClient struct{ M2MClient struct{ ID, ClientID string } }
	}
	op.MustDo(t, `mutation($n: String!, $r: ID!) { createM2MClient(input: {name: $n, roles: [$r]}) { m2mClient { id clientId } } }`,
		map[string]any{"n": fmt.Sprintf("Backend %d", round), "r": w.role}, &m2m)
	w.m2m, w.m2mClientID = m2m.CreateM2MClient.M2MClient.ID, m2m.CreateM2MClient.M2MClient.ClientID
	var rot struct{ RotateM2MClientSecret struct{ Secret string } }
	op.MustDo(t, `mutation($id: ID!) { rotateM2MClientSecret(input: {id: $id}) { secret } }`, map[string]any{"id": w.m2m}, &rot)
	w.m2mToken = clientCredentials(t, p, w.m2mClientID, rot.RotateM2MClientSecret.Secret)
	return w
}

// accept accepts the invitation at link (an invitationUrl) with password.
func accept(t *testing.T, p *proc, link, password string) {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil || u.Query().Get("ticket") == "" {
		t.Fatalf("invitation url %q has no ticket", link)
	}
	p.client("", "").MustDo(t, `mutation($t: String!, $p: String!) { acceptInvitation(input: {ticket: $t, password: $p}) { user { id } developer { id } } }`,
		map[string]any{"t": u.Query().Get("ticket"), "p": password}, nil)
}

// clientCredentials runs the OAuth client-credentials grant on p.
func clientCredentials(t *testing.T, p *proc, clientID, secret string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}}
	res, err := http.PostForm(p.url+"/oauth/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	raw, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(raw, &out); res.StatusCode != http.StatusOK || err != nil || out.AccessToken == "" {
		t.Fatalf("/oauth/token: %d %s", res.StatusCode, raw)
	}
	return out.AccessToken
}

// tokenKid is the kid in a JWT's header.
func tokenKid(t *testing.T, token string) string {
	t.Helper()
	part, _, _ := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(part)
	var h struct{ Kid string }
	if err != nil || json.Unmarshal(raw, &h) != nil || h.Kid == "" {
		t.Fatalf("token header %q has no kid", raw)
	}
	return h.Kid
}

// publishedKids lists the kids of the JWKS at path on p.
func publishedKids(t *testing.T, p *proc, path string) []string {
	t.Helper()
	res, err := http.Get(p.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var set struct{ Keys []struct{ Kid string } }
	if err := json.NewDecoder(res.Body).Decode(&set); res.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("GET %s: %d %v", path, res.StatusCode, err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return kids
}

// checkEverything checks that what rounds wrote is all there, that the
// tokens they were given still verify and that their credentials still
// work on p.
func checkEverything(t *testing.T, p *proc, sandbox string, rounds []written) {
	t.Helper()
	op := p.operator(t, sandbox)
	var got struct {
		Projects     []struct{ ID string }
		Roles        []struct{ ID string }
		Applications []struct{ ID string }
		Users        struct {
			Edges []struct{ Node struct{ ID, Status string } }
		}
		Developers struct {
			Edges []struct{ Node struct{ ID string } }
		}
		M2MClients struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	op.MustDo(t, `{ projects { id } roles { id } applications { id }
		users(first: 100) { edges { node { id status } } }
		developers(first: 100) { edges { node { id } } }
		m2mClients(first: 100) { edges { node { id } } } }`, nil, &got)
	ids := func(n int, f func(int) string) []string {
		out := make([]string, n)
		for i := range n {
			out[i] = f(i)
		}
		return out
	}
	active := map[string]bool{}
	for _, e := range got.Users.Edges {
		active[e.Node.ID] = e.Node.Status == "ACTIVE"
	}
	for _, w := range rounds {
		for what, list := range map[string][]string{
			"project":     ids(len(got.Projects), func(i int) string { return got.Projects[i].ID }),
			"role":        ids(len(got.Roles), func(i int) string { return got.Roles[i].ID }),
			"application": ids(len(got.Applications), func(i int) string { return got.Applications[i].ID }),
			"developer":   ids(len(got.Developers.Edges), func(i int) string { return got.Developers.Edges[i].Node.ID }),
			"m2m client":  ids(len(got.M2MClients.Edges), func(i int) string { return got.M2MClients.Edges[i].Node.ID }),
		} {
			want := map[string]string{"project": w.project, "role": w.role, "application": w.app, "developer": w.dev, "m2m client": w.m2m}[what]
			if !slices.Contains(list, want) {
				t.Errorf("round %d's %s %s is gone", w.round, what, want)
			}
		}
		if !active[w.user] {
			t.Errorf("round %d's user %s is gone or not ACTIVE", w.round, w.user)
		}

		// The tokens issued in that round still verify.
		var me struct{ Me struct{ ID string } }
		p.client(w.userToken, "").MustDo(t, `{ me { id } }`, nil, &me)
		if me.Me.ID != w.user {
			t.Errorf("round %d's user token: me = %q, want %s", w.round, me.Me.ID, w.user)
		}
		p.client(w.devToken, sandbox).MustDo(t, `{ project { id } }`, nil, nil)
		var m2m struct{ M2MMe struct{ ID string } }
		p.client(w.m2mToken, "").MustDo(t, `{ m2mMe { id } }`, nil, &m2m)
		if m2m.M2MMe.ID != w.m2m {
			t.Errorf("round %d's m2m token: m2mMe = %q, want %s", w.round, m2m.M2MMe.ID, w.m2m)
		}
		// Because their signing keys (in the store, sealed) are still
		// published by their issuers.
		for token, jwks := range map[string]string{w.userToken: "/p/" + sandbox + "/keys", w.devToken: "/.well-known/jwks.json", w.m2mToken: "/p/" + sandbox + "/keys"} {
			if kid := tokenKid(t, token); !slices.Contains(publishedKids(t, p, jwks), kid) {
				t.Errorf("round %d: %s no longer publishes key %s", w.round, jwks, kid)
			}
		}
		// And the passwords set then still sign in.
		p.client("", "").MustDo(t, `mutation($a: ID!, $e: String!, $p: String!) { signIn(input: {applicationId: $a, email: $e, password: $p}) { accessToken } }`,
			map[string]any{"a": w.app, "e": w.userEmail, "p": w.password}, nil)
	}

	// Every round's role creation is in the audit trail.
	audited := map[string]bool{}
	after := ""
	for range 50 { // 50 pages of 100: far more than five rounds write
		var page struct {
			AuditEvents struct {
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
				Edges []struct {
					Node struct {
						Action string
						Target struct{ ID string }
					}
				}
			}
		}
		vars := map[string]any{}
		if after != "" {
			vars["after"] = after
		}
		op.MustDo(t, `query($after: String) { auditEvents(first: 100, after: $after) { pageInfo { hasNextPage endCursor } edges { node { action target { id } } } } }`, vars, &page)
		for _, e := range page.AuditEvents.Edges {
			audited[e.Node.Target.ID] = true
		}
		if !page.AuditEvents.PageInfo.HasNextPage {
			break
		}
		after = page.AuditEvents.PageInfo.EndCursor
	}
	for _, w := range rounds {
		for _, id := range []string{w.role, w.app, w.user, w.m2m} {
			if !audited[id] {
				t.Errorf("round %d: no audit event about %s", w.round, id)
			}
		}
	}
}

// Five starts on one data dir: each writes into every collection and stops
// with SIGTERM; each start finds all earlier rounds' data, the same secrets,
// and working tokens and operations.
func TestRestartKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	var rounds []written
	var adminSecret, sealingSecret string
	for round := 1; round <= 5; round++ {
		p := start(t, dir, stablePublicURL)
		if round == 1 {
			adminSecret, sealingSecret = readSecret(t, dir, adminSecretFile), readSecret(t, dir, sealingSecretFile)
		} else if readSecret(t, dir, adminSecretFile) != adminSecret || readSecret(t, dir, sealingSecretFile) != sealingSecret {
			t.Fatalf("start %d changed the generated secrets", round)
		}
		sandbox := p.sandbox(t)
		checkEverything(t, p, sandbox, rounds)
		rounds = append(rounds, writeEverything(t, p, sandbox, round))
		checkEverything(t, p, sandbox, rounds)
		p.stop(t)
		if t.Failed() {
			t.Fatalf("round %d failed", round)
		}
	}
}

// ackedWriter creates roles named prefix-<n> in a loop, from several
// goroutines, until stop is closed or limit writes were tried, and returns
// the names of the roles whose creation was acknowledged (HTTP 200 with the
// role in data). Errors after the process died are expected and ignored.
func ackedWriter(p *proc, sandbox, adminSecret, prefix string, limit int, stop <-chan struct{}, count *atomic.Int64) []string {
	var (
		mu    sync.Mutex
		acked []string
		next  int
		wg    sync.WaitGroup
	)
	hc := &http.Client{Timeout: 10 * time.Second}
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				n := next
				next++
				mu.Unlock()
				if n >= limit {
					return
				}
				name := fmt.Sprintf("%s-%04d", prefix, n)
				if createRoleAcked(hc, p.url, sandbox, adminSecret, name) {
					mu.Lock()
					acked = append(acked, name)
					mu.Unlock()
					count.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return acked
}

// createRoleAcked posts one createRole and reports whether it was
// acknowledged.
func createRoleAcked(hc *http.Client, base, project, adminSecret, name string) bool {
	body, _ := json.Marshal(map[string]any{
		"query":     `mutation($n: String!) { createRole(input: {name: $n, accessPolicy: {rule: [{resource: "*", action: "*", effect: Allow}]}}) { role { id name } } }`,
		"variables": map[string]any{"n": name},
	})
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+adminSecret)
	req.Header.Set("X-Oystehr-Project-Id", project)
	res, err := hc.Do(req)
	if err != nil {
		return false
	}
	defer res.Body.Close()
	var out struct {
		Data struct {
			CreateRole struct{ Role struct{ Name string } }
		}
		Errors []any
	}
	if res.StatusCode != http.StatusOK || json.NewDecoder(res.Body).Decode(&out) != nil {
		return false
	}
	return len(out.Errors) == 0 && out.Data.CreateRole.Role.Name == name
}

// roleNames lists the role names of project on p.
func roleNames(t *testing.T, c *atriumtest.Client) map[string]bool {
	t.Helper()
	var out struct{ Roles []struct{ Name string } }
	c.MustDo(t, `{ roles { name } }`, nil, &out)
	names := map[string]bool{}
	for _, r := range out.Roles {
		names[r.Name] = true
	}
	return names
}

// SIGKILL in the middle of a stream of writes: the next start opens the
// data dir as it is, and every acknowledged write is there.
func TestCrashKeepsAcknowledgedWrites(t *testing.T) {
	dir := t.TempDir()
	p := start(t, dir)
	sandbox := p.sandbox(t)
	secret := readSecret(t, dir, adminSecretFile)
	stop := make(chan struct{})
	done := make(chan []string)
	var count atomic.Int64
	go func() { done <- ackedWriter(p, sandbox, secret, "crash", 3000, stop, &count) }()
	// Kill mid-stream, once a good number of writes went through.
	for deadline := time.Now().Add(60 * time.Second); count.Load() < 100 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	p.kill(t)
	close(stop)
	acked := <-done
	if len(acked) == 0 {
		t.Fatal("no write was acknowledged before the kill")
	}

	q := start(t, dir)
	names := roleNames(t, q.operator(t, sandbox))
	var lost []string
	for _, n := range acked {
		if !names[n] {
			lost = append(lost, n)
		}
	}
	if len(lost) > 0 {
		t.Fatalf("%d of %d acknowledged writes lost after SIGKILL: %v", len(lost), len(acked), lost)
	}
	t.Logf("%d acknowledged writes before SIGKILL, all there after the restart", len(acked))
	// And the data dir takes writes again.
	if !createRoleAcked(http.DefaultClient, q.url, sandbox, secret, "after-crash") {
		t.Fatal("createRole after the restart failed")
	}
	q.stop(t)
}

// atrium backup copies a running deployment that takes writes; a server
// started on the copy has everything written before the backup began, the
// same secrets, and accepts tokens issued by the original.
func TestBackupOfARunningServer(t *testing.T) {
	dir := t.TempDir()
	p := start(t, dir, stablePublicURL)
	sandbox := p.sandbox(t)
	before := writeEverything(t, p, sandbox, 1)
	secret := readSecret(t, dir, adminSecretFile)

	// Writes keep coming while the backup runs.
	stop := make(chan struct{})
	done := make(chan []string)
	var count atomic.Int64
	go func() { done <- ackedWriter(p, sandbox, secret, "during", 2000, stop, &count) }()
	for deadline := time.Now().Add(30 * time.Second); count.Load() < 10 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	ackedBefore := roleNames(t, p.operator(t, sandbox)) // everything acknowledged until now

	dest := filepath.Join(t.TempDir(), "backup")
	b := launch(t, dir, nil, "backup", dest)
	if err := b.wait(t, 60*time.Second); err != nil {
		t.Fatalf("atrium backup: %v\n%s", err, b.out)
	}
	close(stop)
	<-done
	if !strings.Contains(b.out.String(), "ATRIUM_DATA_DIR="+dest) {
		t.Errorf("backup output does not say how to restore:\n%s", b.out)
	}
	// A second backup into the same place refuses.
	again := launch(t, dir, nil, "backup", dest)
	if err := again.wait(t, 60*time.Second); err == nil || !strings.Contains(again.out.String(), "already exists") {
		t.Errorf("backup over an existing dir: %v\n%s", err, again.out)
	}

	for _, f := range secretFiles {
		if readSecret(t, dest, f) != readSecret(t, dir, f) {
			t.Errorf("backup's %s differs from the original's", f)
		}
	}
	info, err := os.Stat(dest)
	if err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("backup dir mode: %v %v", info.Mode(), err)
	}

	// Restore: a server on the copy, next to the original that still runs.
	r := start(t, dest, stablePublicURL)
	checkEverything(t, r, sandbox, []written{before})
	restored := roleNames(t, r.operator(t, sandbox))
	for n := range ackedBefore {
		if !restored[n] {
			t.Errorf("role %q, acknowledged before the backup began, is not in the backup", n)
		}
	}
	r.stop(t)
	p.stop(t)
}

// A data dir of a release that kept the secret in jwt-secret keeps it, now
// as sealing-secret, so the replays and keys it sealed still open.
func TestSealingSecretKeepsTheFormerFile(t *testing.T) {
	dir := t.TempDir()
	const former = "a-secret-of-an-earlier-release-0123456789"
	if err := os.WriteFile(filepath.Join(dir, formerSealingSecretFile), []byte(former+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the rename, then a start that finds it done
		got, err := sealingSecret(config.Config{DataDir: dir})
		if err != nil || string(got) != former {
			t.Fatalf("sealingSecret = %q, %v; want the former secret", got, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, formerSealingSecretFile)); !os.IsNotExist(err) {
		t.Errorf("%s is still there (%v)", formerSealingSecretFile, err)
	}
	if got, err := sealingSecret(config.Config{DataDir: dir, SealingSecret: "from-the-environment-0123456789abcdef"}); err != nil || string(got) != "from-the-environment-0123456789abcdef" {
		t.Errorf("ATRIUM_SEALING_SECRET must win: %q, %v", got, err)
	}
}
