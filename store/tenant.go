package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"atrium/iam"
)

// Collection names.
const (
	projectsColl     = "projects"
	rolesColl        = "roles"
	usersColl        = "users"
	applicationsColl = "applications"
	profilesColl     = "profiles"
	auditColl        = "auditEvents"
	m2mColl          = "m2mClients"
	membershipsColl  = "memberships"
	developersColl   = "developers"
)

// Tenant is the store seen from one project: everything it reads or writes is
// confined to that project's documents.
type Tenant struct {
	db        *DB
	projectID string
}

// Tenant returns the handle of one project.
func (d *DB) Tenant(projectID string) *Tenant {
	return &Tenant{db: d, projectID: projectID}
}

// ProjectID is the project this handle is confined to.
func (t *Tenant) ProjectID() string { return t.projectID }

// scoped is one project's view of the documents of a kind: the
// collection that holds them (see layout.go) and the project condition.
type scoped struct {
	c         *mongo.Collection
	projectID string
	kind      string
	db        *DB
}

func (t *Tenant) collection(kind string) scoped {
	return scoped{c: t.db.coll(kind, t.projectID), projectID: t.projectID, kind: kind, db: t.db}
}

// directedOf are the directory values of a document about to be written
// (see directedValues), or nil when the layout keeps no directory entries
// for it.
func (s scoped) directedOf(doc bson.D) []string {
	if !s.db.split || directed[s.kind] == nil {
		return nil
	}
	raw, err := bson.Marshal(doc)
	if err != nil {
		return nil
	}
	return directedValues(s.kind, raw)
}

// write runs put, the write of doc (the document with the id), after the
// collection's indexes are in place and doc's directory entries are
// claimed; new entries are removed again if put fails or matches nothing.
// A key another document holds is ErrDuplicate, and nothing is written.
func (s scoped) write(ctx context.Context, doc bson.D, id string, put func() (bool, error)) (ok bool, err error) {
	if err := s.db.ready(ctx, s.c, s.kind); err != nil {
		return false, err
	}
	values := s.directedOf(doc)
	var keys []string
	for i, value := range values {
		if value != "" {
			keys = append(keys, directed[s.kind][i].key(value))
		}
	}
	if len(keys) == 0 {
		return put()
	}
	defer dirLocks.lockAll(directoryColl, keys)()
	var fresh []int // indexes of the entries this write made
	defer func() {
		if err == nil && ok {
			return
		}
		for _, i := range fresh {
			if derr := s.db.dropEntry(context.WithoutCancel(ctx), directed[s.kind][i], values[i], s.projectID, id, false); derr != nil && err == nil {
				err = derr
			}
		}
	}()
	for i, value := range values {
		if value == "" {
			continue
		}
		isNew, err := s.db.claim(ctx, directed[s.kind][i], value, s.projectID, id)
		if err != nil {
			return false, err
		}
		if isNew {
			fresh = append(fresh, i)
		}
	}
	return put()
}

// released removes the directory entries of the values the document no
// longer holds (after the write that changed or removed it).
func (s scoped) released(ctx context.Context, before, after []string, id string) error {
	for i, value := range before {
		if value == "" || (i < len(after) && after[i] == value) {
			continue
		}
		if err := s.db.dropEntry(context.WithoutCancel(ctx), directed[s.kind][i], value, s.projectID, id, true); err != nil {
			return err
		}
	}
	return nil
}

// where prefixes a filter with the project condition.
func (s scoped) where(filter bson.D) bson.D {
	return append(bson.D{{Key: "projectId", Value: s.projectID}}, filter...)
}

// document encodes a stored document and stamps it with the project id.
func (s scoped) document(v any) (bson.D, error) {
	raw, err := bson.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("store: encode %T: %w", v, err)
	}
	var d bson.D
	if err := bson.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("store: encode %T: %w", v, err)
	}
	out := make(bson.D, 0, len(d)+3)
	for _, e := range d {
		if e.Key != "projectId" {
			out = append(out, e)
		}
	}
	out = append(out, bson.E{Key: "projectId", Value: s.projectID})
	return append(out, uniqueKeys(s.projectID, v)...), nil
}

// getRaw reads the document with the id, if it belongs to the project. It
// filters on _id alone so that the embedded engine, which pushes down only
// a filter on _id, reads one row instead of scanning the collection; the
// project is then checked here, before anything is decoded.
func (s scoped) getRaw(ctx context.Context, id string) (bson.Raw, error) {
	raw, err := s.c.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Raw()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if p, ok := raw.Lookup("projectId").StringValueOK(); !ok || p != s.projectID {
		return nil, ErrNotFound
	}
	return raw, nil
}

func (s scoped) findOne(ctx context.Context, filter bson.D, out any) error {
	err := s.c.FindOne(ctx, s.where(filter)).Decode(out)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return ErrNotFound
	}
	return err
}

func (s scoped) find(ctx context.Context, filter bson.D, opts *options.FindOptionsBuilder, out any) error {
	cur, err := s.c.Find(ctx, s.where(filter), opts)
	if err != nil {
		return err
	}
	return cur.All(ctx, out)
}

func (s scoped) count(ctx context.Context, filter bson.D) (int64, error) {
	return s.c.CountDocuments(ctx, s.where(filter))
}

// codec converts an entity to its stored document and back, and reaches
// the entity's bookkeeping.
type codec[E, D any] struct {
	to   func(*E) *D
	from func(*D) *E
	meta func(*E) *iam.Meta
}

// all converts documents read in a batch.
func (c codec[E, D]) all(docs []D) []E {
	out := make([]E, len(docs))
	for i := range docs {
		out[i] = *c.from(&docs[i])
	}
	return out
}

// Repo is the generic create/read/update/delete of one entity type inside one
// project.
type Repo[E, D any] struct {
	s     scoped
	codec codec[E, D]
	now   func() time.Time
}

func repo[E, D any](t *Tenant, collection string, c codec[E, D]) Repo[E, D] {
	return Repo[E, D]{s: t.collection(collection), codec: c, now: now}
}

// now is the store's clock, truncated to what BSON dates keep.
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// Get returns the entity with the id, or ErrNotFound.
func (r Repo[E, D]) Get(ctx context.Context, id string) (*E, error) {
	raw, err := r.s.getRaw(ctx, id)
	if err != nil {
		return nil, err
	}
	var d D
	if err := bson.Unmarshal(raw, &d); err != nil {
		return nil, err
	}
	return r.codec.from(&d), nil
}

// Insert stores a new entity (version 1). A unique index violation is
// ErrDuplicate. v gets the bookkeeping and the projectId the document got,
// as a read would give them.
func (r Repo[E, D]) Insert(ctx context.Context, v *E) error {
	m := r.codec.meta(v)
	m.CreatedAt, m.UpdatedAt, m.Version = r.now(), r.now(), 1
	doc, err := r.s.document(r.codec.to(v))
	if err != nil {
		return err
	}
	_, err = r.s.write(ctx, doc, docID(doc), func() (bool, error) {
		_, err := r.s.c.InsertOne(ctx, doc)
		return err == nil, err
	})
	if err != nil {
		return mapWriteError(err)
	}
	return r.reread(doc, v)
}

// docID is the _id of an encoded document.
func docID(doc bson.D) string {
	for _, e := range doc {
		if e.Key == "_id" {
			id, _ := e.Value.(string)
			return id
		}
	}
	return ""
}

// reread sets v to what doc holds.
func (r Repo[E, D]) reread(doc bson.D, v *E) error {
	raw, err := bson.Marshal(doc)
	if err != nil {
		return err
	}
	var d D
	if err := bson.Unmarshal(raw, &d); err != nil {
		return err
	}
	*v = *r.codec.from(&d)
	return nil
}

// Update reads the entity, lets mutate change it and writes it back only if
// nobody wrote it in between (compare-and-swap on the version). With expected
// > 0 the stored version must equal expected, else ErrStale and nothing
// changes; with expected == 0 a concurrent write makes Update read again and
// re-apply mutate, so no update is silently lost. Errors from mutate are
// returned unchanged.
func (r Repo[E, D]) Update(ctx context.Context, id string, expected int64, mutate func(*E) error) (*E, error) {
	return r.update(ctx, id, nil, expected, mutate)
}

// UpdateFrom is Update starting from read, the entity as the caller last
// read it (read itself is not changed): when nobody wrote it since, the
// update costs no read.
func (r Repo[E, D]) UpdateFrom(ctx context.Context, read *E, expected int64, mutate func(*E) error) (*E, error) {
	doc, err := r.s.document(r.codec.to(read))
	if err != nil {
		return nil, err
	}
	v := new(E)
	if err := r.reread(doc, v); err != nil { // a deep copy
		return nil, err
	}
	return r.update(ctx, docID(doc), v, expected, mutate)
}

// update is Update, starting from v when it is not nil.
func (r Repo[E, D]) update(ctx context.Context, id string, v *E, expected int64, mutate func(*E) error) (*E, error) {
	defer locks.lock(r.s.c.Name(), id)()
	const attempts = 5
	for range attempts {
		given := v != nil
		if !given {
			var err error
			if v, err = r.Get(ctx, id); err != nil {
				return nil, err
			}
		}
		m := r.codec.meta(v)
		if expected > 0 && m.Version != expected {
			if given { // the caller's copy may be older than the store
				v = nil
				continue
			}
			return nil, ErrStale
		}
		before, err := r.directed(v)
		if err != nil {
			return nil, err
		}
		if err := mutate(v); err != nil {
			return nil, err
		}
		old := m.Version
		m.Version, m.UpdatedAt = old+1, r.now()
		doc, err := r.s.document(r.codec.to(v))
		if err != nil {
			return nil, err
		}
		matched, err := r.s.write(ctx, doc, id, func() (bool, error) {
			res, err := r.s.c.ReplaceOne(ctx, r.s.where(bson.D{{Key: "_id", Value: id}, {Key: "version", Value: old}}), doc)
			return err == nil && res.MatchedCount == 1, err
		})
		if err != nil {
			return nil, mapWriteError(err)
		}
		if matched {
			return v, r.s.released(ctx, before, r.s.directedOf(doc), id)
		}
		if expected > 0 && !given {
			return nil, ErrStale
		}
		v = nil // read again
	}
	return nil, ErrStale
}

// directed are the directory values v holds as stored, if any.
func (r Repo[E, D]) directed(v *E) ([]string, error) {
	if !r.s.db.split || directed[r.s.kind] == nil {
		return nil, nil
	}
	doc, err := r.s.document(r.codec.to(v))
	if err != nil {
		return nil, err
	}
	return r.s.directedOf(doc), nil
}

// Delete removes the entity, or returns ErrNotFound.
func (r Repo[E, D]) Delete(ctx context.Context, id string) error {
	var before []string
	if r.s.db.split && directed[r.s.kind] != nil {
		raw, err := r.s.getRaw(ctx, id)
		if err != nil {
			return err
		}
		before = directedValues(r.s.kind, raw)
	}
	res, err := r.s.c.DeleteOne(ctx, r.s.where(bson.D{{Key: "_id", Value: id}}))
	if err != nil {
		return err
	}
	if res.DeletedCount == 0 {
		return ErrNotFound
	}
	return r.s.released(ctx, before, nil, id)
}

func mapWriteError(err error) error {
	// The embedded engine reports a unique index violated by an update as
	// an internal error from SQLite rather than as error 11000.
	if mongo.IsDuplicateKeyError(err) || (err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")) {
		return fmt.Errorf("%w: %v", ErrDuplicate, err)
	}
	return err
}
