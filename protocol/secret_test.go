package protocol

import (
	"errors"
	"fmt"
	"hash/crc32"
	"math/big"
	"strings"
	"testing"
)

func TestNewSecretParses(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range Kinds {
		for range 50 {
			s, err := NewSecret(k)
			if err != nil {
				t.Fatal(err)
			}
			if len(s) != SecretLen || !strings.HasPrefix(s, string(k)) {
				t.Fatalf("secret has wrong shape: len %d prefix %q", len(s), s[:4])
			}
			got, err := ParseSecret(s)
			if err != nil || got != k {
				t.Fatalf("ParseSecret = %v, %v; want %v", got, err, k)
			}
			if seen[s] {
				t.Fatal("NewSecret repeated a secret")
			}
			seen[s] = true
		}
	}
}

func TestParseSecretRejects(t *testing.T) {
	s, err := NewSecret(KindPrintClient)
	if err != nil {
		t.Fatal(err)
	}
	// flip one body character to another valid one
	b := []byte(s)
	if b[10] == 'a' {
		b[10] = 'b'
	} else {
		b[10] = 'a'
	}
	mistyped := string(b)
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", ErrSecretEmpty},
		{"spaces", "   \n", ErrSecretEmpty},
		{"unknown prefix", "ghp_" + s[4:], ErrSecretPrefix},
		{"no prefix", s[4:], ErrSecretPrefix},
		{"truncated", s[:len(s)-5], ErrSecretTruncated},
		{"truncated to prefix", s[:6], ErrSecretTruncated},
		{"too long", s + "x", ErrSecretTooLong},
		{"two pasted", s + s, ErrSecretTooLong},
		{"inner space", s[:20] + " " + s[21:], ErrSecretCharset},
		{"punctuation", s[:20] + "-" + s[21:], ErrSecretCharset},
		{"mistyped", mistyped, ErrSecretChecksum},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSecret(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("ParseSecret error = %v, want %v", err, tt.want)
			}
			if len(s) > 8 && strings.Contains(err.Error(), s[4:12]) {
				t.Fatal("error message contains the secret")
			}
		})
	}
	if _, err := ParseSecret("  " + s + "\r\n"); err != nil {
		t.Fatalf("a paste with surrounding whitespace must parse: %v", err)
	}
}

func TestSecretPrefix(t *testing.T) {
	s, _ := NewSecret(KindUser)
	if p := SecretPrefix(s); p != s[:8] || !strings.HasPrefix(p, "pdu_") {
		t.Fatalf("SecretPrefix = %q", p)
	}
	if SecretPrefix("pdu") != "" {
		t.Fatal("SecretPrefix of a short string must be empty")
	}
}

func FuzzParseSecret(f *testing.F) {
	s, _ := NewSecret(KindShared)
	f.Add(s)
	f.Add("pdc_")
	f.Fuzz(func(t *testing.T, in string) {
		k, err := ParseSecret(in)
		if err == nil && !strings.HasPrefix(NormalizeSecret(in), string(k)) {
			t.Fatalf("kind %q does not match input", k)
		}
	})
}

// TestChecksumDigits: the big.Int-free checksum writes the same digits as encodeBase62, which made every
// secret issued so far.
func TestChecksumDigits(t *testing.T) {
	inputs := []string{"", "pdc_", "printdock", strings.Repeat("x", 100)}
	for i := range 2000 {
		inputs = append(inputs, fmt.Sprintf("pdc_%043d", i*7919))
	}
	for _, s := range inputs {
		want := encodeBase62(new(big.Int).SetUint64(uint64(crc32.ChecksumIEEE([]byte(s)))), checksumLen)
		if got := checksum(s); got != want {
			t.Fatalf("checksum(%q) = %s, want %s", s, got, want)
		}
	}
}
