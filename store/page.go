package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"atrium/iam"
)

// ErrBadCursor is returned (as a *CursorError) for a cursor this store did
// not make.
var ErrBadCursor = errors.New("store: malformed cursor")

// CursorError is a cursor this store did not make, or made for another
// order; Arg names it: "after" or "before".
type CursorError struct {
	Arg    string
	reason string
}

func (e *CursorError) Error() string {
	if e.reason != "" {
		return ErrBadCursor.Error() + ": " + e.reason
	}
	return ErrBadCursor.Error()
}

// Is makes a CursorError an ErrBadCursor.
func (e *CursorError) Is(target error) bool { return target == ErrBadCursor }

// Page selects a slice of a listing: keyset pagination on the order field of
// the listing (ties broken by _id), a range query on an indexed key, never a
// skip. The slice lies after the item of After and before the item of
// Before (either may be empty); it is the first Limit items of that range,
// or its last Limit items when FromEnd is set (they are still returned in
// the listing's order).
type Page struct {
	Desc          bool
	After, Before string // cursors of items of earlier pages
	FromEnd       bool
	Limit         int
	field         string // the field ordered by, which the listing sets
}

// cursor is the position of an item: its order field, key and id. Time
// keys travel as RFC 3339 text and are parsed back.
type cursor struct {
	Field string `json:"f"`
	Key   string `json:"k"`
	Time  bool   `json:"t,omitempty"`
	ID    string `json:"i"`
}

// cursorAt returns the opaque cursor of a stored document in a listing
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

// beyond is the range condition of the items past the cursor of arg:
// later in the listing's order when later is set, earlier otherwise.
func (p Page) beyond(arg, cur string, later bool) (bson.D, error) {
	raw, err := base64.RawURLEncoding.DecodeString(cur)
	var c cursor
	if err != nil || json.Unmarshal(raw, &c) != nil || c.ID == "" {
		return nil, &CursorError{Arg: arg}
	}
	if c.Field != p.field {
		return nil, &CursorError{Arg: arg, reason: "it was made for another order"}
	}
	var key any = c.Key
	if c.Time {
		t, err := time.Parse(time.RFC3339Nano, c.Key)
		if err != nil {
			return nil, &CursorError{Arg: arg}
		}
		key = t
	}
	op := "$gt"
	if later == p.Desc {
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

// within is the range condition of the page's After and Before.
func (p Page) within() (bson.D, error) {
	var conds []bson.D
	if p.After != "" {
		c, err := p.beyond("after", p.After, true)
		if err != nil {
			return nil, err
		}
		conds = append(conds, c)
	}
	if p.Before != "" {
		c, err := p.beyond("before", p.Before, false)
		if err != nil {
			return nil, err
		}
		conds = append(conds, c)
	}
	switch len(conds) {
	case 0:
		return nil, nil
	case 1:
		return conds[0], nil
	}
	return bson.D{{Key: "$and", Value: bson.A{conds[0], conds[1]}}}, nil
}

// list reads one page (Limit items) of a collection matching filter,
// ordered by field, and the cursor of each item.
func list[E, D any](ctx context.Context, s scoped, c codec[E, D], filter bson.D, field string, p Page) ([]E, []string, error) {
	p.field = field
	within, err := p.within()
	if err != nil {
		return nil, nil, err
	}
	// The last items of a range are the first ones read the other way.
	dir := 1
	if p.Desc != p.FromEnd {
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
	if err := s.find(ctx, append(filter, within...), opts, &raws); err != nil {
		return nil, nil, err
	}
	if p.FromEnd {
		slices.Reverse(raws)
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

// RolePage reads a page of the project's roles, ordered by name.
func (t *Tenant) RolePage(ctx context.Context, p Page) ([]iam.Role, []string, error) {
	return list(ctx, t.collection(rolesColl), roleCodec, bson.D{}, "name", p)
}

// ApplicationPage reads a page of the project's applications, ordered by
// name.
func (t *Tenant) ApplicationPage(ctx context.Context, p Page) ([]iam.Application, []string, error) {
	return list(ctx, t.collection(applicationsColl), applicationCodec, bson.D{}, "name", p)
}
