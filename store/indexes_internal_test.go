package store

import (
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// The comparison reads index documents in the shapes MongoDB answers
// listIndexes with: directions as int32, int64 or double, flags as booleans
// or numbers, options Atrium never sets.
func TestReconcileReadsMongoDBIndexDocuments(t *testing.T) {
	want := modelDef(indexes()[usersColl][0]) // email_key: {emailKey: 1}, unique, sparse
	cases := []struct {
		name  string
		doc   bson.D
		found bool
		err   string // part of the error, "" for none
	}{
		{"match, double direction", bson.D{{Key: "v", Value: 2}, {Key: "key", Value: bson.D{{Key: "emailKey", Value: 1.0}}}, {Key: "name", Value: "email_key"}, {Key: "unique", Value: true}, {Key: "sparse", Value: true}}, true, ""},
		{"match, numeric flags", bson.D{{Key: "key", Value: bson.D{{Key: "emailKey", Value: int64(1)}}}, {Key: "name", Value: "email_key"}, {Key: "unique", Value: int32(1)}, {Key: "sparse", Value: 1.0}}, true, ""},
		{"not sparse", bson.D{{Key: "key", Value: bson.D{{Key: "emailKey", Value: 1}}}, {Key: "name", Value: "email_key"}, {Key: "unique", Value: true}}, false, "sparse: false, wanted true"},
		{"descending", bson.D{{Key: "key", Value: bson.D{{Key: "emailKey", Value: -1.0}}}, {Key: "name", Value: "email_key"}, {Key: "unique", Value: true}, {Key: "sparse", Value: true}}, false, "keys {emailKey: -1}, wanted {emailKey: 1}"},
		{"a TTL", bson.D{{Key: "key", Value: bson.D{{Key: "emailKey", Value: 1}}}, {Key: "name", Value: "email_key"}, {Key: "unique", Value: true}, {Key: "sparse", Value: true}, {Key: "expireAfterSeconds", Value: 60}}, false, "has expireAfterSeconds"},
		{"same keys, other name", bson.D{{Key: "key", Value: bson.D{{Key: "emailKey", Value: 1}}}, {Key: "name", Value: "emailKey_1"}}, false, "index emailKey_1 already covers"},
		{"unrelated", bson.D{{Key: "key", Value: bson.D{{Key: "_id", Value: 1}}}, {Key: "name", Value: "_id_"}}, false, ""},
	}
	for _, c := range cases {
		raw, err := bson.Marshal(c.doc)
		if err != nil {
			t.Fatal(err)
		}
		have, err := rawDef(raw)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		found, err := reconcile(want, []indexDef{have}, true)
		if found != c.found || (c.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%s: found %t, err %v; want found %t, err containing %q", c.name, found, err, c.found, c.err)
		}
	}
}
