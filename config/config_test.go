package config_test

import (
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"atrium/config"
)

// env returns a getenv over a fixed map.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	c, err := config.Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := config.Config{
		Addr:          ":8080",
		MongoURI:      "",
		Database:      "atrium",
		DataDir:       "./data",
		AdminSecret:   "",
		CORSOrigins:   nil,
		PublicURL:     "http://localhost:8080",
		Introspection: true,
		LogLevel:      slog.LevelInfo,
		ShutdownGrace: 15 * time.Second,
	}
	if c.Addr != want.Addr || c.MongoURI != want.MongoURI || c.Database != want.Database || c.DataDir != want.DataDir ||
		c.AdminSecret != want.AdminSecret || len(c.CORSOrigins) != 0 || c.PublicURL != want.PublicURL ||
		c.Introspection != want.Introspection || c.LogLevel != want.LogLevel || c.ShutdownGrace != want.ShutdownGrace {
		t.Fatalf("defaults:\n got %+v\nwant %+v", c, want)
	}
	if !c.Embedded() {
		t.Error("no MONGODB_URI must mean the embedded engine")
	}
}

func TestValidValues(t *testing.T) {
	t.Parallel()
	c, err := config.Load(env(map[string]string{
		"ATRIUM_ADDR":             " 127.0.0.1:9090 ",
		"MONGODB_URI":             "mongodb://atrium:pw@db1:27017,db2:27017/?replicaSet=rs0",
		"MONGODB_DATABASE":        "atrium_prod",
		"ATRIUM_DATA_DIR":         "/var/lib/atrium",
		"ATRIUM_ADMIN_SECRET":     "0123456789abcdef", // exactly 16
		"ATRIUM_CORS_ORIGINS":     " https://app.example.com , http://localhost:3000,,",
		"ATRIUM_PUBLIC_URL":       "https://atrium.example.com/",
		"ATRIUM_INTROSPECTION":    "false",
		"ATRIUM_LOG_LEVEL":        "DEBUG",
		"ATRIUM_SHUTDOWN_TIMEOUT": "90s",
		"ATRIUM_SEALING_SECRET":   "0123456789abcdef0123456789abcdef",
		"ATRIUM_KEY_ROTATION":     "168h",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9090" || c.Database != "atrium_prod" || c.DataDir != "/var/lib/atrium" ||
		c.AdminSecret != "0123456789abcdef" || c.Introspection || c.LogLevel != slog.LevelDebug || c.ShutdownGrace != 90*time.Second {
		t.Errorf("unexpected config: %+v", c)
	}
	if c.Embedded() {
		t.Error("MONGODB_URI set must not mean the embedded engine")
	}
	if c.SealingSecret != "0123456789abcdef0123456789abcdef" || c.KeyRotation != 7*24*time.Hour {
		t.Errorf("SealingSecret, KeyRotation = %q, %s", c.SealingSecret, c.KeyRotation)
	}
	if !slices.Equal(c.CORSOrigins, []string{"https://app.example.com", "http://localhost:3000"}) {
		t.Errorf("CORSOrigins = %q", c.CORSOrigins)
	}
	if c.PublicURL != "https://atrium.example.com" {
		t.Errorf("PublicURL = %q, want the trailing slash trimmed", c.PublicURL)
	}
	if _, err := config.Load(env(map[string]string{"MONGODB_URI": "mongodb+srv://u:p@cluster0.example.net/", "ATRIUM_SEALING_SECRET": strings.Repeat("s", 32)})); err != nil {
		t.Errorf("mongodb+srv URI refused: %v", err)
	}
}

// The sealing secret seals the signing keys every instance shares, so
// MONGODB_URI needs one; ATRIUM_JWT_SECRET, its former name, still works.
func TestSealingSecret(t *testing.T) {
	t.Parallel()
	_, err := config.Load(env(map[string]string{"MONGODB_URI": "mongodb://db:27017"}))
	if err == nil || !strings.HasPrefix(err.Error(), "ATRIUM_SEALING_SECRET:") {
		t.Errorf("MONGODB_URI without a sealing secret: %v", err)
	}
	c, err := config.Load(env(map[string]string{"MONGODB_URI": "mongodb://db:27017", "ATRIUM_JWT_SECRET": strings.Repeat("j", 32)}))
	if err != nil || c.SealingSecret != strings.Repeat("j", 32) {
		t.Errorf("ATRIUM_JWT_SECRET as the sealing secret: %q, %v", c.SealingSecret, err)
	}
	c, err = config.Load(env(map[string]string{"ATRIUM_SEALING_SECRET": strings.Repeat("s", 32), "ATRIUM_JWT_SECRET": strings.Repeat("j", 32)}))
	if err != nil || c.SealingSecret != strings.Repeat("s", 32) {
		t.Errorf("ATRIUM_SEALING_SECRET must win over its former name: %q, %v", c.SealingSecret, err)
	}
	if c.KeyRotation != 30*24*time.Hour {
		t.Errorf("default ATRIUM_KEY_ROTATION = %s, want 720h", c.KeyRotation)
	}
}

func TestPublicURLDefaultsFromAddr(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]string{
		":9000":          "http://localhost:9000",
		"0.0.0.0:9000":   "http://localhost:9000",
		"[::]:9000":      "http://localhost:9000",
		"10.1.2.3:9000":  "http://10.1.2.3:9000",
		"example.org:80": "http://example.org:80",
	} {
		c, err := config.Load(env(map[string]string{"ATRIUM_ADDR": addr}))
		if err != nil {
			t.Errorf("%s: %v", addr, err)
			continue
		}
		if c.PublicURL != want {
			t.Errorf("ATRIUM_ADDR=%s: PublicURL = %q, want %q", addr, c.PublicURL, want)
		}
	}
}

func TestInvalidValuesNameTheVariable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, value string }{
		{"ATRIUM_ADDR", "nope"},
		{"ATRIUM_ADDR", "localhost:"},
		{"MONGODB_URI", "http://x"},
		{"MONGODB_URI", "not a uri"},
		{"MONGODB_DATABASE", "a.b"},
		{"MONGODB_DATABASE", "a/b"},
		{"ATRIUM_PUBLIC_URL", "ftp://x"},
		{"ATRIUM_PUBLIC_URL", "/relative"},
		{"ATRIUM_CORS_ORIGINS", "https://a.com/path"},
		{"ATRIUM_CORS_ORIGINS", "https://ok.com,https://a.com?x=1"},
		{"ATRIUM_CORS_ORIGINS", "app.example.com"},
		{"ATRIUM_CORS_ORIGINS", "*"},
		{"ATRIUM_INTROSPECTION", "maybe"},
		{"ATRIUM_LOG_LEVEL", "loud"},
		{"ATRIUM_ADMIN_SECRET", "short-secret"},
		{"ATRIUM_ADMIN_SECRET", "0123456789abcde"}, // 15
		{"ATRIUM_SHUTDOWN_TIMEOUT", "-1s"},
		{"ATRIUM_SHUTDOWN_TIMEOUT", "0"},
		{"ATRIUM_SHUTDOWN_TIMEOUT", "soon"},
		{"ATRIUM_SEALING_SECRET", "too-short"},
		{"ATRIUM_KEY_ROTATION", "59m"},
		{"ATRIUM_KEY_ROTATION", "never"},
		{"ATRIUM_TOKEN_TTL", "800h"}, // longer than a rotation
	} {
		_, err := config.Load(env(map[string]string{tc.name: tc.value}))
		if err == nil {
			t.Errorf("%s=%q accepted", tc.name, tc.value)
			continue
		}
		if !strings.Contains(err.Error(), tc.name) {
			t.Errorf("%s=%q: error %q does not name the variable", tc.name, tc.value, err)
		}
	}
}

func TestAdminSecretNotInError(t *testing.T) {
	t.Parallel()
	_, err := config.Load(env(map[string]string{"ATRIUM_ADMIN_SECRET": "hunter2-short"}))
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error = %v; want an error that does not repeat the secret", err)
	}
}

func TestMongoURIPasswordNotInError(t *testing.T) {
	t.Parallel()
	const pw = "S3cretPassw0rd"
	for _, uri := range []string{
		"http://atrium:" + pw + "@db.example.com/",       // wrong scheme
		"mongodb://atrium:" + pw + "@",                   // no host
		"mongodb://atrium:" + pw + "@db:notaport/",       // does not parse
		"mongodb://atrium:" + pw + "@db1:27017,db2:abc/", // does not parse
		"atrium:" + pw + "@db.example.com",               // no scheme
		"mongodb://atrium:" + pw + "%zz@db.example.com/", // bad escape
	} {
		_, err := config.Load(env(map[string]string{"MONGODB_URI": uri}))
		if err == nil {
			t.Errorf("%q accepted", uri)
			continue
		}
		if strings.Contains(err.Error(), pw) {
			t.Errorf("error for %q leaks the password: %v", uri, err)
		}
		if !strings.Contains(err.Error(), "MONGODB_URI") {
			t.Errorf("error for %q does not name MONGODB_URI: %v", uri, err)
		}
	}
	// The same for the public URL.
	_, err := config.Load(env(map[string]string{"ATRIUM_PUBLIC_URL": "ftp://u:" + pw + "@x"}))
	if err == nil || strings.Contains(err.Error(), pw) {
		t.Errorf("ATRIUM_PUBLIC_URL error = %v; want one without the password", err)
	}
}

// A browser sends its Origin as scheme://host[:port] in lower case, and the
// handler compares origins exactly: an accepted origin must be kept in that
// form, or it is accepted at start-up and then silently never matches.
func TestCORSOriginsAreUsableAsConfigured(t *testing.T) {
	t.Parallel()
	for origin, want := range map[string]string{
		"https://app.example.com":       "https://app.example.com",
		"http://localhost:3000":         "http://localhost:3000",
		"https://app.example.com/":      "https://app.example.com",
		"HTTPS://App.Example.com":       "https://app.example.com",
		"https://app.example.com:443":   "https://app.example.com",
		"http://app.example.com:80":     "http://app.example.com",
		"https://app.example.com:8443/": "https://app.example.com:8443",
	} {
		c, err := config.Load(env(map[string]string{"ATRIUM_CORS_ORIGINS": origin}))
		if err != nil {
			t.Errorf("ATRIUM_CORS_ORIGINS=%q refused: %v", origin, err)
			continue
		}
		if len(c.CORSOrigins) != 1 || c.CORSOrigins[0] != want {
			t.Errorf("ATRIUM_CORS_ORIGINS=%q is kept as %q, want [%q]", origin, c.CORSOrigins, want)
		}
	}
	// What is not an origin is refused, naming the variable.
	for _, origin := range []string{"app.example.com", "https://app.example.com/path", "ftp://app.example.com", "https://u:p@app.example.com", "https://app.example.com?x=1"} {
		if _, err := config.Load(env(map[string]string{"ATRIUM_CORS_ORIGINS": origin})); err == nil || !strings.Contains(err.Error(), "ATRIUM_CORS_ORIGINS") {
			t.Errorf("ATRIUM_CORS_ORIGINS=%q: err = %v, want a refusal naming the variable", origin, err)
		}
	}
}

// No proxy is trusted by default; addresses and prefixes are accepted,
// anything else names the variable.
func TestTrustedProxies(t *testing.T) {
	t.Parallel()
	c, err := config.Load(env(nil))
	if err != nil || len(c.TrustedProxies) != 0 {
		t.Fatalf("default: %v, %v", c.TrustedProxies, err)
	}
	c, err = config.Load(env(map[string]string{"ATRIUM_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.1,::1"}))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range c.TrustedProxies {
		got = append(got, p.String())
	}
	if want := []string{"10.0.0.0/8", "192.0.2.1/32", "::1/128"}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if _, err := config.Load(env(map[string]string{"ATRIUM_TRUSTED_PROXIES": "proxy.internal"})); err == nil || !strings.Contains(err.Error(), "ATRIUM_TRUSTED_PROXIES") {
		t.Fatalf("a host name: %v", err)
	}
}
