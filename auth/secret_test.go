package auth_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"atrium/auth"
)

func TestLoadOrCreateSecret(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data", "secrets")
	path := filepath.Join(dir, "admin-secret")

	secret, created, err := auth.LoadOrCreateSecret(path)
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Error("first call: created = false")
	}
	if len(secret) < 32 || strings.TrimSpace(secret) != secret {
		t.Errorf("secret %q: want at least 32 characters without spaces", secret)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("file mode = %o, want 600", perm)
		}
		di, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if perm := di.Mode().Perm(); perm != 0o700 {
			t.Errorf("directory mode = %o, want 700", perm)
		}
	}

	again, created, err := auth.LoadOrCreateSecret(path)
	if err != nil {
		t.Fatal(err)
	}
	if created || again != secret {
		t.Errorf("second call = %q, created %v; want %q, false", again, created, secret)
	}
}

func TestLoadOrCreateSecretKeepsAnExistingFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(path, []byte("  my-own-secret-value\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, created, err := auth.LoadOrCreateSecret(path)
	if err != nil || created || s != "my-own-secret-value" {
		t.Fatalf("got %q, %v, %v; want the trimmed file content, not created", s, created, err)
	}
}

func TestLoadOrCreateSecretRejectsEmptyFile(t *testing.T) {
	t.Parallel()
	for name, content := range map[string]string{"empty": "", "blank": " \n\t\n"} {
		path := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		s, created, err := auth.LoadOrCreateSecret(path)
		if err == nil || s != "" || created {
			t.Errorf("%s file: got %q, %v, %v; want an error", name, s, created, err)
		}
		// The file is left alone, not overwritten with a new secret.
		if b, _ := os.ReadFile(path); string(b) != content {
			t.Errorf("%s file was changed to %q", name, b)
		}
	}
}

func TestNewSecretIsRandom(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 100 {
		s := auth.NewSecret()
		if seen[s] {
			t.Fatalf("NewSecret repeated %q", s)
		}
		seen[s] = true
	}
}

// Callers racing to create the same secret all end up with one secret, and
// no temporary file is left beside it.
func TestLoadOrCreateSecretRace(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "secret")
	const n = 16
	type result struct {
		secret  string
		created bool
		err     error
	}
	results := make(chan result, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			s, c, err := auth.LoadOrCreateSecret(path)
			results <- result{s, c, err}
		})
	}
	wg.Wait()
	close(results)
	var secrets = map[string]bool{}
	created := 0
	for r := range results {
		if r.err != nil {
			t.Fatalf("LoadOrCreateSecret: %v", r.err)
		}
		secrets[r.secret] = true
		if r.created {
			created++
		}
	}
	if len(secrets) != 1 || created != 1 {
		t.Errorf("%d callers got %d distinct secrets and %d said they created it; want 1 and 1", n, len(secrets), created)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the secret file", len(entries))
	}
}
