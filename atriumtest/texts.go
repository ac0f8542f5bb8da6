package atriumtest

// Reading a test server's text messages (its dev sender's outbox) in the
// order they went out, number by number.

import (
	"context"
	"sync"
	"testing"
	"time"
)

// Texts reads the text messages of a server, each number's in order.
type Texts struct {
	s    *Server
	mu   sync.Mutex
	read map[string]int
}

// Texts returns a reader of the server's text messages that has read none.
func (s *Server) Texts() *Texts { return &Texts{s: s, read: map[string]int{}} }

// Next waits (10 seconds at most) for the next message to a number and
// returns its body.
func (x *Texts) Next(t testing.TB, phone string) string {
	t.Helper()
	x.mu.Lock()
	x.read[phone]++
	n := x.read[phone]
	x.mu.Unlock()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	m, err := x.s.SMS.Await(ctx, phone, n)
	Must(t, err)
	return m.Body
}

// Read is how many messages to a number Next has returned.
func (x *Texts) Read(phone string) int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.read[phone]
}
