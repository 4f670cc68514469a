package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"printdock/internal/testenv"
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
	k := s.CreateKey(t, s.AdminKey, map[string]any{"description": "starts inactive", "inactive": true})
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
	testenv.WaitFor(t, "printers listed", func() bool {
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
