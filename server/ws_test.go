package server_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"printdock/protocol"
	"printdock/server/hub"
	"printdock/server/jobs"
	"printdock/server/keys"
	"printdock/server/servertest"
)

func ctx10(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestLogoutReasons: rotate, revoke, deactivate and delete each log out exactly the sessions of the
// affected key, with the right reason, and leave every other session connected.
func TestLogoutReasons(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	for _, tc := range []struct {
		action string // rotate, revoke, deactivate, delete
		reason string
	}{
		{"rotate", protocol.ReasonRotated},
		{"revoke", protocol.ReasonRevoked},
		{"deactivate", protocol.ReasonDeactivated},
		{"delete", protocol.ReasonDeleted},
	} {
		t.Run(tc.action, func(t *testing.T) {
			target := s.CreatePrintClient(t, "target "+tc.action)
			other := s.CreatePrintClient(t, "other "+tc.action)
			a1 := s.Connect(t, target.Secret, servertest.DialOptions{})
			a2 := s.Connect(t, target.Secret, servertest.DialOptions{}) // a second installation, same key
			b := s.Connect(t, other.Secret, servertest.DialOptions{})
			s.WaitConnected(t, target.ID, true)

			if tc.action == "delete" {
				s.DeleteKey(t, target.ID)
			} else {
				s.KeyAction(t, target.ID, tc.action)
			}
			a1.ExpectLogout(t, tc.reason)
			a2.ExpectLogout(t, tc.reason)
			b.ExpectAlive(t)
			s.WaitConnected(t, target.ID, false)
			if !s.S.Hub.Connected(other.ID) {
				t.Fatalf("other key disconnected")
			}
			// The old secret no longer connects.
			_, resp, err := s.Dial(ctx10(t), target.Secret, servertest.DialOptions{})
			if err == nil {
				t.Fatalf("old secret still connects after %s", tc.action)
			}
			want := http.StatusUnauthorized
			if tc.action == "revoke" || tc.action == "deactivate" {
				want = http.StatusForbidden
			}
			if resp == nil || resp.StatusCode != want {
				t.Fatalf("old secret after %s: %v, want %d", tc.action, resp, want)
			}
		})
	}
}

// TestRotatedKeyWorksAtOnce: the secret from rotate (and a brand-new key) connects on the very next try,
// and keeps the installation's client ID.
func TestRotatedKeyWorksAtOnce(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	k := s.CreatePrintClient(t, "fresh")
	a := s.Connect(t, k.Secret, servertest.DialOptions{})
	r := s.KeyAction(t, k.ID, "rotate")
	if r.Secret == "" || r.Secret == k.Secret {
		t.Fatalf("rotate returned no new secret")
	}
	a.ExpectLogout(t, protocol.ReasonRotated)
	b, err := s.TryConnect(ctx10(t), r.Secret, servertest.DialOptions{})
	if err != nil {
		t.Fatalf("rotated secret: %v", err)
	}
	defer b.Conn.CloseNow()
	b.ExpectAlive(t)

	// Same installation ID → same client ID.
	c1 := s.Connect(t, r.Secret, servertest.DialOptions{})
	if c1.Welcome.ClientID == b.Welcome.ClientID {
		t.Fatalf("different installations share a client ID")
	}
}

// TestReactivate: a deactivated key can be activated again and then connects.
func TestReactivate(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	var k servertest.Key
	k = s.CreateKey(t, s.AdminKey, map[string]any{"description": "starts inactive", "inactive": true})
	if k.Status != "inactive" {
		t.Fatalf("status %q", k.Status)
	}
	_, resp, err := s.Dial(ctx10(t), k.Secret, servertest.DialOptions{})
	if err == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("inactive key: %v %v", resp, err)
	}
	s.KeyAction(t, k.ID, "activate")
	a := s.Connect(t, k.Secret, servertest.DialOptions{})
	a.ExpectAlive(t)
}

// TestUserKeyLogout: an agent signed in with a personal API key is logged out when an admin rotates the
// user's key, and when the user rotates it themselves.
func TestUserKeyLogout(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	u := s.CreateUser(t, "desk@example.com", keys.RoleUser)
	a := s.Connect(t, u.APIKey, servertest.DialOptions{})
	if a.Welcome.KeyKind != "user" {
		t.Fatalf("key kind %q", a.Welcome.KeyKind)
	}
	other := s.CreatePrintClient(t, "bystander")
	b := s.Connect(t, other.Secret, servertest.DialOptions{})

	var rot struct {
		APIKey string `json:"api_key"`
	}
	s.JSON(t, http.MethodPost, "/api/v1/users/"+u.ID+"/api-key/rotate", s.AdminKey, nil, http.StatusOK, &rot)
	a.ExpectLogout(t, protocol.ReasonRotated)
	b.ExpectAlive(t)

	a2 := s.Connect(t, rot.APIKey, servertest.DialOptions{})
	// Self-rotation needs confirmation.
	code, body := s.Do(t, http.MethodPost, "/api/v1/me/api-key/rotate", rot.APIKey, map[string]any{})
	if code != http.StatusBadRequest || !strings.Contains(string(body), "confirmation_required") {
		t.Fatalf("unconfirmed self-rotation: %d %s", code, body)
	}
	a2.ExpectAlive(t)
	s.JSON(t, http.MethodPost, "/api/v1/me/api-key/rotate", rot.APIKey, map[string]any{"confirm": true}, http.StatusOK, &rot)
	a2.ExpectLogout(t, protocol.ReasonRotated)
	b.ExpectAlive(t)
}

// TestSharedSecretReset: without reset_devices the devices that share the old secret keep it (and stay
// connected); devices created afterwards get the new one. With reset_devices every sharing device is
// logged out (rotated) and moves to the new secret.
func TestSharedSecretReset(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	d1 := s.CreateKey(t, s.AdminKey, map[string]any{"description": "dev 1", "use_shared_secret": true})
	if !strings.HasPrefix(d1.Secret, "pds_") {
		t.Fatalf("first shared device did not receive the new shared secret")
	}
	old := d1.Secret
	d2 := s.CreateKey(t, s.AdminKey, map[string]any{"description": "dev 2", "use_shared_secret": true})
	if d2.Secret != "" {
		t.Fatalf("second device was handed the existing shared secret again")
	}
	solo := s.CreatePrintClient(t, "own secret")
	a1 := s.Connect(t, old, servertest.DialOptions{Device: d1.ID})
	a2 := s.Connect(t, old, servertest.DialOptions{Device: d2.ID})
	b := s.Connect(t, solo.Secret, servertest.DialOptions{})
	if a1.Welcome.KeyKind != "shared" || a1.Welcome.KeyID != d1.ID {
		t.Fatalf("welcome %+v", a1.Welcome)
	}

	// Wrong device with the shared secret, and the shared secret without a device: 401.
	for _, dev := range []string{"", "dev_nosuchdevice", solo.ID} {
		_, resp, err := s.Dial(ctx10(t), old, servertest.DialOptions{Device: dev})
		if err == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("shared secret with device %q: %v %v", dev, resp, err)
		}
	}

	// Reset without reset_devices: nobody is logged out, the old secret keeps working for d1/d2.
	newer := s.ResetSharedSecret(t, false)
	if !strings.HasPrefix(newer, "pds_") || newer == old {
		t.Fatalf("reset returned no new secret")
	}
	a1.ExpectAlive(t)
	a2.ExpectAlive(t)
	a1b := s.Connect(t, old, servertest.DialOptions{Device: d1.ID})
	a1b.Conn.Close(websocket.StatusNormalClosure, "")
	d3 := s.CreateKey(t, s.AdminKey, map[string]any{"description": "dev 3", "use_shared_secret": true})
	a3 := s.Connect(t, newer, servertest.DialOptions{Device: d3.ID})
	if _, resp, err := s.Dial(ctx10(t), old, servertest.DialOptions{Device: d3.ID}); err == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("device created after the reset accepted the old shared secret")
	}

	// Reset with reset_devices: every sharing device is logged out; others stay.
	newest := s.ResetSharedSecret(t, true)
	a1.ExpectLogout(t, protocol.ReasonRotated)
	a2.ExpectLogout(t, protocol.ReasonRotated)
	a3.ExpectLogout(t, protocol.ReasonRotated)
	b.ExpectAlive(t)
	for _, sec := range []string{old, newer} {
		if _, resp, err := s.Dial(ctx10(t), sec, servertest.DialOptions{Device: d1.ID}); err == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("an old shared secret still works after reset_devices")
		}
	}
	for _, d := range []servertest.Key{d1, d2, d3} {
		s.Connect(t, newest, servertest.DialOptions{Device: d.ID}).ExpectAlive(t)
	}

	// The typed confirmation is required.
	code, body := s.Do(t, http.MethodPost, "/api/v1/shared-secret/reset", s.AdminKey,
		map[string]any{"confirmation": "yes", "reset_devices": true})
	if code != http.StatusBadRequest {
		t.Fatalf("reset without the confirmation: %d %s", code, body)
	}
}

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
	s := servertest.New(t, servertest.Options{Heartbeat: 30 * time.Millisecond})
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

// TestClientsAndSend: connected agents and their printers are listed by the hub; the hub delivers a
// message to a client by the job queue's client ID.
func TestClientsAndSend(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	k := s.CreatePrintClient(t, "Packing table 3")
	a := s.Connect(t, k.Secret, servertest.DialOptions{})
	ctx := ctx10(t)
	printers := []protocol.Printer{{ID: "sim://zebra", Name: "Zebra ZD421", Make: "Zebra", Status: "ready"}}
	if err := a.Send(ctx, protocol.Printers{Printers: printers}); err != nil {
		t.Fatal(err)
	}
	var info hub.ClientInfo
	servertest.WaitFor(t, "printers listed", func() bool {
		cs := s.S.Hub.Clients(s.PortalID)
		if len(cs) == 1 && len(cs[0].Printers) == 1 {
			info = cs[0]
			return true
		}
		return false
	})
	if info.ClientID != a.Welcome.ClientID || info.ClientID != jobs.ClientID(s.PortalID, k.ID, a.Hello.InstallationID) ||
		info.CredentialID != k.ID || info.Description != "Packing table 3" || info.Hostname != "test-host" ||
		info.InstallationID != a.Hello.InstallationID || info.Printers[0] != printers[0] {
		t.Fatalf("client = %+v", info)
	}
	if c, ok := s.S.Hub.Client(s.PortalID, a.Welcome.ClientID); !ok || c.ClientID != info.ClientID {
		t.Fatalf("Client() = %+v %v", c, ok)
	}
	job := protocol.Job{JobID: "job1", PrinterID: "sim://zebra", Content: []byte("^XA^XZ"), Copies: 1}
	if err := s.S.Hub.Send(ctx, a.Welcome.ClientID, job); err != nil {
		t.Fatal(err)
	}
	m, err := a.Read(ctx)
	if j, ok := m.(protocol.Job); err != nil || !ok || j.JobID != "job1" || string(j.Content) != "^XA^XZ" {
		t.Fatalf("got %#v %v", m, err)
	}
	if err := s.S.Hub.Send(ctx, "cli_nobody", job); err == nil {
		t.Fatalf("send to an unknown client succeeded")
	}
}

// TestShutdownClosesSessions: a graceful shutdown closes agent sessions with 4005.
func TestShutdownClosesSessions(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	k := s.CreatePrintClient(t, "shutdown")
	a := s.Connect(t, k.Secret, servertest.DialOptions{})
	b := s.Connect(t, k.Secret, servertest.DialOptions{})
	done := make(chan error, 1)
	go func() { done <- s.S.Shutdown(ctx10(t)) }()
	a.ExpectClose(t, protocol.CloseServerShutdown)
	b.ExpectClose(t, protocol.CloseServerShutdown)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := s.S.Hub.Count(); n != 0 {
		t.Fatalf("%d sessions after shutdown", n)
	}
}
