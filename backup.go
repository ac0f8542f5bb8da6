package main

// The backup subcommand: atrium backup <new dir>.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"atrium/config"
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
