// Package store keeps Atrium's documents in MongoDB. Every document belongs
// to one project and carries its projectId; code outside this package reaches
// documents only through a Tenant, the handle of one project, which adds the
// projectId to every filter and every document it writes. When no MongoDB URI
// is configured, Open starts the embedded engine (package store/embedded) and
// the same driver code talks to it.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"atrium/store/embedded"
)

// Errors the store returns; the service layer turns them into iam errors with
// a message that fits the operation.
var (
	ErrNotFound  = errors.New("store: document not found")
	ErrDuplicate = errors.New("store: duplicate key")
	ErrStale     = errors.New("store: stale version")
	// ErrExpired is a ticket that exists but whose time is up.
	ErrExpired = errors.New("store: expired")
)

// Options say where the data lives.
type Options struct {
	// URI of a MongoDB deployment; empty starts the embedded engine.
	URI string
	// Database name.
	Database string
	// DataDir holds the embedded engine's files (unused with URI).
	DataDir string
	// EngineDir, with a URI, is the data directory of the embedded engine
	// the URI points at (tests share one engine), so that the store adds
	// its _id index there as it does on its own engine (embedded.IDIndexer).
	EngineDir string
	// EngineLogger receives the embedded engine's own logs.
	EngineLogger *slog.Logger
	// Monitor, when set, observes every command the driver sends (tests use
	// it to count round trips); metrics.go times every command in any case.
	Monitor *event.CommandMonitor
	// sharedLayout keeps every kind of document in one shared collection on
	// the embedded engine too, as releases before the per-project layout
	// did (tests write such data to migrate it).
	sharedLayout bool
}

// DB is an open connection to Atrium's database.
type DB struct {
	client *mongo.Client
	db     *mongo.Database
	engine *embedded.Engine
	// split: documents that grow with a project live in a collection per
	// project (the embedded engine; see layout.go).
	split bool
	// keepsSparse: the server records an index's sparse option.
	keepsSparse bool
	// ids indexes the embedded engine's tables by _id (nil elsewhere).
	ids *embedded.IDIndexer
	readiness
}

// Open connects to MongoDB, or starts the embedded engine when opts.URI is
// empty, and makes sure the indexes exist.
func Open(ctx context.Context, opts Options) (*DB, error) {
	var engine *embedded.Engine
	uri := opts.URI
	if uri == "" {
		logger := opts.EngineLogger
		if logger == nil {
			logger = slog.New(slog.DiscardHandler)
		}
		var err error
		if engine, err = embedded.Start(opts.DataDir, logger); err != nil {
			return nil, err
		}
		uri = engine.URI()
	}
	d, err := connect(ctx, uri, opts.Database, opts.Monitor)
	if err != nil {
		if engine != nil {
			engine.Stop()
		}
		return nil, err
	}
	d.engine = engine
	if engine != nil {
		opts.EngineDir = opts.DataDir
	}
	if err := d.prepare(ctx, opts); err != nil {
		d.Close(context.Background())
		return nil, err
	}
	return d, nil
}

// How long the store waits for the database. A request whose database does
// not answer fails within about selectTimeout (UNAVAILABLE, see Unavailable)
// instead of hanging for the driver's default of 30 s, and one operation
// may take at most operationTimeout; only start-up waits longer, up to
// startupWait, for a database that is still coming up. A URI that sets
// serverSelectionTimeoutMS or timeoutMS overrides the first two.
const (
	selectTimeout    = 2 * time.Second
	operationTimeout = 10 * time.Second
	startupWait      = 30 * time.Second
)

// prepare chooses the layout for the server, moves data written in the
// shared layout to the per-project one, and reconciles the indexes.
func (d *DB) prepare(ctx context.Context, opts Options) error {
	ferret, err := d.isFerretDB(ctx)
	if err != nil {
		return fmt.Errorf("store: buildInfo: %w", err)
	}
	d.keepsSparse = !ferret
	d.split = ferret && !opts.sharedLayout
	if d.split && opts.EngineDir != "" {
		d.ids = embedded.NewIDIndexer(opts.EngineDir)
	}
	if d.split {
		if err := d.migrate(ctx); err != nil {
			return err
		}
	}
	if err := d.ensureIndexes(ctx); err != nil {
		return err
	}
	if d.ids != nil {
		return d.ids.Index(ctx, d.db.Name())
	}
	return nil
}

func connect(ctx context.Context, uri, database string, monitor *event.CommandMonitor) (*DB, error) {
	opts := options.Client().SetServerSelectionTimeout(selectTimeout).SetTimeout(operationTimeout).
		ApplyURI(uri).SetMonitor(measured(monitor)).SetPoolMonitor(poolMetrics)
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	d := &DB{client: client, db: client.Database(database)}
	if err := d.awaitAnswer(ctx); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, fmt.Errorf("store: the database does not answer: %w", err)
	}
	return d, nil
}

// awaitAnswer pings the database until it answers, for up to startupWait.
func (d *DB) awaitAnswer(ctx context.Context) error {
	deadline := time.Now().Add(startupWait)
	for {
		err := d.Ping(ctx)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// Embedded reports whether this DB runs on the embedded engine.
func (d *DB) Embedded() bool { return d.engine != nil }

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error {
	return d.client.Ping(ctx, nil)
}

// Close disconnects the driver and stops the embedded engine, if any.
func (d *DB) Close(ctx context.Context) {
	_ = d.client.Disconnect(ctx)
	if d.ids != nil {
		_ = d.ids.Close()
	}
	if d.engine != nil {
		d.engine.Stop()
	}
}

// Drop deletes the whole database (tests use it to clean up).
func (d *DB) Drop(ctx context.Context) error {
	return d.db.Drop(ctx)
}

// deleteExpired deletes the documents of c whose expiresAt is at or before
// by, and returns how many: the one sweep of every collection of things
// that end (throttle windows, codes, tickets, replays, logins).
func deleteExpired(ctx context.Context, c *mongo.Collection, by time.Time) (int64, error) {
	res, err := c.DeleteMany(ctx, bson.D{{Key: "expiresAt", Value: bson.D{{Key: "$lte", Value: by.UTC()}}}})
	if err != nil {
		return 0, err
	}
	return res.DeletedCount, nil
}
