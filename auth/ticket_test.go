package auth

import (
	"testing"
)

func TestTickets(t *testing.T) {
	ticket, hash := NewTicket()
	other, _ := NewTicket()
	if len(ticket) < 43 || ticket == other || hash == ticket || hash != HashSecret(ticket) {
		t.Fatalf("ticket %q, hash %q, another ticket %q", ticket, hash, other)
	}
	if !SecretMatches(ticket, hash) || SecretMatches(other, hash) || SecretMatches(ticket, "") || SecretMatches("", "") {
		t.Error("SecretMatches accepts the wrong secret or an empty hash, or refuses the right one")
	}
}
