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

	"atrium/iam"
)

// ErrBadCursor is returned for a cursor this store did not make.
var ErrBadCursor = errors.New("store: malformed cursor")

// Page selects a slice of a listing: keyset pagination on the order field of
// the listing (ties broken by _id), a range query on an indexed key, never a
// skip.
type Page struct {
	Desc  bool
	After string // cursor of the last item of the previous page
	Limit int
	field string // the field ordered by, which the listing sets
}

// cursor is the position after an item: its order field, key and id. Time
// keys travel as RFC 3339 text and are parsed back.
type cursor struct {
	Field string `json:"f"`
	Key   string `json:"k"`
	Time  bool   `json:"t,omitempty"`
	ID    string `json:"i"`
}

// cursorAt returns the opaque cursor after a stored document in a listing
// ordered by field.
func cursorAt(field string, doc bson.Raw) string {
	id, _ := doc.Lookup("_id").StringValueOK()
	c := cursor{Field: field, ID: id}
	key := doc.Lookup(field)
	if t, ok := key.TimeOK(); ok {
		c.Key, c.Time = t.UTC().Format(time.RFC3339Nano), true
	} else {
		c.Key, _ = key.StringValueOK()
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
	if c.Field != p.field {
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
	if p.field == "_id" { // the id is the whole key
		return bson.D{{Key: "_id", Value: bson.D{{Key: op, Value: c.ID}}}}, nil
	}
	return bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: p.field, Value: bson.D{{Key: op, Value: key}}}},
		bson.D{{Key: p.field, Value: key}, {Key: "_id", Value: bson.D{{Key: op, Value: c.ID}}}},
	}}}, nil
}

// orderField is the field of an order in a listing's orders; an unknown
// order is the default, by creation.
func orderField(orders map[iam.UserOrder]string, order iam.UserOrder) string {
	if field, ok := orders[order]; ok {
		return field
	}
	return orders[iam.UsersByCreatedAt]
}

// list reads one page (Limit items) of a collection matching filter,
// ordered by field, and the cursor after each item.
func list[E, D any](ctx context.Context, s scoped, c codec[E, D], filter bson.D, field string, p Page) ([]E, []string, error) {
	p.field = field
	after, err := p.after()
	if err != nil {
		return nil, nil, err
	}
	dir := 1
	if p.Desc {
		dir = -1
	}
	// One batch holds the whole page (one more than the limit, so that the
	// engine closes the cursor instead of leaving a getMore to make).
	sort := bson.D{{Key: field, Value: dir}, {Key: "_id", Value: dir}}
	if field == "_id" {
		sort = sort[1:]
	}
	opts := options.Find().SetSort(sort).
		SetLimit(int64(p.Limit)).SetBatchSize(int32(p.Limit) + 1)
	var raws []bson.Raw
	if err := s.find(ctx, append(filter, after...), opts, &raws); err != nil {
		return nil, nil, err
	}
	items, cursors := make([]E, len(raws)), make([]string, len(raws))
	for i, raw := range raws {
		var d D
		if err := bson.Unmarshal(raw, &d); err != nil {
			return nil, nil, err
		}
		items[i], cursors[i] = *c.from(&d), cursorAt(field, raw)
	}
	return items, cursors, nil
}
