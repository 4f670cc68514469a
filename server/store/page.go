package store

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ErrBadCursor is returned (wrapped) by ParseCursor for a cursor that no list handed out.
var ErrBadCursor = errors.New("store: bad cursor")

// Key is a row's position in its list's order: the values of the columns the list sorts by, each list
// using the fields it needs (see the List methods). Lists are keyset-paginated on it: a page holds the rows
// strictly after Page.After, so rows inserted or deleted meanwhile never shift a page (no OFFSET).
type Key struct {
	At  time.Time // created_at, first_seen_at or at
	Str string    // e-mail (users) or name (printers)
	ID  string    // string row ID
	Seq int64     // numeric row ID (audit entries)
}

// IsZero reports whether k is the position before the first row.
func (k Key) IsZero() bool { return k.At.IsZero() && k.Str == "" && k.ID == "" && k.Seq == 0 }

// TimeKey is the key of a row of a list ordered by a time and then a string ID.
func TimeKey(at time.Time, id string) Key { return Key{At: at, ID: id} }

// NameKey is the key of a row of a list ordered by a name (or e-mail) and then its ID.
func NameKey(name, id string) Key { return Key{Str: name, ID: id} }

// SeqKey is the key of a row of a list ordered by a time and then a numeric ID.
func SeqKey(at time.Time, seq int64) Key { return Key{At: at, Seq: seq} }

// Page asks a list for the rows strictly after After (the start when zero), at most Limit of them.
type Page struct {
	Limit int // <= 0: every row, unless the list says otherwise
	After Key
}

// cursorJSON is a Key as a cursor carries it (times as Unix microseconds, the stores' precision).
type cursorJSON struct {
	At  int64  `json:"t,omitempty"`
	Str string `json:"s,omitempty"`
	ID  string `json:"i,omitempty"`
	Seq int64  `json:"n,omitempty"`
}

// Cursor encodes k as an opaque, URL-safe string for clients ("" for the zero key).
func (k Key) Cursor() string {
	if k.IsZero() {
		return ""
	}
	c := cursorJSON{Str: k.Str, ID: k.ID, Seq: k.Seq}
	if !k.At.IsZero() {
		c.At = k.At.UnixMicro()
	}
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ParseCursor decodes a cursor made by Key.Cursor ("" is the zero key). ErrBadCursor for anything else.
func ParseCursor(s string) (Key, error) {
	if s == "" {
		return Key{}, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 1024 {
		return Key{}, fmt.Errorf("parse cursor: %w", ErrBadCursor)
	}
	var c cursorJSON
	if err := json.Unmarshal(b, &c); err != nil {
		return Key{}, fmt.Errorf("parse cursor: %w", ErrBadCursor)
	}
	k := Key{Str: c.Str, ID: c.ID, Seq: c.Seq}
	if c.At != 0 {
		k.At = time.UnixMicro(c.At).UTC()
	}
	if k.IsZero() {
		return Key{}, fmt.Errorf("parse cursor: empty: %w", ErrBadCursor)
	}
	return k, nil
}

// NextPage cuts rows, read with a limit of limit+1, to limit rows and returns the key of the last row kept
// when the extra row shows there is a next page (the zero key otherwise).
func NextPage[T any](rows []T, limit int, key func(T) Key) ([]T, Key) {
	if limit <= 0 || len(rows) <= limit {
		return rows, Key{}
	}
	rows = rows[:limit]
	return rows, key(rows[limit-1])
}
