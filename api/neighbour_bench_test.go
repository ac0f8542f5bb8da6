package api_test

// BenchmarkNeighbour: what project A's requests cost when another project,
// B, holds 0 or 5,000 users. bench/README.md records the numbers and the
// ratio B=5000 / B=0 of each operation.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"atrium/atriumtest"
	"atrium/client"
	"atrium/iam"
	"atrium/service"
)

// neighbourUsers are the sizes of B the benchmark compares; project A holds
// neighbourOwn users.
var neighbourUsers = []int{0, 5000}

const neighbourOwn = 100

// neighbourRounds is how often each operation is measured at each size. The
// sizes live side by side in one process (one engine, a database each) and
// their measurements alternate, so that load from elsewhere on the machine
// and the process's own state weigh on both alike.
const neighbourRounds = 5

func BenchmarkNeighbour(b *testing.B) {
	ops := map[int][]neighbourOp{}
	for _, n := range neighbourUsers {
		s := atriumtest.NewServer(b)
		start := time.Now()
		seedNeighbour(b, s, n)
		b.Logf("seeding %d users of B took %s", n, time.Since(start).Round(time.Millisecond))
		ops[n] = neighbourOps(b, neighbourProject(b, s, neighbourOwn, nil))
	}
	for round := range neighbourRounds {
		order := slices.Clone(neighbourUsers)
		if round%2 == 1 { // which size goes first alternates too
			slices.Reverse(order)
		}
		for i := range ops[neighbourUsers[0]] {
			for _, n := range order {
				b.Run(ops[n][i].name+"/B="+strconv.Itoa(n), ops[n][i].run)
			}
		}
	}
}

// neighbourOp is one measured operation of project A.
type neighbourOp struct {
	name string
	run  func(b *testing.B)
}

// neighbourEnv is project A, seen from the benchmark.
type neighbourEnv struct {
	s                       *atriumtest.Server
	op                      *atriumtest.Client
	project, app            string
	userID, email, phone    string
	ticket, clientID, role  string
	signedInEmail, password string
}

// neighbourOps are the measured operations of project A.
func neighbourOps(b *testing.B, e neighbourEnv) []neighbourOp {
	ctx := context.Background()
	s := e.s
	var ops []neighbourOp
	ops = append(ops, neighbourOp{"page", func(b *testing.B) {
		for b.Loop() {
			var out struct {
				Users struct {
					Edges []struct{ Node struct{ ID string } }
				}
			}
			e.op.MustDo(b, `{ users(first: 25) { edges { node { id email } } } }`, nil, &out)
			if len(out.Users.Edges) != 25 {
				b.Fatalf("a page of %d users", len(out.Users.Edges))
			}
		}
	}})
	ops = append(ops, neighbourOp{"user_by_id", func(b *testing.B) {
		for b.Loop() {
			e.op.MustDo(b, `query($id: ID!) { user(id: $id) { id } }`, map[string]any{"id": e.userID}, nil)
		}
	}})
	ops = append(ops, neighbourOp{"user_by_email", func(b *testing.B) {
		for b.Loop() {
			var out struct {
				Users struct {
					Edges []struct{ Node struct{ ID string } }
				}
			}
			e.op.MustDo(b, `query($e: String!) { users(filter: {email: $e}) { edges { node { id } } } }`, map[string]any{"e": e.email}, &out)
			if len(out.Users.Edges) != 1 || out.Users.Edges[0].Node.ID != e.userID {
				b.Fatalf("found %+v", out)
			}
		}
	}})
	ops = append(ops, neighbourOp{"user_by_phone", func(b *testing.B) {
		t := s.DB.Tenant(e.project)
		for b.Loop() {
			if u, err := t.UserByPhone(ctx, e.phone); err != nil || u.ID != e.userID {
				b.Fatal(u, err)
			}
		}
	}})
	ops = append(ops, neighbourOp{"invitation_ticket", func(b *testing.B) {
		for b.Loop() {
			if inv, err := s.Service.OpenInvitation(ctx, e.ticket); err != nil || inv.User == nil || inv.User.ID != e.userID {
				b.Fatal(inv, err)
			}
		}
	}})
	ops = append(ops, neighbourOp{"m2m_client_id", func(b *testing.B) {
		for b.Loop() {
			if c, err := s.DB.M2MClientByClientID(ctx, e.clientID); err != nil || c.ProjectID != e.project {
				b.Fatal(c, err)
			}
		}
	}})
	ops = append(ops, neighbourOp{"sign_in", func(b *testing.B) {
		for b.Loop() {
			s.SignIn(b, e.app, e.signedInEmail, e.password)
		}
	}})
	ops = append(ops, neighbourOp{"sign_in_unknown_email", func(b *testing.B) {
		for b.Loop() {
			// A fresh email each time: failures per email are throttled.
			r := signInResponse(b, s, e.app, "nobody-"+uuid.NewString()+"@a.example.com", e.password)
			if r.Code() != "UNAUTHENTICATED" {
				b.Fatalf("signIn of an unknown email: %s", r.Code())
			}
		}
	}})
	ops = append(ops, neighbourOp{"invite", func(b *testing.B) {
		for b.Loop() {
			// Only the new user's id: a role's memberCount, say, would count
			// the project's users as well.
			email := "new-" + uuid.NewString() + "@a.example.com"
			e.op.MustDo(b, `mutation($in: InviteUserInput!) { inviteUser(input: $in) { user { id } } }`, map[string]any{"in": map[string]any{
				"email": email, "applicationId": e.app, "roles": []string{e.role}, "resource": map[string]any{"resourceType": "Practitioner"}}}, nil)
		}
	}})
	return ops
}

// neighbourProject makes project A through the API: an application, a
// role, own users invited in inviteUsers batches of 100 (each with an email
// and a phone number), one of them signed up with a password, and a machine
// client. batch, when not nil, gets the time each batch took.
func neighbourProject(b *testing.B, s *atriumtest.Server, own int, batch func(time.Duration)) neighbourEnv {
	e := neighbourEnv{s: s, project: s.CreateProject(b, "A"), password: testPassword}
	e.op = s.Operator(e.project)
	e.app = createApplication(b, e.op, "A app")
	role := atriumtest.CreateRole(b, e.op, "Staff", atriumtest.Allow("*", "*"))
	e.role = role
	type result struct {
		User          *struct{ ID string }
		InvitationURL string
		Error         *struct{ Code, Message string }
	}
	var rows []map[string]any
	var results []result
	for start := 0; start < own; start += service.MaxInviteBatch {
		var chunk []map[string]any
		for i := start; i < min(own, start+service.MaxInviteBatch); i++ {
			chunk = append(chunk, map[string]any{"email": fmt.Sprintf("a%d@a.example.com", i), "phoneNumber": fmt.Sprintf("+155510%05d", i),
				"applicationId": e.app, "roles": []string{role}, "resource": map[string]any{"resourceType": "Practitioner"}})
		}
		var out struct{ InviteUsers struct{ Results []result } }
		began := time.Now()
		e.op.MustDo(b, `mutation($in: [InviteUserInput!]!) { inviteUsers(input: $in) { results { user { id } invitationUrl error { code message } } } }`,
			map[string]any{"in": chunk}, &out)
		if batch != nil {
			batch(time.Since(began))
		}
		rows, results = append(rows, chunk...), append(results, out.InviteUsers.Results...)
	}
	for i, r := range results {
		if r.Error != nil || r.User == nil {
			b.Fatalf("row %d: %+v", i, r.Error)
		}
	}
	mid := results[own/2]
	e.userID, e.email, e.phone = mid.User.ID, rows[own/2]["email"].(string), rows[own/2]["phoneNumber"].(string)
	e.ticket = atriumtest.Ticket(b, mid.InvitationURL)
	e.signedInEmail = rows[0]["email"].(string)
	s.Accept(b, atriumtest.Ticket(b, results[0].InvitationURL), e.password)

	var m struct {
		CreateM2MClient struct{ M2mClient struct{ ClientID string } }
	}
	e.op.MustDo(b, `mutation($r: ID!) { createM2MClient(input: {name: "A machine", roles: [$r]}) { m2mClient { clientId } } }`, map[string]any{"r": role}, &m)
	e.clientID = m.CreateM2MClient.M2mClient.ClientID
	return e
}

// seedNeighbour makes project B with n users: one invited through the API,
// and n-1 copies of the documents that invitation wrote (its profile and its
// user, with fresh ids, email, phone number and ticket), written through the
// store's own insert functions in the API's order.
func seedNeighbour(b *testing.B, s *atriumtest.Server, n int) {
	if n == 0 {
		return
	}
	ctx := context.Background()
	project := s.CreateProject(b, "B")
	op := s.Operator(project)
	app := createApplication(b, op, "B app")
	role := atriumtest.CreateRole(b, op, "Staff", atriumtest.Allow("*", "*"))
	email, phone := "b0@b.example.com", "+15552000000"
	id := atriumtest.Invite(b, op, client.InviteUserInput{Email: &email, PhoneNumber: &phone, ApplicationId: app, Roles: []string{role}}).UserID
	t := s.DB.Tenant(project)
	user, err := t.Users().Get(ctx, id)
	if err != nil {
		b.Fatal(err)
	}
	_, profileID, _ := strings.Cut(user.Profile, "/")
	profile, err := t.Profiles().Get(ctx, profileID)
	if err != nil {
		b.Fatal(err)
	}
	for i := 1; i < n; i++ {
		p := *profile
		p.ID = uuid.NewString()
		if err := t.Profiles().Insert(ctx, &p); err != nil {
			b.Fatal(err)
		}
		u := *user
		u.ID, u.Profile = uuid.NewString(), p.Reference()
		u.Email, u.PhoneNumber = fmt.Sprintf("b%d@b.example.com", i), fmt.Sprintf("+1555200%04d", i)
		u.Name = u.Email
		hash := make([]byte, 32)
		_, _ = rand.Read(hash)
		u.Invitation = &iam.Ticket{Hash: hex.EncodeToString(hash), ExpiresAt: user.Invitation.ExpiresAt}
		if err := t.Users().Insert(ctx, &u); err != nil {
			b.Fatal(err)
		}
	}
}
