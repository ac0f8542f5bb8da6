package embedded_test

import (
	"context"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"atrium/store/embedded"
)

// A data dir whose path is too long for a Unix socket gets its socket in a
// private temporary dir, removed at Stop; the engine works the same.
func TestLongDataDirPathUsesAPrivateSocketDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), strings.Repeat("d", 110))
	e, err := embedded.Start(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			e.Stop()
		}
	}()
	sock, err := url.PathUnescape(strings.TrimSuffix(strings.TrimPrefix(e.URI(), "mongodb://"), "/"))
	if err != nil || strings.HasPrefix(sock, dir) || len(sock) > 107 {
		t.Fatalf("socket %q (%v): want a short path outside the data dir", sock, err)
	}
	info, err := os.Stat(filepath.Dir(sock))
	if err != nil || info.Mode().Perm() != 0o700 {
		t.Fatalf("socket dir mode: %v %v", info, err)
	}
	c, err := mongo.Connect(options.Client().ApplyURI(e.URI()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Database("atrium").Collection("x").InsertOne(ctx, bson.D{{Key: "a", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	_ = c.Disconnect(ctx)
	e.Stop()
	stopped = true
	if _, err := os.Stat(filepath.Dir(sock)); !os.IsNotExist(err) {
		t.Fatalf("socket dir left after Stop: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "atrium.sqlite")); err != nil {
		t.Fatalf("data not in the data dir: %v", err)
	}
}
