package httpx

import (
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// StatusWriter records the status and size of an answer. It unwraps to the original writer, so
// websocket upgrades (hijacking) and http.ResponseController keep working.
type StatusWriter struct {
	http.ResponseWriter
	Status int
	Bytes  int64
}

// WriteHeader records the status.
func (w *StatusWriter) WriteHeader(code int) {
	if w.Status == 0 {
		w.Status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records the size.
func (w *StatusWriter) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.Bytes += int64(n)
	return n, err
}

// Unwrap returns the original writer.
func (w *StatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Observer is told about every finished request: its route pattern (e.g. "GET /api/v1/me", or
// "unmatched"), its status and how long it took.
type Observer func(r *http.Request, route string, status int, d time.Duration)

// RequestLog logs one line per request — method, route, path (never the query string), status, size,
// duration, client address — and never headers or bodies, which may hold secrets.
func RequestLog(log *slog.Logger, observe Observer, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &StatusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		d := time.Since(start)
		status := sw.Status
		if status == 0 {
			status = http.StatusOK
		}
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		if observe != nil {
			observe(r, route, status, d)
		}
		level := slog.LevelInfo
		if status >= 500 && status != http.StatusSwitchingProtocols {
			level = slog.LevelError
		}
		log.LogAttrs(r.Context(), level, "http request",
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.String("path", RedactSecrets(r.URL.Path)),
			slog.Int("status", status),
			slog.Int64("bytes", sw.Bytes),
			slog.Duration("duration", d),
			slog.String("remote", ClientIP(r)),
		)
	})
}

// RedactSecrets replaces anything shaped like a printdock secret (pdX_ followed by 8 or more letters or
// digits) with its kind and "[redacted]", so a secret pasted into a URL does not reach the logs.
func RedactSecrets(s string) string {
	if !strings.Contains(s, "_") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if i+4 <= len(s) && s[i] == 'p' && s[i+1] == 'd' && isLower(s[i+2]) && s[i+3] == '_' {
			j := i + 4
			for j < len(s) && isAlnum(s[j]) {
				j++
			}
			if j-(i+4) >= 8 {
				b.WriteString(s[i : i+4])
				b.WriteString("[redacted]")
				i = j
				continue
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isAlnum(c byte) bool { return isLower(c) || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' }
