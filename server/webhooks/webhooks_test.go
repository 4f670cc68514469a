package webhooks

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

func TestAllowedAddr(t *testing.T) {
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1", false},
		{"127.8.9.10", false},
		{"::1", false},
		{"10.0.0.1", false},
		{"10.255.255.255", false},
		{"172.16.3.4", false},
		{"192.168.1.1", false},
		{"169.254.169.254", false}, // cloud metadata
		{"169.254.0.1", false},
		{"fe80::1", false},
		{"fc00::1", false},
		{"fd12:3456::1", false},
		{"::ffff:127.0.0.1", false}, // IPv4-mapped loopback
		{"::ffff:10.1.2.3", false},
		{"0.0.0.0", false},
		{"::", false},
		{"100.64.0.1", false},
		{"224.0.0.1", false},
		{"ff02::1", false},
		{"255.255.255.255", false},
		{"64:ff9b::7f00:1", false}, // NAT64 of 127.0.0.1
		{"2002:7f00:1::", false},   // 6to4 of 127.0.0.1
		{"93.184.215.14", true},
		{"8.8.8.8", true},
		{"2606:2800:21f:cb07:6820:80da:af6b:8b2c", true},
		{"::ffff:8.8.8.8", true},
	} {
		if got := AllowedAddr(netip.MustParseAddr(tc.addr)); got != tc.ok {
			t.Errorf("AllowedAddr(%s) = %v, want %v", tc.addr, got, tc.ok)
		}
	}
}

func TestDialControl(t *testing.T) {
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:80", false},
		{"[::1]:443", false},
		{"10.1.2.3:8080", false},
		{"169.254.169.254:80", false},
		{"[fc00::1]:80", false},
		{"8.8.8.8:443", true},
		{"not-an-address", false},
	} {
		err := dialControl("tcp", tc.addr, nil)
		if (err == nil) != tc.ok {
			t.Errorf("dialControl(%s) = %v, want ok=%v", tc.addr, err, tc.ok)
		}
	}
}

// TestClientRefusesPrivate: the sending client refuses loopback at dial time, whether the URL names an
// address or a host name that resolves to one (localhost), and does not follow a redirect.
func TestClientRefusesPrivate(t *testing.T) {
	c := newClient(false, 2*time.Second)
	for _, u := range []string{"http://127.0.0.1:9/", "http://localhost:9/", "http://[::1]:9/", "http://10.0.0.1:9/",
		"http://169.254.169.254/latest/meta-data/"} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, u, nil)
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
			t.Errorf("POST %s: no error", u)
			continue
		}
		if !strings.Contains(err.Error(), ErrForbiddenAddress.Error()) {
			t.Errorf("POST %s: %v, want the forbidden-address error", u, err)
		}
	}
}

func TestCheckURL(t *testing.T) {
	s := New(Options{Pepper: []byte("p")})
	allow := New(Options{Pepper: []byte("p"), AllowPrivate: true})
	for _, tc := range []struct {
		url         string
		ok, okAllow bool
	}{
		{"https://hooks.example.com/printdock", true, true},
		{"http://hooks.example.com/x", true, true},
		{"https://127.0.0.1/x", false, true},
		{"https://[::1]/x", false, true},
		{"https://10.0.0.2/x", false, true},
		{"https://169.254.169.254/x", false, true},
		{"ftp://example.com/x", false, false},
		{"/relative", false, false},
		{"https://user:pw@example.com/", false, false},
		{"https://example.com/#frag", false, false},
		{"", false, false},
	} {
		if err := s.checkURL(tc.url); (err == nil) != tc.ok {
			t.Errorf("checkURL(%q) = %v, want ok=%v", tc.url, err, tc.ok)
		}
		if err := allow.checkURL(tc.url); (err == nil) != tc.okAllow {
			t.Errorf("checkURL(%q) with AllowPrivate = %v, want ok=%v", tc.url, err, tc.okAllow)
		}
	}
}

// TestSignVectors: Sign matches the Standard Webhooks test vector, verifies with the library, and a
// wrong secret or a changed body is rejected.
func TestSignVectors(t *testing.T) {
	secret, _ := base64.StdEncoding.DecodeString("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	body := []byte(`{"test": 2432232314}`)
	h := http.Header{}
	if err := Sign(h, secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), body); err != nil {
		t.Fatal(err)
	}
	if got, want := h.Get("webhook-signature"), "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("signature %s, want %s", got, want)
	}
	if h.Get("webhook-id") != "msg_p5jXN8AQM9LWM0D4loKWxJek" || h.Get("webhook-timestamp") != "1614265330" {
		t.Errorf("headers %v", h)
	}

	shown, raw := newSecret()
	h = http.Header{}
	if err := Sign(h, raw, "evt_1", time.Now(), body); err != nil {
		t.Fatal(err)
	}
	good, _ := standardwebhooks.NewWebhook(shown)
	if err := good.Verify(body, h); err != nil {
		t.Errorf("verify with the shown secret: %v", err)
	}
	if err := good.Verify([]byte(`{"test": 1}`), h); err == nil {
		t.Error("a changed body verified")
	}
	other, _ := newSecret()
	wrong, _ := standardwebhooks.NewWebhook(other)
	if err := wrong.Verify(body, h); err == nil {
		t.Error("a wrong secret verified")
	}
}

func TestSeal(t *testing.T) {
	s := New(Options{Pepper: []byte("pepper one")})
	_, raw := newSecret()
	sealed, err := s.seal(raw)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(sealed), string(raw)) {
		t.Fatal("sealed secret holds the secret")
	}
	if got, err := s.open(sealed); err != nil || string(got) != string(raw) {
		t.Fatalf("open = %v", err)
	}
	if _, err := New(Options{Pepper: []byte("pepper two")}).open(sealed); err == nil {
		t.Error("another pepper opened the secret")
	}
}

func TestBackoff(t *testing.T) {
	r := Retry{}.withDefaults()
	for _, tc := range []struct {
		attempts int
		lo, hi   time.Duration
	}{
		{1, 2500 * time.Millisecond, 5 * time.Second},
		{2, 5 * time.Second, 10 * time.Second},
		{5, 40 * time.Second, 80 * time.Second},
		{20, 30 * time.Minute, time.Hour},
		{1000, 30 * time.Minute, time.Hour},
	} {
		for range 20 {
			if d := r.backoff(tc.attempts); d < tc.lo || d > tc.hi {
				t.Errorf("backoff(%d) = %v, want %v..%v", tc.attempts, d, tc.lo, tc.hi)
			}
		}
	}
	// A day of retries: the schedule sums to at least 24 hours only after many attempts, and For ends it.
	if r.For < 24*time.Hour {
		t.Errorf("retries for %v, want at least 24h", r.For)
	}
}

// TestClientNoRedirects: a receiver's redirect (here to another loopback address) is not followed.
func TestClientNoRedirects(t *testing.T) {
	hit := make(chan struct{}, 1)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit <- struct{}{} }))
	defer target.Close()
	redirect := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusTemporaryRedirect))
	defer redirect.Close()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, redirect.URL, strings.NewReader("{}"))
	resp, err := newClient(true, 2*time.Second).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect {
		t.Errorf("status %d, want the redirect itself", resp.StatusCode)
	}
	select {
	case <-hit:
		t.Error("the redirect was followed")
	default:
	}
}
