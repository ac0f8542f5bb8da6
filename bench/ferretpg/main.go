// Command ferretpg runs FerretDB v1.24.2, the engine Atrium embeds, with its
// PostgreSQL backend instead of SQLite, listening on 127.0.0.1, so that the
// benchmarks can measure that backend through MONGODB_URI (bench/README.md,
// "FerretDB on PostgreSQL"). It is a measuring tool, not a way to run Atrium.
//
//	go run ./bench/ferretpg -postgres postgres://atrium@127.0.0.1:54329/ferretdb -addr 127.0.0.1:27099
package main

import (
	"context"
	"flag"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	pg := flag.String("postgres", "", "PostgreSQL URL FerretDB stores its data in")
	addr := flag.String("addr", "127.0.0.1:27099", "address to listen on (loopback only)")
	flag.Parse()
	if *pg == "" {
		log.Fatal("give -postgres")
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:      ferretdb.ListenerConfig{TCP: *addr},
		Logger:        slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Handler:       "postgresql",
		PostgreSQLURL: *pg,
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.Printf("FerretDB on %s listening on %s: MONGODB_URI=%s", *pg, *addr, f.MongoDBURI())
	f.Run(ctx)
}
