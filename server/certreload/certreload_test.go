package certreload

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"printdock/internal/testenv"
)

// WriteTestCert writes a self-signed certificate for 127.0.0.1 with the given serial.
func writeTestCert(t *testing.T, dir string, serial int64) (certFile, keyFile string) {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "t"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalECPrivateKey(k)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func serialOf(t *testing.T, r *Reloader) int64 {
	t.Helper()
	c, _ := r.GetCertificate(&tls.ClientHelloInfo{})
	x, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return x.SerialNumber.Int64()
}

// newReloader serves a fresh certificate (serial 1) from a new directory.
func newReloader(t *testing.T) (dir string, r *Reloader) {
	t.Helper()
	dir = t.TempDir()
	cf, kf := writeTestCert(t, dir, 1)
	r, err := New(cf, kf, nil)
	if err != nil {
		t.Fatal(err)
	}
	return dir, r
}

func TestReloadKeepsOldCertOnBadFiles(t *testing.T) {
	dir, r := newReloader(t)
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), []byte("half-written"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Reload(); err == nil {
		t.Fatal("a garbled certificate reloaded")
	}
	if serialOf(t, r) != 1 {
		t.Fatal("the old certificate was dropped")
	}
	writeTestCert(t, dir, 2)
	if changed, err := r.Reload(); err != nil || !changed || serialOf(t, r) != 2 {
		t.Fatalf("reload: changed=%v err=%v serial=%d", changed, err, serialOf(t, r))
	}
}

func TestWatchPicksUpRenewal(t *testing.T) {
	dir, r := newReloader(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Watch(ctx, 20*time.Millisecond, nil)
	writeTestCert(t, dir, 2)
	testenv.WaitFor(t, "the renewed certificate", func() bool { return serialOf(t, r) == 2 })
}

func TestWatchReloadsOnSignal(t *testing.T) {
	dir, r := newReloader(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sig := make(chan struct{})
	go r.Watch(ctx, time.Hour, sig) // no polling within the test: only the signal reloads
	writeTestCert(t, dir, 2)
	if serialOf(t, r) != 1 {
		t.Fatal("reloaded without a signal")
	}
	sig <- struct{}{}
	testenv.WaitFor(t, "the certificate after the reload signal", func() bool { return serialOf(t, r) == 2 })
}
