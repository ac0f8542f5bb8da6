// Command atrium serves the Atrium GraphQL API: the Project service and the
// User service of a healthcare platform. Configuration comes from the
// environment (see README.md); with no MONGODB_URI it runs on an embedded
// engine and needs nothing else.
package main

//go:generate go tool gqlgen generate
//go:generate go tool genqlient client/genqlient.yaml

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"atrium/api"
	"atrium/auth"
	"atrium/config"
	"atrium/federation"
	"atrium/iam"
	"atrium/mail"
	"atrium/persisted"
	"atrium/requestid"
	"atrium/service"
	"atrium/sms"
	"atrium/store"
	"atrium/telemetry"
)

func main() {
	var err error
	switch {
	case len(os.Args) > 1 && os.Args[1] == "backup":
		err = backup(os.Args[2:])
	case len(os.Args) > 1 && os.Args[1] == "copy-to-mongodb":
		err = copyToMongoDB(os.Args[2:])
	case len(os.Args) > 1:
		err = fmt.Errorf("unknown command %q; usage: atrium (serve, configured by the environment), atrium backup <new dir> or atrium copy-to-mongodb", os.Args[1])
	default:
		err = run()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "atrium:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return err
	}
	log := slog.New(requestid.LogHandler(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel})))
	// The OpenID provider's library (zitadel/oidc) logs through slog's
	// default: make its lines Atrium's (JSON, with the request id).
	slog.SetDefault(log)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// The port first: a port in use or a bad address is reported before
	// anything is created, opened or seeded.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("ATRIUM_ADDR: %w", err)
	}
	defer ln.Close()

	// The embedded engine logs only when Atrium itself is at debug level.
	engineLog := slog.New(slog.DiscardHandler)
	if cfg.LogLevel <= slog.LevelDebug {
		engineLog = log.With("component", "ferretdb")
	}
	// Tracing is off unless the OTEL_* variables name an exporter.
	tracer, stopTracing, err := telemetry.Setup(ctx, os.Getenv)
	if err != nil {
		return err
	}
	defer func() { // after the store closes: flush what is left
		flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := stopTracing(flushCtx); err != nil {
			log.Warn("flushing traces", "error", err.Error())
		}
	}()
	stopNotice := stillConnecting(cfg, log)
	db, err := store.Open(ctx, store.Options{URI: cfg.MongoURI, Database: cfg.Database, DataDir: cfg.DataDir, EngineLogger: engineLog,
		Monitor: telemetry.CommandMonitor(tracer)})
	stopNotice()
	if err != nil {
		return err
	}
	defer db.Close(context.Background())

	adminSecret, generated, err := operatorSecret(cfg)
	if err != nil {
		return err
	}
	sealing, err := sealingSecret(cfg)
	if err != nil {
		return err
	}
	mailCfg, err := mail.ParseConfig(cfg.SMTPURL, cfg.MailFrom)
	if err != nil {
		return fmt.Errorf("ATRIUM_SMTP_URL / ATRIUM_MAIL_FROM: %w", err)
	}
	var trusted *persisted.Manifest
	if cfg.TrustedDocuments != "" {
		if trusted, err = persisted.Read(cfg.TrustedDocuments); err != nil {
			return fmt.Errorf("ATRIUM_TRUSTED_DOCUMENTS: %w", err)
		}
		log.Info("trusted documents only", "file", cfg.TrustedDocuments, "operations", len(trusted.Operations))
	}
	outbox := mail.NewOutbox(mailCfg, log)
	defer outbox.Close(context.Background())
	texts, err := smsOutbox(cfg, log)
	if err != nil {
		return err
	}
	if texts != nil {
		defer texts.Close(context.Background())
	}
	sealer := auth.NewSealer(sealing)
	keys := auth.NewKeys(db.SigningKeys(), sealer, auth.KeyOptions{Rotation: cfg.KeyRotation, MaxTokenLifetime: max(cfg.TokenTTL, service.OpenIDTokenTTL)})
	tokens := auth.NewTokens(keys, auth.TokenOptions{BaseURL: cfg.PublicURL, Lifetime: cfg.TokenTTL})
	opts := service.Options{Tokens: tokens, Sealer: sealer, Mailer: outbox, PublicURL: cfg.PublicURL, InviteTTL: cfg.InviteTTL,
		Federation: federation.New(federation.Options{})}
	if texts != nil {
		opts.SMS = texts
	}
	svc := service.New(db, log, opts)
	defer func() { // after the server: the audit events still queued are written
		drainCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		svc.Close(drainCtx)
	}()
	first, created, err := svc.Bootstrap(ctx)
	if err != nil {
		return fmt.Errorf("creating the Sandbox project: %w", err)
	}

	var running atomic.Int64 // requests being served, to count those cut at shutdown
	handler := api.New(api.Options{
		Service:          svc,
		Authenticator:    auth.NewAuthenticator(adminSecret, tokens).TrustProxies(cfg.TrustedProxies),
		Log:              log,
		Introspection:    cfg.Introspection,
		CORSOrigins:      cfg.CORSOrigins,
		Ready:            db.Ping,
		TracerProvider:   tracer,
		Keys:             keys,
		PublicURL:        cfg.PublicURL,
		TrustedDocuments: trusted,
	})
	srv := &http.Server{
		Addr: cfg.Addr,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			running.Add(1)
			defer running.Add(-1)
			handler.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	welcome(cfg, generated, first, created)
	log.Info("listening", "addr", ln.Addr().String(), "store", storeName(db), "introspection", cfg.Introspection, "tracing", tracer != nil)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", cfg.ShutdownGrace.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		cut := running.Load()
		_ = srv.Close()
		log.Error("shutdown grace ended: cut the requests still running", "cut", cut, "grace", cfg.ShutdownGrace.String())
		return fmt.Errorf("shutdown: %d requests still running after ATRIUM_SHUTDOWN_TIMEOUT (%s) were cut", cut, cfg.ShutdownGrace)
	}
	return nil
}

// smsOutbox is the outbox of the configured SMS sender; nil when it is
// off. Dev mode, where the dev sender logs what it sends, is the embedded
// engine.
func smsOutbox(cfg config.Config, log *slog.Logger) (*sms.Outbox, error) {
	sender, err := sms.New(sms.Config{Sender: cfg.SMSSender, WebhookURL: cfg.SMSWebhookURL, WebhookSecret: cfg.SMSWebhookSecret,
		TwilioURL: cfg.SMSTwilioURL, TwilioAccountSID: cfg.SMSTwilioSID, TwilioAuthToken: cfg.SMSTwilioToken, From: cfg.SMSFrom,
		Timeout: cfg.SMSTimeout}, cfg.Embedded(), log)
	if err != nil || sender == nil {
		return nil, err
	}
	log.Info("sms", "sender", cfg.SMSSender)
	return sms.NewOutbox(sender, log), nil
}

// stillConnecting says, while the store is being opened, that Atrium is
// still trying to reach an external MongoDB: after 3 seconds, then every 10,
// until the driver gives up. It names the hosts only, never credentials.
// The returned func stops it.
func stillConnecting(cfg config.Config, log *slog.Logger) func() {
	if cfg.Embedded() {
		return func() {}
	}
	hosts := "?"
	if u, err := url.Parse(cfg.MongoURI); err == nil {
		hosts = u.Host // without the userinfo
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTimer(3 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				log.Warn("still trying to reach MongoDB (MONGODB_URI)", "hosts", hosts)
				t.Reset(10 * time.Second)
			}
		}
	}()
	return func() { close(done) }
}

// operatorSecret returns the operator credential: ATRIUM_ADMIN_SECRET, or on
// the embedded default a secret generated once and kept under the data dir.
// With an external MongoDB and no secret the operator credential is off.
func operatorSecret(cfg config.Config) (secret string, generated bool, err error) {
	if cfg.AdminSecret != "" || !cfg.Embedded() {
		return cfg.AdminSecret, false, nil
	}
	secret, _, err = auth.LoadOrCreateSecret(filepath.Join(cfg.DataDir, adminSecretFile))
	return secret, true, err
}

// sealingSecret returns the secret that seals the signing keys' private
// halves in the store: ATRIUM_SEALING_SECRET, or on the embedded default a
// secret generated once and kept under the data dir (config requires the
// variable with MONGODB_URI, where every instance must share it). A data
// dir of a release that called the file jwt-secret keeps its secret.
func sealingSecret(cfg config.Config) ([]byte, error) {
	if cfg.SealingSecret != "" {
		return []byte(cfg.SealingSecret), nil
	}
	path := filepath.Join(cfg.DataDir, sealingSecretFile)
	former := filepath.Join(cfg.DataDir, formerSealingSecretFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if err := os.Rename(former, path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	secret, _, err := auth.LoadOrCreateSecret(path)
	return []byte(secret), err
}

func storeName(db *store.DB) string {
	if db.Embedded() {
		return "embedded"
	}
	return "mongodb"
}

// welcome tells a newcomer how to make the first call. It never prints a
// secret: it says where the generated one is kept.
func welcome(cfg config.Config, generated bool, first *iam.Project, created bool) {
	w := os.Stdout
	fmt.Fprintf(w, "\nAtrium is listening.\n  GraphiQL: %s/\n  GraphQL:  %s/graphql\n", cfg.PublicURL, cfg.PublicURL)
	if created {
		fmt.Fprintf(w, "  Created the %s project: %s\n", first.Name, first.ID)
	} else {
		fmt.Fprintf(w, "  Oldest project: %s (%s)\n", first.ID, first.Name)
	}
	switch {
	case generated:
		fmt.Fprintf(w, "  Operator secret: generated and kept in %s (print it with: cat %s)\n",
			filepath.Join(cfg.DataDir, adminSecretFile), filepath.Join(cfg.DataDir, adminSecretFile))
	case cfg.AdminSecret != "":
		fmt.Fprintln(w, "  Operator secret: the value of ATRIUM_ADMIN_SECRET")
	default:
		fmt.Fprintln(w, "  Operator secret: off (set ATRIUM_ADMIN_SECRET to turn it on)")
	}
	fmt.Fprintf(w, "  In GraphiQL's Headers pane, paste:\n    {\"Authorization\": \"Bearer <operator secret>\", \"x-oystehr-project-id\": \"%s\"}\n  then run:  { project { id name fhirVersion } }\n\n", first.ID)
}
