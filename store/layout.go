package store

// Where each kind of document lives.
//
// On MongoDB every kind of document is one collection shared by all
// projects, and every query has an index that starts with projectId.
//
// The embedded engine (FerretDB v1.24.2 on SQLite) uses no index of its own
// for reads: any filter but exactly {_id: x} reads and decodes every
// document of the collection, and {_id: x} searches only the index Atrium
// adds beside the engine's (embedded.IDIndexer). A shared collection would make one project's requests cost
// in proportion to all projects' data. So there the documents that grow
// with a project (users, profiles, roles, machine clients, audit events)
// live in one collection per project, "<kind>.<projectId>", and the
// lookups that would otherwise scan a project's collection, or do not know
// the project at all, go through the directory: one small document per key,
// found by _id, that names the project and the document. Its keys are a user's invitation ticket, email and phone number
// and a machine client's clientId. The directory also enforces what must be
// unique: a clientId across projects, an email or phone number within one
// (a user's key holds its project), before the document is written, so an
// invitation learns that the person is a member without reading the
// project's users.
//
// The directory entry is written before the document and removed after it
// (no transactions): an entry whose document does not hold its key any more
// is stale, lookups ignore it and the next claim of the key takes it over.
//
// Projects, applications, memberships and developer accounts stay shared:
// they grow with the number of projects and developers, not with a
// project's users.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"atrium/store/embedded"
)

// directoryColl is the directory's collection, which maps keys to
// documents. It is one collection, read by _id through the engine's _id
// index (embedded.IDIndexer; a FerretDB reached through MONGODB_URI has no
// such index and scans it, as it scans every read by _id). The release of 225f078 spread it over 256
// collections, "directory.00" to "directory.ff", from before that index:
// every new one changed the SQLite schema, which each of the engine's
// connections then parsed again, whole, so a fresh data directory's first
// few hundred users paid for up to 512 schema changes (TestUsersPaging
// under -race: 144 s with the buckets, 80 s without). mergeDirectory
// moves such buckets into the one collection at start-up.
const directoryColl = "directory"

// directory is the directory's collection.
func (d *DB) directory() *mongo.Collection { return d.db.Collection(directoryColl) }

// perProject are the kinds of documents kept in a collection per project
// on the embedded engine.
var perProject = map[string]bool{usersColl: true, profilesColl: true, rolesColl: true, auditColl: true, m2mColl: true, keysColl: true,
	authRequestsColl: true, grantsColl: true, sessionsColl: true, ssoFlowsColl: true}

// dirField is a field the directory finds documents of a kind by; the
// keys of its entries are "<name>/<value>".
type dirField struct {
	name string
	kind string
	path []string
}

// The fields the directory keeps. A user's emailKey and phoneKey hold its
// project (see uniqueKeys), as does its ssoKey, so those keys are unique within a project.
var (
	ticketField   = dirField{"users", usersColl, []string{"invitation", "hash"}}
	emailField    = dirField{"users.email", usersColl, []string{"emailKey"}}
	phoneField    = dirField{"users.phone", usersColl, []string{"phoneKey"}}
	ssoField      = dirField{"users.sso", usersColl, []string{"ssoKey"}}
	clientIDField = dirField{"m2mClients", m2mColl, []string{"clientId"}}
)

// directed lists, per kind, the fields the directory finds its documents
// by, in the order their keys are claimed.
var directed = map[string][]dirField{usersColl: {ticketField, emailField, phoneField, ssoField}, m2mColl: {clientIDField}}

// fieldNamed is the directory field of an entry.
func fieldNamed(name string) (dirField, bool) {
	for _, fields := range directed {
		for _, f := range fields {
			if f.name == name {
				return f, true
			}
		}
	}
	return dirField{}, false
}

// safeProjectID is a project id that can be part of a collection name as
// it is; others (project ids come from request headers) are hashed.
var safeProjectID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,100}$`)

// projectCollName is the name of a project's collection of a kind.
func projectCollName(kind, projectID string) string {
	if safeProjectID.MatchString(projectID) {
		return kind + "." + projectID
	}
	sum := sha256.Sum256([]byte(projectID))
	return kind + ".~" + hex.EncodeToString(sum[:20])
}

// kindOf returns the kind of a per-project collection name.
func kindOf(name string) (string, bool) {
	kind, _, ok := strings.Cut(name, ".")
	return kind, ok && perProject[kind]
}

// coll is the collection holding a project's documents of a kind.
func (d *DB) coll(kind, projectID string) *mongo.Collection {
	if d.split && perProject[kind] {
		return d.db.Collection(projectCollName(kind, projectID))
	}
	return d.db.Collection(kind)
}

// indexesOf are the indexes a collection of kind needs in this layout. A
// project's own collection of signing keys holds a handful of documents,
// read whole, and _id keeps a generation unique: it needs none (the
// shared collection on MongoDB needs its projectId index).
func (d *DB) indexesOf(kind string) []mongo.IndexModel {
	if d.split && kind == keysColl {
		return nil
	}
	return indexes()[kind]
}

// ready prepares a collection the first time this process writes to it (a
// read never creates a collection): a per-project collection gets its
// indexes, and on the embedded engine every collection gets the _id index
// its reads use (embedded.IDIndexer). Later calls cost a map lookup.
func (d *DB) ready(ctx context.Context, c *mongo.Collection, kind string) error {
	own := d.split && perProject[kind]
	if !own && d.ids == nil {
		return nil
	}
	if _, ok := d.readyColls.Load(c.Name()); ok {
		return nil
	}
	d.readyMu.Lock()
	defer d.readyMu.Unlock()
	if _, ok := d.readyColls.Load(c.Name()); ok {
		return nil
	}
	if own {
		if err := d.reconcileCollection(ctx, c.Name(), d.indexesOf(kind)); err != nil {
			return err
		}
	}
	if d.ids != nil {
		if err := d.indexIDs(ctx, c.Name()); err != nil {
			return err
		}
	}
	d.readyColls.Store(c.Name(), true)
	return nil
}

// indexIDs adds the _id index to a collection of the embedded engine,
// creating the collection first if it does not exist yet.
func (d *DB) indexIDs(ctx context.Context, name string) error {
	err := d.ids.Index(ctx, d.db.Name(), name)
	if !errors.Is(err, embedded.ErrNoTable) {
		return err
	}
	var ce mongo.CommandError
	if err := d.db.CreateCollection(ctx, name); err != nil && !(errors.As(err, &ce) && ce.Code == 48) { // 48: NamespaceExists
		return fmt.Errorf("store: creating %s: %w", name, err)
	}
	return d.ids.Index(ctx, d.db.Name(), name)
}

// dirEntry is one document of the directory.
type dirEntry struct {
	Key       string `bson:"_id"` // field name/value
	ProjectID string `bson:"projectId"`
	Kind      string `bson:"kind"`
	Field     string `bson:"field"`
	DocID     string `bson:"docId"`
}

// dirLocks serialise the claims of one key inside the process (the
// embedded engine serves one process); they are apart from the document
// locks, which may be held while a key is claimed.
var dirLocks = docLocks{seed: locks.seed}

// value is the value of the field in doc, or "".
func (f dirField) value(doc bson.Raw) string {
	v, err := doc.LookupErr(f.path...)
	if err != nil {
		return ""
	}
	s, _ := v.StringValueOK()
	return s
}

// directedValues are the values of the directed fields of a document of
// kind, in the order of directed[kind] ("" where it has none).
func directedValues(kind string, doc bson.Raw) []string {
	fields := directed[kind]
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = f.value(doc)
	}
	return out
}

// key is the directory key of the field's value.
func (f dirField) key(value string) string { return f.name + "/" + value }

// claim makes the directory map the field's value to the document, before
// the document is written, and says whether the entry is new. The caller
// holds the key's lock (dirLocks) until the write is done, so that
// concurrent claims see each other's documents. A key held by another
// document that still holds it is ErrDuplicate.
func (d *DB) claim(ctx context.Context, f dirField, value, projectID, docID string) (fresh bool, err error) {
	e := dirEntry{Key: f.key(value), ProjectID: projectID, Kind: f.kind, Field: f.name, DocID: docID}
	dir := d.directory()
	if err := d.ready(ctx, dir, directoryColl); err != nil {
		return false, err
	}
	for range 2 {
		_, err = dir.InsertOne(ctx, e)
		if err == nil {
			return true, nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return false, err
		}
		var old dirEntry
		err = dir.FindOne(ctx, bson.D{{Key: "_id", Value: e.Key}}).Decode(&old)
		if errors.Is(err, mongo.ErrNoDocuments) {
			continue // removed in between: insert again
		}
		if err != nil {
			return false, err
		}
		if old.ProjectID == projectID && old.DocID == docID {
			return false, nil
		}
		holds, err := d.holds(ctx, old, value)
		if err != nil {
			return false, err
		}
		if holds {
			return false, fmt.Errorf("%w: %s is taken", ErrDuplicate, e.Key)
		}
		// A stale entry: take it over.
		_, err = dir.ReplaceOne(ctx, bson.D{{Key: "_id", Value: e.Key}}, e)
		return err == nil, err
	}
	return false, err
}

// dropEntry removes the field's value if it maps to the document. The
// caller holds the key's lock, or takes it with lock.
func (d *DB) dropEntry(ctx context.Context, f dirField, value, projectID, docID string, lock bool) error {
	key := f.key(value)
	if lock {
		defer dirLocks.lock(directoryColl, key)()
	}
	dir := d.directory()
	var e dirEntry
	err := dir.FindOne(ctx, bson.D{{Key: "_id", Value: key}}).Decode(&e)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil
	}
	if err != nil || e.ProjectID != projectID || e.DocID != docID {
		return err
	}
	_, err = dir.DeleteOne(ctx, bson.D{{Key: "_id", Value: key}})
	return err
}

// holds reports whether the document an entry names still holds value.
func (d *DB) holds(ctx context.Context, e dirEntry, value string) (bool, error) {
	f, ok := fieldNamed(e.Field)
	if !ok {
		return false, nil // not an entry of this release: stale
	}
	raw, err := d.Tenant(e.ProjectID).collection(e.Kind).getRaw(ctx, e.DocID)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return f.value(raw) == value, nil
}

// lookup finds the document whose field holds value, through the
// directory, and returns its collection with the document.
func (d *DB) lookup(ctx context.Context, f dirField, value string) (scoped, bson.Raw, error) {
	var e dirEntry
	key := f.key(value)
	err := d.directory().FindOne(ctx, bson.D{{Key: "_id", Value: key}}).Decode(&e)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return scoped{}, nil, ErrNotFound
	}
	if err != nil {
		return scoped{}, nil, err
	}
	s := d.Tenant(e.ProjectID).collection(f.kind)
	raw, err := s.getRaw(ctx, e.DocID)
	if err != nil {
		return scoped{}, nil, err
	}
	if f.value(raw) != value {
		return scoped{}, nil, ErrNotFound // a stale entry
	}
	return s, raw, nil
}

// readiness is the per-process cache of the collections DB.ready has
// prepared.
type readiness struct {
	readyMu    sync.Mutex
	readyColls sync.Map
}
