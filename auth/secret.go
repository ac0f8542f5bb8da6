package auth

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// NewSecret returns 32 random bytes, base64url encoded.
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// LoadOrCreateSecret reads a secret kept in a file, creating the file (mode
// 0600, in a 0700 directory) with a new random secret when it does not exist.
// created tells the caller whether this run made it.
//
// The file appears whole or not at all: the secret is written and synced to
// a temporary file that is then linked into place, so a crash can never leave
// an empty secret file behind, and when two callers race the loser reads the
// winner's secret.
func LoadOrCreateSecret(path string) (secret string, created bool, err error) {
	secret, err = readSecret(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return secret, false, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", false, err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return "", false, err
	}
	defer os.Remove(tmp.Name())
	secret = NewSecret()
	_, err = tmp.WriteString(secret + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", false, err
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		s, err := readSecret(path)
		return s, false, err
	} else if err != nil {
		return "", false, err
	}
	return secret, true, syncDir(dir)
}

// readSecret returns the trimmed content of a secret file; an empty one is
// an error, never replaced, since someone put it there.
func readSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	if s := strings.TrimSpace(string(b)); s != "" {
		return s, nil
	}
	return "", fmt.Errorf("secret file %s is empty", path)
}

// syncDir makes a new directory entry durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
