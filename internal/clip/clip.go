// Package clip shortens untrusted text to a byte budget for logs, error messages and wire fields without
// ever cutting a UTF-8 character in half.
package clip

import (
	"strings"
	"unicode/utf8"
)

// String returns s cut to at most n bytes at a character boundary, with invalid UTF-8 dropped first,
// so the result is always valid UTF-8 and never longer than n. A negative n counts as zero.
func String(s string, n int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "")
	}
	if n <= 0 {
		return ""
	}
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
