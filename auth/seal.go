package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
)

// Sealer encrypts what must rest in the store but carries secrets (the
// private halves of signing keys, a remembered answer holding an
// invitation link): AES-256-GCM with a key derived from Atrium's sealing
// secret and a context, so that neither the store alone nor someone
// without the same context can read it back.
type Sealer struct{ secret []byte }

// NewSealer returns a Sealer whose keys derive from secret (at least 32
// bytes: ATRIUM_SEALING_SECRET, or the generated one of the embedded
// default).
func NewSealer(secret []byte) *Sealer { return &Sealer{secret: secret} }

// Seal encrypts plaintext for context.
func (s *Sealer) Seal(context string, plaintext []byte) ([]byte, error) {
	aead, err := s.aead(context)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return aead.Seal(nonce, nonce, plaintext, nil), nil
}

// ErrUnsealable is Open's answer for data sealed with another key or
// context, or changed since.
var ErrUnsealable = errors.New("auth: sealed data cannot be opened")

// Open decrypts what Seal returned for the same context.
func (s *Sealer) Open(context string, sealed []byte) ([]byte, error) {
	aead, err := s.aead(context)
	if err != nil {
		return nil, err
	}
	if len(sealed) < aead.NonceSize() {
		return nil, ErrUnsealable
	}
	out, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], nil)
	if err != nil {
		return nil, ErrUnsealable
	}
	return out, nil
}

// aead derives the context's AES-256 key: HMAC-SHA256 of the secret over a
// label and the context (the derivation of the first release, so data
// sealed then still opens).
func (s *Sealer) aead(context string) (cipher.AEAD, error) {
	mac := hmac.New(sha256.New, s.secret)
	mac.Write([]byte("atrium seal\x00" + context))
	block, err := aes.NewCipher(mac.Sum(nil))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// MAC is a keyed hash of a short secret that must be checked later but
// never read back (a one-time code, a recovery code): HMAC-SHA256 under a
// key derived from the sealing secret and context, hex encoded. Unlike a plain
// hash, the store alone does not let anyone try the few million six-digit
// codes against it.
func (s *Sealer) MAC(context, secret string) string {
	k := hmac.New(sha256.New, s.secret)
	k.Write([]byte("atrium mac\x00" + context))
	mac := hmac.New(sha256.New, k.Sum(nil))
	mac.Write([]byte(secret))
	return hex.EncodeToString(mac.Sum(nil))
}

// MACMatches reports, in constant time, whether secret is the one whose MAC
// is stored; never for an empty MAC.
func (s *Sealer) MACMatches(context, secret, mac string) bool {
	return mac != "" && hmac.Equal([]byte(s.MAC(context, secret)), []byte(mac))
}
