package keys

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// PasswordParams are argon2id parameters. The defaults (DefaultPasswordParams) follow OWASP's
// recommendation m=46 MiB, t=1, p=1: about 45 ms per hash on one core of the 2-core build machine (measured),
// so a sign-in stays well under 100 ms and two can run at once. At most two hashes run concurrently (a
// semaphore), which bounds password hashing memory to about 92 MiB.
type PasswordParams struct {
	Time    uint32 // iterations
	Memory  uint32 // KiB
	Threads uint8
}

// DefaultPasswordParams are used unless WithPasswordParams says otherwise.
var DefaultPasswordParams = PasswordParams{Time: 1, Memory: 46 * 1024, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
)

var errBadHash = errors.New("keys: malformed password hash")

// hashPassword returns the PHC-style encoding $argon2id$v=19$m=…,t=…,p=…$salt$key.
func hashPassword(pw string, p PasswordParams) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("keys: hash password: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// verifyPassword checks pw against an encoded hash using the parameters stored in it.
func verifyPassword(pw, encoded string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false, errBadHash
	}
	var p PasswordParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false, errBadHash
	}
	if p.Time == 0 || p.Threads == 0 || p.Memory < 8*uint32(p.Threads) || p.Memory > 1<<22 || p.Time > 64 {
		return false, errBadHash
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, errBadHash
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// passwordAlphabet leaves out look-alikes (0/O, 1/l/I) so a printed password can be typed back.
const passwordAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// newPassword returns a random print-safe password: four groups of five characters joined by '-'
// (20 characters from a 56-letter alphabet, about 116 bits).
func newPassword() (string, error) {
	var b strings.Builder
	buf := make([]byte, 1)
	for i := 0; i < 20; i++ {
		if i > 0 && i%5 == 0 {
			b.WriteByte('-')
		}
		for {
			if _, err := rand.Read(buf); err != nil {
				return "", fmt.Errorf("keys: new password: %w", err)
			}
			// rejection sampling: 256 - 256%56 = 224
			if int(buf[0]) < 256-256%len(passwordAlphabet) {
				b.WriteByte(passwordAlphabet[int(buf[0])%len(passwordAlphabet)])
				break
			}
		}
	}
	return b.String(), nil
}
