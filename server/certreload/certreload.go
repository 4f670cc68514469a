// Package certreload keeps printdock-server's TLS certificate current: it serves the certificate and key
// files it was given, and re-reads them when they change on disk (a renewal by certbot or an ACME client,
// checked every few seconds) or when asked to (SIGHUP). New TLS connections get the new certificate at
// once; established connections — every connected agent's websocket — are not touched. A file that does
// not parse (a renewal caught half-written) keeps the old certificate and is logged.
package certreload

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// Reloader serves the current certificate through GetCertificate.
type Reloader struct {
	certFile, keyFile string
	log               *slog.Logger

	mu    sync.Mutex
	cert  *tls.Certificate
	stamp string // size and modification time of both files when cert was loaded
}

// New loads certFile and keyFile (PEM).
func New(certFile, keyFile string, log *slog.Logger) (*Reloader, error) {
	if log == nil {
		log = slog.Default()
	}
	r := &Reloader{certFile: certFile, keyFile: keyFile, log: log}
	if _, err := r.Reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// GetCertificate is a tls.Config.GetCertificate that returns the current certificate.
func (r *Reloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cert, nil
}

// Reload re-reads the files. It reports whether the certificate changed; on an error the current one
// stays in use.
func (r *Reloader) Reload() (changed bool, err error) {
	stamp, err := r.stampNow()
	if err != nil {
		return false, err
	}
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return false, fmt.Errorf("certreload: load %s: %w", r.certFile, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	changed = r.cert != nil && !sameCert(r.cert, &cert)
	r.cert, r.stamp = &cert, stamp
	return changed, nil
}

// Watch checks the files every interval until ctx ends and reloads when their size or modification time
// changed since the last load; reload, when not nil, delivers extra reload requests (SIGHUP).
func (r *Reloader) Watch(ctx context.Context, every time.Duration, reload <-chan struct{}) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		forced := false
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-reload:
			forced = true
		}
		if !forced {
			stamp, err := r.stampNow()
			r.mu.Lock()
			same := err == nil && stamp == r.stamp
			r.mu.Unlock()
			if same || err != nil {
				continue
			}
		}
		changed, err := r.Reload()
		switch {
		case err != nil:
			r.log.Error("TLS certificate not reloaded; the previous one stays in use", "err", err)
		case changed:
			r.log.Info("TLS certificate reloaded", "cert", r.certFile)
		}
	}
}

func (r *Reloader) stampNow() (string, error) {
	var s string
	for _, f := range []string{r.certFile, r.keyFile} {
		fi, err := os.Stat(f)
		if err != nil {
			return "", fmt.Errorf("certreload: %w", err)
		}
		s += fmt.Sprintf("%d/%d;", fi.Size(), fi.ModTime().UnixNano())
	}
	return s, nil
}

func sameCert(a, b *tls.Certificate) bool {
	if len(a.Certificate) != len(b.Certificate) {
		return false
	}
	for i := range a.Certificate {
		if string(a.Certificate[i]) != string(b.Certificate[i]) {
			return false
		}
	}
	return true
}
