// Package config reads Atrium's settings from the environment. Every setting
// has a default that works on a laptop; an invalid value stops start-up with a
// message naming the variable.
package config

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"atrium/iam"
)

// Config is Atrium's configuration.
type Config struct {
	Addr          string        // ATRIUM_ADDR: listen address
	MongoURI      string        // MONGODB_URI: empty means the embedded engine
	Database      string        // MONGODB_DATABASE
	DataDir       string        // ATRIUM_DATA_DIR: embedded engine data and generated secrets
	AdminSecret   string        // ATRIUM_ADMIN_SECRET: the operator credential
	CORSOrigins   []string      // ATRIUM_CORS_ORIGINS: comma-separated origins
	PublicURL     string        // ATRIUM_PUBLIC_URL: base of the links Atrium hands out
	Introspection bool          // ATRIUM_INTROSPECTION
	LogLevel      slog.Level    // ATRIUM_LOG_LEVEL: debug, info, warn, error
	ShutdownGrace time.Duration // ATRIUM_SHUTDOWN_TIMEOUT: how long in-flight requests may finish
	// SealingSecret (ATRIUM_SEALING_SECRET, formerly ATRIUM_JWT_SECRET)
	// seals what rests in the store but is secret: the private halves of
	// the signing keys, remembered answers. Required with MONGODB_URI.
	SealingSecret string
	TokenTTL      time.Duration // ATRIUM_TOKEN_TTL: lifetime of access tokens
	KeyRotation   time.Duration // ATRIUM_KEY_ROTATION: how long a signing key signs before the next takes over
	InviteTTL     time.Duration // ATRIUM_INVITE_TTL: lifetime of invitation links
	SMTPURL       string        // ATRIUM_SMTP_URL: smtp://user:pass@host:587; empty turns mail off
	MailFrom      string        // ATRIUM_MAIL_FROM: sender of Atrium's emails
	// TrustedProxies (ATRIUM_TRUSTED_PROXIES: comma-separated addresses or
	// CIDR prefixes) are the peers whose X-Forwarded-For Atrium believes;
	// none by default.
	TrustedProxies []netip.Prefix
	// TrustedDocuments (ATRIUM_TRUSTED_DOCUMENTS) is the file of the only
	// GraphQL documents Atrium runs, an Apollo persisted query manifest
	// (package persisted); "" runs any document.
	TrustedDocuments string
	// SMS: the sender of text messages (sign-in codes, invitations by
	// phone) and its settings, package sms.
	SMSSender        string        // ATRIUM_SMS_SENDER: dev, webhook, twilio or off
	SMSWebhookURL    string        // ATRIUM_SMS_WEBHOOK_URL: where the webhook sender posts
	SMSWebhookSecret string        // ATRIUM_SMS_WEBHOOK_SECRET: key of its HMAC signature
	SMSTwilioURL     string        // ATRIUM_SMS_TWILIO_URL: base of a Twilio-compatible API
	SMSTwilioSID     string        // ATRIUM_SMS_TWILIO_ACCOUNT_SID
	SMSTwilioToken   string        // ATRIUM_SMS_TWILIO_AUTH_TOKEN
	SMSFrom          string        // ATRIUM_SMS_FROM: the sending number (Twilio)
	SMSTimeout       time.Duration // ATRIUM_SMS_TIMEOUT: how long one delivery may take
}

// Embedded reports whether Atrium runs on its embedded engine.
func (c Config) Embedded() bool { return c.MongoURI == "" }

// Load reads the configuration through getenv (os.Getenv in production).
func Load(getenv func(string) string) (Config, error) {
	r := reader{getenv: getenv}
	c := Config{
		Addr:          r.str("ATRIUM_ADDR", ":8080"),
		MongoURI:      r.str("MONGODB_URI", ""),
		Database:      r.str("MONGODB_DATABASE", "atrium"),
		DataDir:       r.str("ATRIUM_DATA_DIR", "./data"),
		AdminSecret:   r.str("ATRIUM_ADMIN_SECRET", ""),
		CORSOrigins:   r.list("ATRIUM_CORS_ORIGINS"),
		Introspection: r.boolean("ATRIUM_INTROSPECTION", true),
		LogLevel:      r.level("ATRIUM_LOG_LEVEL", slog.LevelInfo),
		ShutdownGrace: r.duration("ATRIUM_SHUTDOWN_TIMEOUT", 15*time.Second),
		SealingSecret: r.str("ATRIUM_SEALING_SECRET", r.str("ATRIUM_JWT_SECRET", "")),
		TokenTTL:      r.duration("ATRIUM_TOKEN_TTL", time.Hour),
		KeyRotation:   r.duration("ATRIUM_KEY_ROTATION", 30*24*time.Hour),
		InviteTTL:     r.duration("ATRIUM_INVITE_TTL", 7*24*time.Hour),
		SMTPURL:       r.str("ATRIUM_SMTP_URL", ""),
		MailFrom:      r.str("ATRIUM_MAIL_FROM", ""),

		TrustedDocuments: r.str("ATRIUM_TRUSTED_DOCUMENTS", ""),
	}
	r.check("ATRIUM_ADDR", validAddr(c.Addr))
	if c.MongoURI != "" {
		r.check("MONGODB_URI", validURL(c.MongoURI, "mongodb", "mongodb+srv"))
	}
	switch {
	case c.SealingSecret != "" && len(c.SealingSecret) < 32:
		r.fail("ATRIUM_SEALING_SECRET", fmt.Errorf("must be at least 32 characters"))
	case c.SealingSecret == "" && c.MongoURI != "":
		r.fail("ATRIUM_SEALING_SECRET", fmt.Errorf("is required with MONGODB_URI: it seals the token signing keys that every instance shares in the database (at least 32 characters; keep it, or the keys cannot be opened)"))
	}
	if c.KeyRotation < time.Hour {
		r.fail("ATRIUM_KEY_ROTATION", fmt.Errorf("must be at least 1h (the next key is published a tenth of it, at most a day, before it signs)"))
	}
	if c.TokenTTL > c.KeyRotation {
		r.fail("ATRIUM_TOKEN_TTL", fmt.Errorf("must not be longer than ATRIUM_KEY_ROTATION (%s)", c.KeyRotation))
	}
	if strings.ContainsAny(c.Database, "/\\. \"$") || c.Database == "" {
		r.fail("MONGODB_DATABASE", fmt.Errorf("%q is not a valid database name", c.Database))
	}
	if c.AdminSecret != "" && len(c.AdminSecret) < 16 {
		r.fail("ATRIUM_ADMIN_SECRET", fmt.Errorf("must be at least 16 characters"))
	}
	for i, o := range c.CORSOrigins {
		var err error
		c.CORSOrigins[i], err = iam.NormalOrigin(o)
		r.check("ATRIUM_CORS_ORIGINS", err)
	}
	for _, p := range r.list("ATRIUM_TRUSTED_PROXIES") {
		prefix, err := netip.ParsePrefix(p)
		if addr, aerr := netip.ParseAddr(p); aerr == nil {
			prefix, err = addr.Unmap().Prefix(addr.Unmap().BitLen())
		}
		r.check("ATRIUM_TRUSTED_PROXIES", err)
		c.TrustedProxies = append(c.TrustedProxies, prefix.Masked())
	}
	c.PublicURL = strings.TrimRight(r.str("ATRIUM_PUBLIC_URL", defaultPublicURL(c.Addr)), "/")
	r.check("ATRIUM_PUBLIC_URL", validURL(c.PublicURL, "http", "https"))
	r.sms(&c)
	return c, r.err
}

// e164Number is a phone number in E.164 form.
var e164Number = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// sms reads the SMS sender's settings: dev by default on the embedded
// engine, off with MONGODB_URI; the chosen sender's settings are required.
func (r *reader) sms(c *Config) {
	def := "off"
	if c.Embedded() {
		def = "dev"
	}
	c.SMSSender = r.str("ATRIUM_SMS_SENDER", def)
	c.SMSWebhookURL = r.str("ATRIUM_SMS_WEBHOOK_URL", "")
	c.SMSWebhookSecret = r.str("ATRIUM_SMS_WEBHOOK_SECRET", "")
	c.SMSTwilioURL = r.str("ATRIUM_SMS_TWILIO_URL", "https://api.twilio.com")
	c.SMSTwilioSID = r.str("ATRIUM_SMS_TWILIO_ACCOUNT_SID", "")
	c.SMSTwilioToken = r.str("ATRIUM_SMS_TWILIO_AUTH_TOKEN", "")
	c.SMSFrom = r.str("ATRIUM_SMS_FROM", "")
	c.SMSTimeout = r.duration("ATRIUM_SMS_TIMEOUT", 10*time.Second)
	switch c.SMSSender {
	case "dev", "off":
	case "webhook":
		if c.SMSWebhookURL == "" {
			r.fail("ATRIUM_SMS_WEBHOOK_URL", fmt.Errorf("is required with ATRIUM_SMS_SENDER=webhook"))
		} else {
			r.check("ATRIUM_SMS_WEBHOOK_URL", validURL(c.SMSWebhookURL, "http", "https"))
		}
		if len(c.SMSWebhookSecret) < 16 {
			r.fail("ATRIUM_SMS_WEBHOOK_SECRET", fmt.Errorf("is required with ATRIUM_SMS_SENDER=webhook, at least 16 characters"))
		}
	case "twilio":
		r.check("ATRIUM_SMS_TWILIO_URL", validURL(c.SMSTwilioURL, "http", "https"))
		for name, v := range map[string]string{"ATRIUM_SMS_TWILIO_ACCOUNT_SID": c.SMSTwilioSID, "ATRIUM_SMS_TWILIO_AUTH_TOKEN": c.SMSTwilioToken} {
			if v == "" {
				r.fail(name, fmt.Errorf("is required with ATRIUM_SMS_SENDER=twilio"))
			}
		}
		if !e164Number.MatchString(c.SMSFrom) {
			r.fail("ATRIUM_SMS_FROM", fmt.Errorf("%q is not a phone number in E.164 form, such as +15555550123 (required with ATRIUM_SMS_SENDER=twilio)", c.SMSFrom))
		}
	default:
		r.fail("ATRIUM_SMS_SENDER", fmt.Errorf("%q is not one of dev, webhook, twilio, off", c.SMSSender))
	}
}

// reader collects the first error, naming the variable.
type reader struct {
	getenv func(string) string
	err    error
}

func (r *reader) fail(name string, err error) {
	if r.err == nil {
		r.err = fmt.Errorf("%s: %w", name, err)
	}
}

func (r *reader) check(name string, err error) {
	if err != nil {
		r.fail(name, err)
	}
}

func (r *reader) str(name, def string) string {
	if v := strings.TrimSpace(r.getenv(name)); v != "" {
		return v
	}
	return def
}

func (r *reader) list(name string) []string {
	var out []string
	for _, p := range strings.Split(r.getenv(name), ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (r *reader) boolean(name string, def bool) bool {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(name, fmt.Errorf("%q is not true or false", v))
	}
	return b
}

func (r *reader) duration(name string, def time.Duration) time.Duration {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		r.fail(name, fmt.Errorf("%q is not a positive duration such as 30s or 168h", v))
	}
	return d
}

func (r *reader) level(name string, def slog.Level) slog.Level {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(v)); err != nil {
		r.fail(name, fmt.Errorf("%q is not one of debug, info, warn, error", v))
	}
	return l
}

func validAddr(addr string) error {
	if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
		return fmt.Errorf("%q is not host:port (for example :8080)", addr)
	}
	return nil
}

func validURL(s string, schemes ...string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", redactURL(s))
	}
	for _, sc := range schemes {
		if u.Scheme == sc {
			return nil
		}
	}
	return fmt.Errorf("%q: scheme must be one of %s", redactURL(s), strings.Join(schemes, ", "))
}

// redactURL keeps passwords out of error messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		if strings.Contains(s, "@") {
			return "(a URL with credentials)"
		}
		return s
	}
	u.User = url.User(u.User.Username())
	return u.String()
}

func defaultPublicURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://localhost:8080"
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
