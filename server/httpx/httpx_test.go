package httpx

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestFailureLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	l := NewFailureLimiter(6, 3) // one token back every 10 s
	l.SetClock(func() time.Time { return now })
	for i := range 3 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("attempt %d refused", i)
		}
		l.Fail("a")
	}
	ok, retry := l.Allow("a")
	if ok || retry <= 0 || retry > 10*time.Second {
		t.Fatalf("after burst: ok=%v retry=%v", ok, retry)
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Fatal("another key is limited")
	}
	now = now.Add(10 * time.Second)
	if ok, _ := l.Allow("a"); !ok {
		t.Fatal("token did not come back")
	}
	l.Fail("a")
	if ok, _ := l.Allow("a"); ok {
		t.Fatal("second failure allowed")
	}
	now = now.Add(time.Hour)
	l.Fail("c") // sweeps refilled buckets
	if n := l.Len(); n != 1 {
		t.Fatalf("%d buckets after sweep, want 1", n)
	}
}

func TestLimitKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":            "192.0.2.7",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
	} {
		if got := LimitKey(netip.MustParseAddr(in)); got != want {
			t.Errorf("LimitKey(%s) = %s, want %s", in, got, want)
		}
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "[::ffff:10.1.2.3]:555"
	if got := ClientIP(r); got != "10.1.2.3" {
		t.Errorf("ClientIP = %q", got)
	}
}

func TestRedactSecrets(t *testing.T) {
	s := "pdc_" + strings.Repeat("A", 49)
	for in, want := range map[string]string{
		"/api/v1/x/" + s + "/y":  "/api/v1/x/pdc_[redacted]/y",
		"key pdu_short ok":       "key pdu_short ok",
		"no secrets here":        "no secrets here",
		`"` + s + `" is invalid`: `"pdc_[redacted]" is invalid`,
	} {
		if got := RedactSecrets(in); got != want {
			t.Errorf("RedactSecrets(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDecodeJSON(t *testing.T) {
	type req struct {
		A string `json:"a"`
	}
	for _, tc := range []struct {
		body  string
		empty bool
		code  int
	}{
		{`{"a":"x"}`, false, 0},
		{``, true, 0},
		{``, false, 400},
		{`{"a":`, false, 400},
		{`{"b":1}`, false, 400},
		{`{"a":"x"}{}`, false, 400},
		{`{"a":"` + strings.Repeat("x", MaxBodySize) + `"}`, false, 413},
	} {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body))
		var v req
		err := DecodeJSON(w, r, &v, tc.empty)
		if (err != nil) != (tc.code != 0) || (tc.code != 0 && w.Code != tc.code) {
			t.Errorf("%.30q: err=%v code=%d, want %d", tc.body, err, w.Code, tc.code)
		}
		if tc.code != 0 && !strings.HasPrefix(w.Body.String(), `{"error":{"code":`) {
			t.Errorf("%.30q: body %s", tc.body, w.Body.String())
		}
	}
}
