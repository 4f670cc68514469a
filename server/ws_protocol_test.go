package server_test

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"printdock/protocol"
	"printdock/server/servertest"
)

type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func decodeError(t *testing.T, what string, b []byte) apiError {
	t.Helper()
	var e apiError
	if err := json.Unmarshal(b, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("%s: body is not a JSON error: %q", what, b)
	}
	return e
}

// TestHandshakeRefusals: every bad credential is answered before the upgrade, with a clear JSON error
// that never contains the secret.
func TestHandshakeRefusals(t *testing.T) {
	s := servertest.New(t, servertest.Options{AuthFailureBurst: 1000})
	good := s.CreatePrintClient(t, "good")
	inactive := s.CreateKey(t, s.AdminKey, map[string]any{"description": "inactive", "inactive": true})
	revoked := s.CreatePrintClient(t, "revoked")
	s.KeyAction(t, revoked.ID, "revoke")
	deleted := s.CreatePrintClient(t, "deleted")
	s.DeleteKey(t, deleted.ID)
	unknown, _ := protocol.NewSecret(protocol.KindPrintClient)
	token, _ := protocol.NewSecret(protocol.KindOAuthToken)
	flipped := []byte(good.Secret)
	if flipped[20] == 'a' {
		flipped[20] = 'b'
	} else {
		flipped[20] = 'a'
	}

	for _, tc := range []struct {
		name   string
		secret string
		header http.Header
		want   int
		msg    string // substring of the message
	}{
		{"no header", "", nil, 401, "authentication required"},
		{"basic auth", "", http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}}, 401, "authentication required"},
		{"garbage", "hello", nil, 401, "not a printdock secret"},
		{"truncated", good.Secret[:30], nil, 401, "too short"},
		{"too long", good.Secret + "xyz", nil, 401, "too long"},
		{"wrong checksum", string(flipped), nil, 401, "checksum"},
		{"bad characters", good.Secret[:10] + "!!" + good.Secret[12:], nil, 401, "characters"},
		{"unknown", unknown, nil, 401, "invalid credentials"},
		{"oauth token", token, nil, 401, "agents connect with"},
		{"deleted", deleted.Secret, nil, 401, "invalid credentials"},
		{"inactive", inactive.Secret, nil, 403, "inactive"},
		{"revoked", revoked.Secret, nil, 403, "revoked"},
		{"oversized header", strings.Repeat("A", 200<<10), nil, 431, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, resp, err := s.Dial(ctx10(t), tc.secret, servertest.DialOptions{Header: tc.header})
			if err == nil {
				c.CloseNow()
				t.Fatalf("connected")
			}
			if resp == nil {
				t.Fatalf("no HTTP answer: %v", err)
			}
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if tc.want == 431 {
				return // answered by net/http itself
			}
			b := readAll(t, resp)
			e := decodeError(t, tc.name, b)
			if !strings.Contains(e.Error.Message, tc.msg) {
				t.Fatalf("message %q lacks %q", e.Error.Message, tc.msg)
			}
			if tc.secret != "" && len(tc.secret) > 8 && strings.Contains(string(b), tc.secret[4:]) {
				t.Fatalf("the answer contains the secret")
			}
			if resp.StatusCode == 401 && resp.Header.Get("WWW-Authenticate") == "" {
				t.Fatalf("401 without WWW-Authenticate")
			}
		})
	}

	// A valid secret on a plain GET (no upgrade) is told to upgrade.
	req, _ := http.NewRequest(http.MethodGet, s.URL+protocol.Path, nil)
	req.Header.Set("Authorization", "Bearer "+good.Secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b := readAll(t, resp)
	if resp.StatusCode != http.StatusUpgradeRequired {
		t.Fatalf("no upgrade: %d %s", resp.StatusCode, b)
	}
	decodeError(t, "no upgrade", b)
}

func readAll(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return []byte(sb.String())
}

// TestAuthRateLimit: an address that fails too often gets 429 (with Retry-After) for every further
// failed attempt — while a correct secret from it still authenticates (it cannot be guessed; see
// server/api TestLimitedAddressStillAuthenticatesValidSecrets) — and another address is not slowed; on
// the agent endpoint and the REST API, which share the limiter.
func TestAuthRateLimit(t *testing.T) {
	s := servertest.New(t, servertest.Options{AuthFailuresPerMinute: 1, AuthFailureBurst: 5})
	good := s.CreatePrintClient(t, "good")
	attacker := servertest.DialOptions{LocalAddr: net.IPv4(127, 0, 0, 2)}
	for i := range 5 {
		guess, _ := protocol.NewSecret(protocol.KindPrintClient)
		_, resp, err := s.Dial(ctx10(t), guess, attacker)
		if err == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("guess %d: %v %v", i, resp, err)
		}
	}
	guess, _ := protocol.NewSecret(protocol.KindPrintClient)
	_, resp, err := s.Dial(ctx10(t), guess, attacker)
	if err == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("after the burst: %v %v", resp, err)
	}
	if ra := resp.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Fatalf("Retry-After = %q", ra)
	}
	decodeError(t, "429", readAll(t, resp))
	a, err := s.TryConnect(ctx10(t), good.Secret, attacker)
	if err != nil {
		t.Fatalf("correct secret from the limited address: %v", err)
	}
	a.Conn.CloseNow()

	// Another address is not slowed.
	other := servertest.DialOptions{LocalAddr: net.IPv4(127, 0, 0, 3)}
	_, resp, err = s.Dial(ctx10(t), guess, other)
	if err == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("guess from another address: %v %v", resp, err)
	}
	s.Connect(t, good.Secret, servertest.DialOptions{}).ExpectAlive(t)

	// The REST API shares the limiter: the attacker's address gets 429 for a wrong key there too.
	client := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{
		LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}).DialContext}}
	for _, tc := range []struct {
		bearer string
		want   int
	}{{guess, http.StatusTooManyRequests}, {s.AdminKey, http.StatusOK}} {
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+tc.bearer)
		r2, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r2.Body.Close()
		if r2.StatusCode != tc.want {
			t.Fatalf("REST from the limited address: %d, want %d", r2.StatusCode, tc.want)
		}
	}
}

// TestProtocolErrors: garbled, unknown, invalid, binary and oversized messages.
func TestProtocolErrors(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	k := s.CreatePrintClient(t, "protocol")

	t.Run("unknown type answers error and stays", func(t *testing.T) {
		a := s.Connect(t, k.Secret, servertest.DialOptions{})
		ctx := ctx10(t)
		if err := a.Conn.Write(ctx, websocket.MessageText, []byte(`{"type":"bogus"}`)); err != nil {
			t.Fatal(err)
		}
		m, err := a.Read(ctx)
		if e, ok := m.(protocol.Error); err != nil || !ok || e.Code != "unknown_type" {
			t.Fatalf("got %#v %v", m, err)
		}
		if err := a.Conn.Write(ctx, websocket.MessageText, []byte(`{"type":"printers","printers":[{"name":"no id"}]}`)); err != nil {
			t.Fatal(err)
		}
		m, err = a.Read(ctx)
		if e, ok := m.(protocol.Error); err != nil || !ok || e.Code != "invalid_message" {
			t.Fatalf("got %#v %v", m, err)
		}
		if err := a.Send(ctx, protocol.Logout{Reason: "revoked"}); err != nil {
			t.Fatal(err)
		}
		m, err = a.Read(ctx)
		if e, ok := m.(protocol.Error); err != nil || !ok || e.Code != "unexpected_message" {
			t.Fatalf("got %#v %v", m, err)
		}
		a.ExpectAlive(t)
	})
	for _, tc := range []struct {
		name string
		typ  websocket.MessageType
		data []byte
		code websocket.StatusCode
	}{
		{"garbled", websocket.MessageText, []byte(`{"type":"ping",`), protocol.CloseProtocolError},
		{"not json", websocket.MessageText, []byte("hello there"), protocol.CloseProtocolError},
		{"binary", websocket.MessageBinary, []byte{1, 2, 3}, protocol.CloseProtocolError},
		{"oversized", websocket.MessageText, make([]byte, protocol.MaxMessageSize+1), websocket.StatusMessageTooBig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := s.Connect(t, k.Secret, servertest.DialOptions{})
			ctx := ctx10(t)
			go a.Conn.Write(ctx, tc.typ, tc.data) // the server may close before the write completes
			a.ExpectClose(t, tc.code)
		})
	}
	t.Run("hello problems", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			first string
			code  websocket.StatusCode
		}{
			{"not hello", `{"type":"ping","nonce":1}`, protocol.CloseProtocolError},
			{"garbled hello", `{"type":"hello"`, protocol.CloseProtocolError},
			{"hello without installation", `{"type":"hello","protocol_version":1}`, protocol.CloseProtocolError},
			{"future version", `{"type":"hello","protocol_version":99,"installation_id":"x"}`, protocol.CloseUnsupportedVersion},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ctx := ctx10(t)
				c, _, err := s.Dial(ctx, k.Secret, servertest.DialOptions{})
				if err != nil {
					t.Fatal(err)
				}
				defer c.CloseNow()
				if err := c.Write(ctx, websocket.MessageText, []byte(tc.first)); err != nil {
					t.Fatal(err)
				}
				for {
					_, _, err := c.Read(ctx)
					if err != nil {
						if got := websocket.CloseStatus(err); got != tc.code {
							t.Fatalf("close %v, want %d", err, tc.code)
						}
						break
					}
				}
			})
		}
	})
}

// TestHelloTimeout: a connection that never says hello is closed with 4003.
func TestHelloTimeout(t *testing.T) {
	s := servertest.New(t, servertest.Options{HelloTimeout: 100 * time.Millisecond})
	k := s.CreatePrintClient(t, "silent")
	ctx := ctx10(t)
	c, _, err := s.Dial(ctx, k.Secret, servertest.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	_, _, err = c.Read(ctx)
	if websocket.CloseStatus(err) != protocol.CloseProtocolError {
		t.Fatalf("got %v", err)
	}
}

// TestHeartbeat: the server pings every interval; a peer that answers stays, a peer that never answers
// is closed with 4004.
func TestHeartbeat(t *testing.T) {
	// 100 ms: the hub closes after exactly 3 silent intervals (a deadline, not a tick count), so the
	// live peer must never stall 3 intervals under -race on a loaded machine.
	s := servertest.New(t, servertest.Options{Heartbeat: 100 * time.Millisecond})
	k := s.CreatePrintClient(t, "heartbeat")

	live := s.Connect(t, k.Secret, servertest.DialOptions{})
	dead := s.Connect(t, k.Secret, servertest.DialOptions{})
	if live.Welcome.HeartbeatSeconds != 1 {
		t.Fatalf("heartbeat_seconds = %d", live.Welcome.HeartbeatSeconds)
	}
	// The live peer answers every ping, concurrently, until it has answered six (twice the limit).
	ctx := ctx10(t)
	liveDone := make(chan error, 1)
	go func() {
		pongs := 0
		for pongs < 6 {
			_, b, err := live.Conn.Read(ctx)
			if err != nil {
				liveDone <- err
				return
			}
			if p, ok := decodeOrNil(b).(protocol.Ping); ok {
				if err := live.Send(ctx, protocol.Pong{Nonce: p.Nonce}); err != nil {
					liveDone <- err
					return
				}
				pongs++
			}
		}
		liveDone <- nil
	}()
	// The dead peer reads (so TCP flows) but never answers pings.
	pings := 0
	var closeErr error
	for {
		_, b, err := dead.Conn.Read(ctx)
		if err != nil {
			closeErr = err
			break
		}
		if _, ok := decodeOrNil(b).(protocol.Ping); ok {
			pings++
		}
	}
	if websocket.CloseStatus(closeErr) != protocol.CloseHeartbeatTimeout {
		t.Fatalf("dead peer: %v", closeErr)
	}
	if pings < 2 {
		t.Fatalf("only %d pings before the timeout", pings)
	}
	if err := <-liveDone; err != nil {
		t.Fatalf("live peer: %v", err)
	}
	live.ExpectAlive(t)
}

func decodeOrNil(b []byte) protocol.Message {
	m, _ := protocol.Decode(b)
	return m
}
