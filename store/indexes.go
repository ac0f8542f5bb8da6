package store

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// indexes lists every index Atrium needs, per collection; ensureIndexes
// reconciles them with what the database holds at every start-up. The models
// are made afresh for each call: the driver writes into their option
// builders, so two databases opened at once must not share them.
func indexes() map[string][]mongo.IndexModel {
	return map[string][]mongo.IndexModel{
		rolesColl: {
			{Keys: bson.D{{Key: "projectId", Value: 1}, {Key: "name", Value: 1}}, Options: options.Index().SetName("project_name").SetUnique(true)},
		},
		usersColl: {
			// "Unique when present": see uniqueKeys.
			{Keys: bson.D{{Key: "emailKey", Value: 1}}, Options: options.Index().SetName("email_key").SetUnique(true).SetSparse(true)},
			{Keys: bson.D{{Key: "phoneKey", Value: 1}}, Options: options.Index().SetName("phone_key").SetUnique(true).SetSparse(true)},
			{Keys: bson.D{{Key: "ssoKey", Value: 1}}, Options: options.Index().SetName("sso_key").SetUnique(true).SetSparse(true)},
			{Keys: bson.D{{Key: "invitation.hash", Value: 1}}, Options: options.Index().SetName("invitation").SetSparse(true)},
			{Keys: bson.D{{Key: "projectId", Value: 1}, {Key: "roleIds", Value: 1}}, Options: options.Index().SetName("project_roles")},
			{Keys: bson.D{{Key: "projectId", Value: 1}, {Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}}, Options: options.Index().SetName("project_created")},
			{Keys: bson.D{{Key: "projectId", Value: 1}, {Key: "name", Value: 1}, {Key: "_id", Value: 1}}, Options: options.Index().SetName("project_name")},
			{Keys: bson.D{{Key: "projectId", Value: 1}, {Key: "email", Value: 1}, {Key: "_id", Value: 1}}, Options: options.Index().SetName("project_email")},
			{Keys: bson.D{{Key: "projectId", Value: 1}, {Key: "phoneNumber", Value: 1}, {Key: "_id", Value: 1}}, Options: options.Index().SetName("project_phone")},
		},
		auditColl: {
			{Keys: bson.D{{Key: "projectId", Value: 1}, {Key: "time", Value: -1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName("project_time")},
		},
		m2mColl: {
			{Keys: bson.D{{Key: "clientId", Value: 1}}, Options: options.Index().SetName("client_id").SetUnique(true)},
			{Keys: bson.D{{Key: "projectId", Value: 1}, {Key: "roleIds", Value: 1}}, Options: options.Index().SetName("project_roles")},
			{Keys: bson.D{{Key: "projectId", Value: 1}, {Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}}, Options: options.Index().SetName("project_created")},
			{Keys: bson.D{{Key: "projectId", Value: 1}, {Key: "name", Value: 1}, {Key: "_id", Value: 1}}, Options: options.Index().SetName("project_name")},
		},
		membershipsColl: {
			{Keys: bson.D{{Key: "projectId", Value: 1}, {Key: "roleIds", Value: 1}}, Options: options.Index().SetName("project_roles")},
			{Keys: bson.D{{Key: "projectId", Value: 1}, {Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}}, Options: options.Index().SetName("project_created")},
			{Keys: bson.D{{Key: "projectId", Value: 1}, {Key: "name", Value: 1}, {Key: "_id", Value: 1}}, Options: options.Index().SetName("project_name")},
			{Keys: bson.D{{Key: "projectId", Value: 1}, {Key: "email", Value: 1}, {Key: "_id", Value: 1}}, Options: options.Index().SetName("project_email")},
			{Keys: bson.D{{Key: "developerId", Value: 1}}, Options: options.Index().SetName("developer")},
			{Keys: bson.D{{Key: "invitation.hash", Value: 1}}, Options: options.Index().SetName("invitation").SetSparse(true)},
		},
		developersColl: {
			{Keys: bson.D{{Key: "email", Value: 1}}, Options: options.Index().SetName("email").SetUnique(true)},
		},
		keysColl: {
			{Keys: bson.D{{Key: "projectId", Value: 1}, {Key: "generation", Value: -1}}, Options: options.Index().SetName("project_generation")},
		},
		applicationsColl: {
			{Keys: bson.D{{Key: "clientId", Value: 1}}, Options: options.Index().SetName("client_id").SetUnique(true)},
		},
		ssoConnectionsColl: {
			{Keys: bson.D{{Key: "projectId", Value: 1}, {Key: "name", Value: 1}}, Options: options.Index().SetName("project_name").SetUnique(true)},
		},
		// The OpenID provider's documents (oidc.go).
		authRequestsColl: {
			{Keys: bson.D{{Key: "projectId", Value: 1}, {Key: "codeHash", Value: 1}}, Options: options.Index().SetName("project_code")},
		},
		grantsColl: {
			{Keys: bson.D{{Key: "projectId", Value: 1}, {Key: "userId", Value: 1}}, Options: options.Index().SetName("project_user")},
		},
		sessionsColl: {
			{Keys: bson.D{{Key: "projectId", Value: 1}, {Key: "userId", Value: 1}}, Options: options.Index().SetName("project_user")},
		},
	}
}

// indexDef is the part of an index definition Atrium relies on: the keys in
// order with their directions, and the unique and sparse flags. Other options
// an existing index carries (a partial filter, a TTL, a collation) change
// what it enforces, so they are kept to be reported as differences.
type indexDef struct {
	name   string
	keys   bson.D // values normalised to int32 1 or -1 where numeric
	unique bool
	sparse bool
	extra  []string // options Atrium never sets, e.g. "expireAfterSeconds"
}

// ensureIndexes makes every collection's indexes match indexes(): it lists
// what exists, leaves what matches, creates what is missing and refuses,
// naming the index and the difference, when an existing index has a wanted
// name with another definition or the wanted keys under another name.
//
// Missing indexes are created one createIndexes command at a time. FerretDB
// v1.24.2 (the embedded engine) panics in validateIndexesForCreation
// (internal/handler/msg_createindexes.go: slices.Delete with an index of the
// original slice) when one command names two or more indexes that already
// exist, and drops the connection, which the driver reports as EOF. Listing
// first and creating singly never reaches that path; on MongoDB it costs a
// few round trips at start-up only.
func (d *DB) ensureIndexes(ctx context.Context) error {
	wanted := indexes()
	names := make([]string, 0, len(wanted))
	for coll := range wanted {
		if !d.split || !perProject[coll] {
			names = append(names, coll)
		}
	}
	if d.split {
		// The per-project collections that exist; the ones made later are
		// reconciled when first written (DB.ready).
		existing, err := d.db.ListCollectionNames(ctx, bson.D{})
		if err != nil {
			return fmt.Errorf("store: listing collections: %w", err)
		}
		for _, name := range existing {
			if _, ok := kindOf(name); ok {
				names = append(names, name)
			}
		}
	}
	sort.Strings(names) // a stable order makes the first reported problem stable
	for _, name := range names {
		kind := name
		if k, ok := kindOf(name); ok {
			kind = k
		}
		if err := d.reconcileCollection(ctx, name, d.indexesOf(kind)); err != nil {
			return err
		}
		if kind != name {
			d.readyColls.Store(name, true)
		}
	}
	return nil
}

// reconcileCollection makes the indexes of the collection name match the
// models.
func (d *DB) reconcileCollection(ctx context.Context, name string, models []mongo.IndexModel) error {
	if len(models) == 0 {
		return nil
	}
	view := d.db.Collection(name).Indexes()
	existing, err := listIndexes(ctx, view)
	if err != nil {
		return fmt.Errorf("store: indexes of %s: %w", name, err)
	}
	for _, m := range models {
		want := modelDef(m)
		found, err := reconcile(want, existing, d.keepsSparse)
		if err != nil {
			return fmt.Errorf("store: collection %s: %w", name, err)
		}
		if found {
			continue
		}
		if _, err := view.CreateOne(ctx, m); err != nil {
			return fmt.Errorf("store: creating index %s of %s: %w", want.name, name, err)
		}
	}
	return nil
}

// isFerretDB reports whether the server is FerretDB (the embedded engine),
// which names itself in buildInfo. FerretDB v1.24.2 accepts the sparse
// option of an index and ignores it (its unique indexes skip documents
// without the field anyway) and never lists it, so there the index
// comparison leaves it out; and it uses no index for reads (layout.go).
func (d *DB) isFerretDB(ctx context.Context) (bool, error) {
	info, err := d.db.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Raw()
	if err != nil {
		return false, err
	}
	_, err = info.LookupErr("ferretdbVersion")
	return err == nil, nil
}

// listIndexes reads a collection's index definitions. The driver answers a
// collection that does not exist yet with no indexes.
func listIndexes(ctx context.Context, view mongo.IndexView) ([]indexDef, error) {
	cur, err := view.List(ctx)
	if err != nil {
		return nil, err
	}
	var docs []bson.Raw
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	defs := make([]indexDef, 0, len(docs))
	for _, doc := range docs {
		def, err := rawDef(doc)
		if err != nil {
			return nil, err
		}
		defs = append(defs, def)
	}
	return defs, nil
}

// rawDef reads one document of listIndexes.
func rawDef(doc bson.Raw) (indexDef, error) {
	var spec struct {
		Name string `bson:"name"`
		Key  bson.D `bson:"key"`
	}
	if err := bson.Unmarshal(doc, &spec); err != nil {
		return indexDef{}, fmt.Errorf("reading an index definition: %w", err)
	}
	def := indexDef{name: spec.Name, keys: normalKeys(spec.Key), unique: flag(doc, "unique"), sparse: flag(doc, "sparse")}
	for _, opt := range []string{"partialFilterExpression", "expireAfterSeconds", "collation", "hidden"} {
		if _, err := doc.LookupErr(opt); err == nil {
			def.extra = append(def.extra, opt)
		}
	}
	return def, nil
}

// flag reads a boolean option of an index document; indexes made by old
// servers or shells may carry it as a number (unique: 1).
func flag(doc bson.Raw, name string) bool {
	v, err := doc.LookupErr(name)
	if err != nil {
		return false
	}
	if b, ok := v.BooleanOK(); ok {
		return b
	}
	if f, ok := v.AsFloat64OK(); ok {
		return f != 0
	}
	return false
}

// modelDef is the definition of a wanted index model.
func modelDef(m mongo.IndexModel) indexDef {
	var o options.IndexOptions
	for _, set := range m.Options.List() {
		_ = set(&o)
	}
	def := indexDef{keys: normalKeys(m.Keys.(bson.D))}
	if o.Name != nil {
		def.name = *o.Name
	}
	def.unique = o.Unique != nil && *o.Unique
	def.sparse = o.Sparse != nil && *o.Sparse
	return def
}

// normalKeys turns numeric directions of any BSON number type (MongoDB may
// answer 1, 1.0 or int64 1) into int32 1 or -1, so that keys compare by value.
func normalKeys(keys bson.D) bson.D {
	out := make(bson.D, len(keys))
	for i, e := range keys {
		v := e.Value
		var f float64
		switch n := v.(type) {
		case int32:
			f = float64(n)
		case int64:
			f = float64(n)
		case float64:
			f = n
		default:
			out[i] = e
			continue
		}
		if f < 0 {
			v = int32(-1)
		} else {
			v = int32(1)
		}
		out[i] = bson.E{Key: e.Key, Value: v}
	}
	return out
}

// reconcile says whether want already exists among existing, or why it
// cannot be created next to them.
func reconcile(want indexDef, existing []indexDef, keepsSparse bool) (bool, error) {
	for _, have := range existing {
		sameKeys := formatKeys(have.keys) == formatKeys(want.keys)
		switch {
		case have.name == want.name:
			if !keepsSparse {
				have.sparse = want.sparse
			}
			if diff := differences(want, have); diff != "" {
				return false, fmt.Errorf("index %s exists with another definition (%s); drop it (db.<collection>.dropIndex(%q)) and start Atrium again to recreate it", want.name, diff, want.name)
			}
			return true, nil
		case sameKeys:
			return false, fmt.Errorf("index %s is wanted on keys %s, which index %s already covers; drop index %s (db.<collection>.dropIndex(%q)) and start Atrium again", want.name, formatKeys(want.keys), have.name, have.name, have.name)
		}
	}
	return false, nil
}

// differences describes how have differs from want, or is empty.
func differences(want, have indexDef) string {
	var diffs []string
	if w, h := formatKeys(want.keys), formatKeys(have.keys); w != h {
		diffs = append(diffs, fmt.Sprintf("keys %s, wanted %s", h, w))
	}
	if want.unique != have.unique {
		diffs = append(diffs, fmt.Sprintf("unique: %t, wanted %t", have.unique, want.unique))
	}
	if want.sparse != have.sparse {
		diffs = append(diffs, fmt.Sprintf("sparse: %t, wanted %t", have.sparse, want.sparse))
	}
	for _, opt := range have.extra {
		diffs = append(diffs, fmt.Sprintf("has %s, wanted none", opt))
	}
	return strings.Join(diffs, "; ")
}

// formatKeys writes keys as {a: 1, b: -1}, in order.
func formatKeys(keys bson.D) string {
	parts := make([]string, len(keys))
	for i, e := range keys {
		parts[i] = fmt.Sprintf("%s: %v", e.Key, e.Value)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
