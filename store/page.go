package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// ErrBadCursor is returned for a cursor this store did not make.
var ErrBadCursor = errors.New("store: malformed cursor")

// Page selects a slice of a listing ordered by one field, ties broken by
// _id: keyset pagination, a range query on an indexed key, never a skip.
type Page struct {
	Field string // the field ordered by
	Desc  bool
	After string // cursor of the last item of the previous page
	Limit int
}

// cursor is the position after an item: its order field, key and id. Time
// keys travel as RFC 3339 text and are parsed back.
type cursor struct {
	Field string `json:"f"`
	Key   string `json:"k"`
	Time  bool   `json:"t,omitempty"`
	ID    string `json:"i"`
}

// Cursor returns the opaque cursor after the item with this key and id.
func Cursor(field string, key any, id string) string {
	c := cursor{Field: field, ID: id}
	switch k := key.(type) {
	case time.Time:
		c.Key, c.Time = k.UTC().Format(time.RFC3339Nano), true
	case string:
		c.Key = k
	}
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// after is the range condition that starts a page after its cursor.
func (p Page) after() (bson.D, error) {
	if p.After == "" {
		return nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(p.After)
	var c cursor
	if err != nil || json.Unmarshal(raw, &c) != nil || c.ID == "" {
		return nil, ErrBadCursor
	}
	if c.Field != p.Field {
		return nil, fmt.Errorf("%w: it was made for another order", ErrBadCursor)
	}
	var key any = c.Key
	if c.Time {
		t, err := time.Parse(time.RFC3339Nano, c.Key)
		if err != nil {
			return nil, ErrBadCursor
		}
		key = t
	}
	op := "$gt"
	if p.Desc {
		op = "$lt"
	}
	if p.Field == "_id" { // the id is the whole key
		return bson.D{{Key: "_id", Value: bson.D{{Key: op, Value: c.ID}}}}, nil
	}
	return bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: p.Field, Value: bson.D{{Key: op, Value: key}}}},
		bson.D{{Key: p.Field, Value: key}, {Key: "_id", Value: bson.D{{Key: op, Value: c.ID}}}},
	}}}, nil
}

// list reads one page (Limit items) of a collection matching filter.
func list[T any](ctx context.Context, s scoped, filter bson.D, p Page) ([]T, error) {
	after, err := p.after()
	if err != nil {
		return nil, err
	}
	dir := 1
	if p.Desc {
		dir = -1
	}
	// One batch holds the whole page (one more than the limit, so that the
	// engine closes the cursor instead of leaving a getMore to make).
	sort := bson.D{{Key: p.Field, Value: dir}, {Key: "_id", Value: dir}}
	if p.Field == "_id" {
		sort = sort[1:]
	}
	opts := options.Find().SetSort(sort).
		SetLimit(int64(p.Limit)).SetBatchSize(int32(p.Limit) + 1)
	out := []T{}
	return out, s.find(ctx, append(filter, after...), opts, &out)
}
