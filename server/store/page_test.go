package store

import (
	"encoding/base64"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestCursorRoundTrip(t *testing.T) {
	at := time.Date(2026, 12, 6, 1, 2, 3, 456789000, time.UTC)
	for _, k := range []Key{
		TimeKey(at, "job_01HZX9"),
		NameKey("Zebra ZD421 – Lager 2", "prn_3f9a1c"),
		NameKey("", "prn_noname"),
		SeqKey(at, 42),
		{Seq: 7},
	} {
		c := k.Cursor()
		got, err := ParseCursor(c)
		if err != nil || got != k {
			t.Errorf("%+v: cursor %q parsed as %+v, %v", k, c, got, err)
		}
	}
	if c := (Key{}).Cursor(); c != "" {
		t.Errorf("zero key's cursor = %q", c)
	}
	if k, err := ParseCursor(""); err != nil || !k.IsZero() {
		t.Errorf(`ParseCursor("") = %+v, %v`, k, err)
	}
}

func TestParseCursorRefuses(t *testing.T) {
	b64 := base64.RawURLEncoding.EncodeToString
	for _, c := range []string{
		"%%%", "not base64!", b64([]byte("not json")), b64([]byte("{}")), b64([]byte(`{"t":"x"}`)),
		b64([]byte(`[1,2]`)), b64(make([]byte, 2000)), base64.StdEncoding.EncodeToString([]byte(`{"i":"xy"}`)), // padded
	} {
		if k, err := ParseCursor(c); !errors.Is(err, ErrBadCursor) {
			t.Errorf("ParseCursor(%q) = %+v, %v; want ErrBadCursor", c, k, err)
		}
	}
}

func TestNextPage(t *testing.T) {
	key := func(id string) Key { return Key{ID: id} }
	for _, tc := range []struct {
		rows  []string
		limit int
		want  []string
		next  string
	}{
		{[]string{"a", "b", "c"}, 2, []string{"a", "b"}, "b"},
		{[]string{"a", "b"}, 2, []string{"a", "b"}, ""},
		{[]string{"a"}, 2, []string{"a"}, ""},
		{nil, 2, nil, ""},
		{[]string{"a", "b"}, 0, []string{"a", "b"}, ""},
	} {
		got, next := NextPage(tc.rows, tc.limit, key)
		if !slices.Equal(got, tc.want) || next.ID != tc.next {
			t.Errorf("NextPage(%v, %d) = %v, %+v; want %v, %q", tc.rows, tc.limit, got, next, tc.want, tc.next)
		}
	}
}
