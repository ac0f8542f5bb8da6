package main

// The backup subcommand, atrium backup <new dir>, and the move to MongoDB,
// atrium copy-to-mongodb.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"atrium/config"
	"atrium/store"
	"atrium/store/embedded"
)

// The secrets Atrium generates in the data dir on the embedded default.
const (
	adminSecretFile   = "admin-secret"
	sealingSecretFile = "sealing-secret"
	// formerSealingSecretFile is the name releases that signed tokens with
	// HS256 gave the same secret; sealingSecret renames it.
	formerSealingSecretFile = "jwt-secret"
)

// secretFiles are the files Atrium generates in the data dir on the embedded
// default (see operatorSecret and sealingSecret); a backup carries them so
// that the copy can open the signing keys its store holds.
var secretFiles = []string{adminSecretFile, sealingSecretFile}

// backup copies the embedded deployment in ATRIUM_DATA_DIR, running or not,
// into a new directory. Start Atrium with ATRIUM_DATA_DIR set to that
// directory to restore it.
func backup(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: atrium backup <new dir> (copies ATRIUM_DATA_DIR)")
	}
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return err
	}
	if !cfg.Embedded() {
		return errors.New("backup: MONGODB_URI is set; back up MongoDB with its own tools (mongodump, snapshots)")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := embedded.Backup(ctx, cfg.DataDir, args[0], secretFiles...); err != nil {
		return err
	}
	fmt.Printf("Backed up %s to %s. To restore, start Atrium with ATRIUM_DATA_DIR=%s\n", cfg.DataDir, args[0], args[0])
	return nil
}

// copyToMongoDB copies the embedded deployment in ATRIUM_DATA_DIR (with
// Atrium stopped: the data directory's lock refuses a running one) into the
// MongoDB of MONGODB_URI, database MONGODB_DATABASE.
func copyToMongoDB(args []string) error {
	if len(args) != 0 {
		return errors.New("usage: MONGODB_URI=... atrium copy-to-mongodb (copies ATRIUM_DATA_DIR into MONGODB_URI)")
	}
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return err
	}
	if cfg.Embedded() {
		return errors.New("copy-to-mongodb: set MONGODB_URI to the MongoDB to copy ATRIUM_DATA_DIR into")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	src, err := store.Open(ctx, store.Options{Database: cfg.Database, DataDir: cfg.DataDir})
	if err != nil {
		return err
	}
	defer src.Close(context.Background())
	dst, err := store.Open(ctx, store.Options{URI: cfg.MongoURI, Database: cfg.Database})
	if err != nil {
		return err
	}
	defer dst.Close(context.Background())
	n, err := src.CopyTo(ctx, dst)
	if err != nil {
		return err
	}
	fmt.Printf("Copied %d documents from %s into database %s. Start Atrium with MONGODB_URI, and with\n"+
		"ATRIUM_ADMIN_SECRET and ATRIUM_SEALING_SECRET set to the contents of %s/%s and %s/%s, so that the signing keys\n"+
		"(copied, sealed) open and tokens issued before keep working.\n",
		n, cfg.DataDir, cfg.Database, cfg.DataDir, adminSecretFile, cfg.DataDir, sealingSecretFile)
	return nil
}
