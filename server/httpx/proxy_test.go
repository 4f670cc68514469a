package httpx

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestRealClient(t *testing.T) {
	trusted, err := ParseTrustedProxies([]string{"127.0.0.1", "10.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		peer      string
		headers   map[string]string
		wantIP    string
		wantHTTPS bool
	}{
		{"untrusted peer's headers ignored", "192.0.2.9:5000",
			map[string]string{"X-Forwarded-For": "198.51.100.1", "X-Forwarded-Proto": "https"}, "192.0.2.9", false},
		{"trusted peer, no headers", "127.0.0.1:5000", nil, "127.0.0.1", false},
		{"one proxy", "127.0.0.1:5000",
			map[string]string{"X-Forwarded-For": "198.51.100.1", "X-Forwarded-Proto": "https"}, "198.51.100.1", true},
		{"spoofed left-most entry is skipped", "127.0.0.1:5000",
			map[string]string{"X-Forwarded-For": "1.2.3.4, 198.51.100.1"}, "198.51.100.1", false},
		{"chain of trusted proxies", "127.0.0.1:5000",
			map[string]string{"X-Forwarded-For": "198.51.100.7, 10.1.2.3"}, "198.51.100.7", false},
		{"garbage entry ends the chain", "127.0.0.1:5000",
			map[string]string{"X-Forwarded-For": "198.51.100.7, nonsense"}, "127.0.0.1", false},
		{"IPv6 with port", "127.0.0.1:5000",
			map[string]string{"X-Forwarded-For": "[2001:db8::1]:4711"}, "2001:db8::1", false},
		{"RFC 7239 Forwarded wins", "127.0.0.1:5000",
			map[string]string{"Forwarded": `for="[2001:db8::2]";proto=https`, "X-Forwarded-For": "198.51.100.1"}, "2001:db8::2", true},
		{"proto http", "127.0.0.1:5000",
			map[string]string{"X-Forwarded-For": "198.51.100.1", "X-Forwarded-Proto": "http"}, "198.51.100.1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotIP string
			var gotHTTPS bool
			h := RealClient(trusted, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotIP, gotHTTPS = ClientIP(r), IsHTTPS(r)
			}))
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tt.peer
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			if gotIP != tt.wantIP || gotHTTPS != tt.wantHTTPS {
				t.Errorf("client %s https %v; want %s %v", gotIP, gotHTTPS, tt.wantIP, tt.wantHTTPS)
			}
		})
	}
}

func TestParseTrustedProxiesRejects(t *testing.T) {
	for _, bad := range []string{"nginx", "10.0.0.0/33", "1.2.3"} {
		if _, err := ParseTrustedProxies([]string{bad}); err == nil {
			t.Errorf("ParseTrustedProxies(%q) accepted", bad)
		}
	}
	got, err := ParseTrustedProxies([]string{"127.0.0.1, ::1", "10.0.0.0/8"})
	if err != nil || len(got) != 3 {
		t.Fatalf("got %v, %v", got, err)
	}
}

func TestHSTS(t *testing.T) {
	h := HSTS(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	plain := httptest.NewRecorder()
	h.ServeHTTP(plain, httptest.NewRequest(http.MethodGet, "/", nil))
	if plain.Header().Get("Strict-Transport-Security") != "" {
		t.Error("HSTS on plain HTTP")
	}
	secure := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.TLS = &tls.ConnectionState{}
	h.ServeHTTP(secure, r)
	if secure.Header().Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS over TLS")
	}
}
