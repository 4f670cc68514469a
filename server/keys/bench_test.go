package keys_test

import (
	"testing"

	"golang.org/x/crypto/bcrypt"

	"printdock/server/keys"
)

// BenchmarkVerify is Authenticate of a valid print client secret, in process, as agents and integrations
// reconnect and call: parse and checksum, HMAC-SHA256, a hit in the verified-credential cache.
func BenchmarkVerify(b *testing.B) { benchVerify(b, false) }

// BenchmarkVerifyParallel is BenchmarkVerify on every CPU at once (the cache's lock is shared).
func BenchmarkVerifyParallel(b *testing.B) { benchVerify(b, true) }

// BenchmarkVerifyUncached is BenchmarkVerify without the cache, against real SQLite: parse and checksum,
// HMAC-SHA256, one indexed lookup, constant-time comparison (a cache miss costs this).
func BenchmarkVerifyUncached(b *testing.B) { benchVerify(b, false, keys.WithAuthCache(0, 0)) }

func benchVerify(b *testing.B, parallel bool, opts ...keys.Option) {
	e := newEnv(b, opts...)
	c, err := e.svc.CreateClientKey(e.ctx, e.admin, keys.NewClientKey{Description: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	verify := func() {
		if _, err := e.svc.Authenticate(e.ctx, c.Secret, "", "127.0.0.1:1"); err != nil {
			b.Error(err)
		}
	}
	b.ReportAllocs()
	if parallel {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				verify()
			}
		})
		return
	}
	for b.Loop() {
		verify()
	}
}

// BenchmarkBcryptCost10 is the reference point: verifying one bcrypt hash at cost 10, what a
// password-hash-per-request design would pay on every connection.
func BenchmarkBcryptCost10(b *testing.B) {
	pw := []byte("pdc_thisIsNotARealSecretButHasTheSameLength0123456")
	h, err := bcrypt.GenerateFromPassword(pw, 10)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := bcrypt.CompareHashAndPassword(h, pw); err != nil {
			b.Fatal(err)
		}
	}
}
