package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
)

// NewTicket returns a single-use ticket (invitation, password reset): 32
// random bytes, URL safe, and the hash that is stored in its place.
func NewTicket() (ticket, hash string) {
	ticket = NewSecret()
	return ticket, HashSecret(ticket)
}

// HashSecret is the stored form of a random secret (a ticket, a machine
// client's secret). They are 32 random bytes, so a fast hash is enough to
// keep them from being read back out of the store: there is no dictionary to
// guess from.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// SecretMatches reports, in constant time, whether secret is the one whose
// hash is stored; never for an empty hash.
func SecretMatches(secret, hash string) bool {
	return hash != "" && subtle.ConstantTimeCompare([]byte(HashSecret(secret)), []byte(hash)) == 1
}
