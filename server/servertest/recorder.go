package servertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// secretRE matches anything shaped like a printdock secret (also mangled ones: 20+ characters after the
// prefix), so even a wrong secret presented by a client must not reach a log.
var secretRE = regexp.MustCompile(`pd[cusot]_[0-9A-Za-z]{20,}`)

// every secret any Recorder in this process saw issued, for ScanText.
var global struct {
	mu     sync.Mutex
	issued map[string]string
}

// Recorder captures a server's log output, its HTTP response bodies and the websocket messages test
// agents received, and finds secrets where they must not be.
type Recorder struct {
	mu        sync.Mutex
	log       bytes.Buffer
	responses []recorded
	ws        []recorded
	issued    map[string]string // secret or password → where it was issued out of band
	off       bool              // record nothing (benchmarks)
}

type recorded struct {
	what string
	body string
}

// A nil *Recorder records nothing (a Server built as a struct literal has none; see UseRecorder).

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder { return &Recorder{issued: make(map[string]string)} }

type logWriter struct{ r *Recorder }

func (w logWriter) Write(b []byte) (int, error) {
	w.r.mu.Lock()
	defer w.r.mu.Unlock()
	return w.r.log.Write(b)
}

// LogWriter is where the server's slog handler writes.
func (r *Recorder) LogWriter() io.Writer { return logWriter{r} }

// Log returns everything logged so far.
func (r *Recorder) Log() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.log.String()
}

// Issued records secrets (or passwords) handed out other than in an HTTP response (init, direct keys
// calls): they may appear in no response at all.
func (r *Recorder) Issued(what string, secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range secrets {
		if s != "" {
			r.issued[s] = what
			addGlobal(s, what)
		}
	}
}

func addGlobal(s, what string) {
	global.mu.Lock()
	defer global.mu.Unlock()
	if global.issued == nil {
		global.issued = make(map[string]string)
	}
	if _, ok := global.issued[s]; !ok {
		global.issued[s] = what
	}
}

// Response records one HTTP response body.
func (r *Recorder) Response(what string, body []byte) {
	if r == nil || r.off {
		return
	}
	r.mu.Lock()
	r.responses = append(r.responses, recorded{what: what, body: string(body)})
	r.mu.Unlock()
	for _, s := range tokens(body) {
		addGlobal(s, what)
	}
}

// WSMessage records one websocket message a test agent received.
func (r *Recorder) WSMessage(b []byte) {
	if r == nil || r.off {
		return
	}
	r.mu.Lock()
	r.ws = append(r.ws, recorded{what: "websocket message", body: string(b)})
	r.mu.Unlock()
}

// tokens returns the secrets and passwords an answer hands out: secret-shaped strings anywhere, and the
// values of "password" fields.
func tokens(body []byte) []string {
	out := secretRE.FindAllString(string(body), -1)
	var obj map[string]any
	if json.Unmarshal(body, &obj) == nil {
		for _, k := range []string{"password", "admin_password"} {
			if s, ok := obj[k].(string); ok && s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// Wrap records the body of every response h writes (websocket upgrades excepted).
func (r *Recorder) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		tw := &teeWriter{ResponseWriter: w}
		h.ServeHTTP(tw, req)
		if tw.status != http.StatusSwitchingProtocols {
			r.Response(req.Method+" "+req.URL.Path, tw.buf.Bytes())
		}
	})
}

type teeWriter struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (w *teeWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *teeWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.buf.Len() < 4<<20 {
		w.buf.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

func (w *teeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *teeWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// short names a secret in a report without revealing it.
func short(s string) string {
	if len(s) > 8 {
		return s[:8] + "…"
	}
	return "(short value)"
}

// Leaks lists every place a secret appears where it must not: any log line holding something
// secret-shaped or an issued secret or password; a response repeating a secret issued elsewhere; any
// websocket message holding one.
func (r *Recorder) Leaks() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var leaks []string
	log := r.log.String()
	for _, m := range secretRE.FindAllString(log, -1) {
		leaks = append(leaks, fmt.Sprintf("log holds a secret-shaped string %s", short(m)))
	}
	// Everything issued: out of band (allowed in no response) or by a response (allowed only there).
	allowed := map[string]int{}
	for s := range r.issued {
		allowed[s] = 0
	}
	for _, resp := range r.responses {
		for _, s := range tokens([]byte(resp.body)) {
			if _, ok := allowed[s]; !ok {
				allowed[s] = 1
			}
		}
	}
	secrets := make([]string, 0, len(allowed))
	for s := range allowed {
		secrets = append(secrets, s)
	}
	sort.Strings(secrets)
	for _, s := range secrets {
		if strings.Contains(log, s) {
			leaks = append(leaks, fmt.Sprintf("log holds issued secret %s", short(s)))
		}
		var where []string
		for _, resp := range r.responses {
			if strings.Contains(resp.body, s) {
				where = append(where, resp.what)
			}
		}
		if len(where) > allowed[s] {
			leaks = append(leaks, fmt.Sprintf("secret %s appears in %d responses (allowed %d): %s",
				short(s), len(where), allowed[s], strings.Join(where, ", ")))
		}
		for _, m := range r.ws {
			if strings.Contains(m.body, s) {
				leaks = append(leaks, fmt.Sprintf("websocket message holds secret %s", short(s)))
			}
		}
	}
	for _, m := range r.ws {
		for _, x := range secretRE.FindAllString(m.body, -1) {
			leaks = append(leaks, fmt.Sprintf("websocket message holds a secret-shaped string %s", short(x)))
		}
	}
	return leaks
}

// Redact returns text with every secret-shaped string and every secret or password this recorder (or any
// other in this process) saw issued replaced by "[redacted]" — for printing a log that may hold a leak.
func (r *Recorder) Redact(text string) string {
	text = secretRE.ReplaceAllStringFunc(text, func(m string) string { return m[:4] + "[redacted]" })
	var known []string
	if r != nil {
		r.mu.Lock()
		for s := range r.issued {
			known = append(known, s)
		}
		for _, resp := range r.responses {
			known = append(known, tokens([]byte(resp.body))...)
		}
		r.mu.Unlock()
	}
	global.mu.Lock()
	for s := range global.issued {
		known = append(known, s)
	}
	global.mu.Unlock()
	// Longest first, so a secret containing another is replaced whole.
	sort.Slice(known, func(i, j int) bool { return len(known[i]) > len(known[j]) })
	for _, s := range known {
		if len(s) >= 8 {
			text = strings.ReplaceAll(text, s, "[redacted]")
		}
	}
	return text
}

// ScanText returns leaks of any secret issued so far in this process (or anything secret-shaped) in
// text — for output captured outside a server's recorder, such as the default logger or a CLI's stdout.
func ScanText(what, text string) []string {
	var leaks []string
	for _, m := range secretRE.FindAllString(text, -1) {
		leaks = append(leaks, fmt.Sprintf("%s holds a secret-shaped string %s", what, short(m)))
	}
	global.mu.Lock()
	defer global.mu.Unlock()
	for s := range global.issued {
		if len(s) >= 8 && strings.Contains(text, s) && !secretRE.MatchString(s) {
			leaks = append(leaks, fmt.Sprintf("%s holds an issued password %s", what, short(s)))
		}
	}
	return leaks
}
