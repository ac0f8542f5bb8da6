package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"

	"atrium/iam"
)

// Argon2id parameters, OWASP's recommended minimum (19 MiB, 2 passes, 1 lane).
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
)

// Each argon2id run takes argonMemory (19 MiB) and a core for tens of
// milliseconds, so at most hashSlots of them run at once in the process
// (twice the cores: enough to keep them busy); a caller that finds no slot
// within hashWait is answered UNAVAILABLE with a Retry-After instead of
// queueing, so a storm of sign-ins can neither exhaust memory nor starve
// every other request of CPU.
var (
	hashSlots = make(chan struct{}, 2*runtime.GOMAXPROCS(0))
	hashWait  = 2 * time.Second
)

// ErrHashingBusy is the answer when every hashing slot stayed taken for
// hashWait: the server is overloaded, not the caller over its limit.
var ErrHashingBusy = &iam.Error{Code: iam.Unavailable, Message: "too many sign-ins are being checked right now; try again in a second", RetryAfter: time.Second}

// hashing runs f in a hashing slot.
func hashing(ctx context.Context, f func()) error {
	wait := time.NewTimer(hashWait)
	defer wait.Stop()
	select {
	case hashSlots <- struct{}{}:
	case <-wait.C:
		return ErrHashingBusy
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-hashSlots }()
	f()
	return nil
}

// HashPassword returns the password's argon2id hash in the PHC string format,
// which records the parameters so they can change later.
func HashPassword(ctx context.Context, password string) (string, error) {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	var key []byte
	if err := hashing(ctx, func() { key = argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen) }); err != nil {
		return "", err
	}
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches an encoded hash. It spends
// the same work on a malformed or empty hash as on a real one, so callers can
// use it to keep "no such user" as slow as "wrong password".
func CheckPassword(ctx context.Context, password, encoded string) (bool, error) {
	salt, key, t, m, p, ok := parseHash(encoded)
	if !ok {
		salt, key, t, m, p = dummySalt, dummyKey, argonTime, argonMemory, argonThreads
	}
	var got []byte
	if err := hashing(ctx, func() { got = argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(key))) }); err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, key) == 1 && ok, nil
}

var dummySalt, dummyKey = make([]byte, 16), make([]byte, argonKeyLen)

func parseHash(encoded string) (salt, key []byte, t, m uint32, p uint8, ok bool) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return nil, nil, 0, 0, 0, false
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return nil, nil, 0, 0, 0, false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || m > 1<<20 || t == 0 || t > 10 || p == 0 {
		return nil, nil, 0, 0, 0, false
	}
	var err1, err2 error
	salt, err1 = base64.RawStdEncoding.DecodeString(parts[4])
	key, err2 = base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(key) == 0 {
		return nil, nil, 0, 0, 0, false
	}
	return salt, key, t, m, p, true
}
