package clip

import (
	"testing"
	"unicode/utf8"
)

func TestString(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"", 5, ""},
		{"short", 10, "short"},
		{"exactly", 7, "exactly"},
		{"abcdef", 3, "abc"},
		{"abc", 0, ""},
		{"abc", -1, ""},
		{"héllo", 2, "h"},              // é is 2 bytes at [1,3): cutting at 2 would split it
		{"héllo", 3, "hé"},             // boundary right after é
		{"日本語", 4, "日"},                // 3-byte runes
		{"日本語", 5, "日"},                //
		{"日本語", 6, "日本"},               //
		{"a😀b", 4, "a"},                // 4-byte rune
		{"a😀b", 5, "a😀"},               //
		{"bad\xffbyte", 20, "badbyte"}, // invalid UTF-8 dropped
		{"\xff\xfe", 5, ""},
	}
	for _, tt := range tests {
		got := String(tt.in, tt.n)
		if got != tt.want {
			t.Errorf("String(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
		if !utf8.ValidString(got) {
			t.Errorf("String(%q, %d) = %q is not valid UTF-8", tt.in, tt.n, got)
		}
	}
}

func FuzzString(f *testing.F) {
	f.Add("héllo wörld", 4)
	f.Add("\xff\x80abc", 2)
	f.Fuzz(func(t *testing.T, s string, n int) {
		got := String(s, n)
		if !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8 %q", got)
		}
		if n >= 0 && len(got) > n {
			t.Fatalf("len %d > %d", len(got), n)
		}
	})
}
