package webhooks

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
)

// SecretPrefix starts every signing secret (Standard Webhooks).
const SecretPrefix = "whsec_"

const secretLen = 32 // random bytes of a signing secret

// newSecret returns a new signing secret, as shown ("whsec_" + base64) and raw.
func newSecret() (string, []byte) {
	raw := make([]byte, secretLen)
	rand.Read(raw) // never fails (crypto/rand)
	return SecretPrefix + base64.StdEncoding.EncodeToString(raw), raw
}

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newID returns prefix + 26 characters (128 random bits).
func newID(prefix string) string {
	var b [16]byte
	rand.Read(b[:])
	return prefix + idEncoding.EncodeToString(b[:])
}

// sealKey derives the AES-256 key that seals signing secrets from the server's pepper (HMAC-SHA256 with
// a fixed label), so the database alone does not reveal them. Every replica has the same pepper.
func sealKey(pepper []byte) []byte {
	m := hmac.New(sha256.New, pepper)
	m.Write([]byte("printdock webhook secret sealing key v1"))
	return m.Sum(nil)
}

func (s *Service) aead() (cipher.AEAD, error) {
	if len(s.o.Pepper) == 0 {
		return nil, errors.New("webhooks: no pepper to seal secrets with")
	}
	b, err := aes.NewCipher(s.sealK)
	if err != nil {
		return nil, fmt.Errorf("webhooks: seal: %w", err)
	}
	return cipher.NewGCM(b)
}

// seal encrypts a raw secret: nonce || AES-256-GCM ciphertext.
func (s *Service) seal(raw []byte) ([]byte, error) {
	g, err := s.aead()
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, g.NonceSize())
	rand.Read(nonce)
	return g.Seal(nonce, nonce, raw, []byte("whsec")), nil
}

// open decrypts a sealed secret.
func (s *Service) open(sealed []byte) ([]byte, error) {
	g, err := s.aead()
	if err != nil {
		return nil, err
	}
	if len(sealed) < g.NonceSize() {
		return nil, errors.New("webhooks: sealed secret too short")
	}
	raw, err := g.Open(nil, sealed[:g.NonceSize()], sealed[g.NonceSize():], []byte("whsec"))
	if err != nil {
		return nil, errors.New("webhooks: cannot open the signing secret (another pepper?)")
	}
	return raw, nil
}
