package protocol

import (
	"crypto/rand"
	"errors"
	"fmt"
	"hash/crc32"
	"math/big"
	"strings"
)

// SecretKind says what a secret is, by its prefix.
type SecretKind string

// Secret kinds and their prefixes (DESIGN §2).
const (
	KindPrintClient SecretKind = "pdc_" // print client secret, one per installation
	KindUser        SecretKind = "pdu_" // a user's personal API key
	KindShared      SecretKind = "pds_" // a portal's shared API access secret
	KindOAuthClient SecretKind = "pdo_" // an OAuth client's secret
	KindOAuthToken  SecretKind = "pdt_" // a short-lived OAuth access token
)

// Kinds lists every known kind.
var Kinds = []SecretKind{KindPrintClient, KindUser, KindShared, KindOAuthClient, KindOAuthToken}

const (
	prefixLen   = 4
	bodyLen     = 43 // 256 random bits in base62
	checksumLen = 6  // CRC32 in base62
	// SecretLen is the length of every printdock secret.
	SecretLen = prefixLen + bodyLen + checksumLen
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Errors from ParseSecret. Their texts are safe to show staff and never contain the secret.
var (
	ErrSecretEmpty     = errors.New("the secret is empty")
	ErrSecretPrefix    = errors.New("this is not a printdock secret: it should start with pdc_, pdu_ or pds_")
	ErrSecretTruncated = errors.New("the secret is too short: it was probably cut off when copying; copy the whole secret again")
	ErrSecretTooLong   = errors.New("the secret is too long: something extra was pasted with it")
	ErrSecretCharset   = errors.New("the secret contains characters that do not belong in it (only letters and digits after the prefix)")
	ErrSecretChecksum  = errors.New("the secret's checksum does not match: a character was mistyped or changed; copy it again")
)

// NewSecret returns a fresh random secret of kind k.
func NewSecret(k SecretKind) (string, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("protocol: new secret: %w", err)
	}
	body := encodeBase62(new(big.Int).SetBytes(raw[:]), bodyLen)
	return string(k) + body + checksum(string(k)+body), nil
}

// ParseSecret checks a secret's prefix, length, alphabet and checksum, without any network call, and
// returns its kind. Surrounding whitespace (a pasted newline) is ignored; use NormalizeSecret to get the
// exact string to store and send.
func ParseSecret(s string) (SecretKind, error) {
	s = NormalizeSecret(s)
	if s == "" {
		return "", ErrSecretEmpty
	}
	if len(s) < prefixLen {
		return "", ErrSecretPrefix
	}
	kind := SecretKind(s[:prefixLen])
	known := false
	for _, k := range Kinds {
		if k == kind {
			known = true
			break
		}
	}
	if !known {
		return "", ErrSecretPrefix
	}
	if len(s) > SecretLen {
		return "", ErrSecretTooLong
	}
	for i := prefixLen; i < len(s); i++ {
		if !isBase62[s[i]] {
			return "", ErrSecretCharset
		}
	}
	if len(s) < SecretLen {
		return "", ErrSecretTruncated
	}
	body, sum := s[:prefixLen+bodyLen], s[prefixLen+bodyLen:]
	if checksum(body) != sum {
		return "", ErrSecretChecksum
	}
	return kind, nil
}

// NormalizeSecret trims whitespace a paste may have added.
func NormalizeSecret(s string) string { return strings.TrimSpace(s) }

// SecretPrefix returns the part of a secret that is safe to display: its kind and first 4 body
// characters (e.g. "pdc_7GhQ"). It identifies a key in lists without revealing it.
func SecretPrefix(s string) string {
	if len(s) < prefixLen+4 {
		return ""
	}
	return s[:prefixLen+4]
}

// checksum is the CRC32 of s in checksumLen base62 digits (encodeBase62's digits, without big.Int: the
// server checks it on every authentication).
func checksum(s string) string {
	var out [checksumLen]byte
	n := crc32.ChecksumIEEE([]byte(s))
	for i := checksumLen - 1; i >= 0; i-- {
		out[i] = base62[n%62]
		n /= 62
	}
	return string(out[:])
}

// isBase62 is the set of base62's characters.
var isBase62 = func() (t [256]bool) {
	for i := range len(base62) {
		t[base62[i]] = true
	}
	return t
}()

func encodeBase62(n *big.Int, width int) string {
	out := make([]byte, width)
	base := big.NewInt(62)
	mod := new(big.Int)
	n = new(big.Int).Set(n)
	for i := width - 1; i >= 0; i-- {
		n.DivMod(n, base, mod)
		out[i] = base62[mod.Int64()]
	}
	return string(out)
}
