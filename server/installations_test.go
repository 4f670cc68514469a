package server_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"printdock/agent"
	"printdock/agent/localapi"
	"printdock/internal/testenv"
	"printdock/keystore"
	"printdock/protocol"
	"printdock/server/events"
	"printdock/server/keys"
	"printdock/server/servertest"
	"printdock/server/store"
)

// realAgent starts a real agent (its own state directory, so its own installation ID) on host.
func realAgent(t *testing.T, dir, host string) *agent.Agent {
	t.Helper()
	a, err := agent.New(agent.Config{StateDir: dir, Keystore: keystore.ModeFile, SocketPath: "-",
		Logger: slog.New(slog.DiscardHandler), NoDiscovery: true, Hostname: host})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Stop)
	return a
}

func waitState(t *testing.T, a *agent.Agent, state string) localapi.Status {
	t.Helper()
	var st localapi.Status
	testenv.WaitFor(t, "agent state "+state, func() bool {
		st = a.Status()
		return st.State == state
	})
	return st
}

// TestOneSecretPerInstallation: two installations with one print client secret are flagged (audit)
// within one connection; under the portal's policy the second is refused with a message naming the
// first, which its status shows.
func TestOneSecretPerInstallation(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	ctx := context.Background()
	key := s.CreatePrintClient(t, "Dock 3")
	dirB := t.TempDir()

	a := realAgent(t, t.TempDir(), "PC-DOCK-3")
	if _, err := a.Login(ctx, s.URL, key.Secret, ""); err != nil {
		t.Fatal(err)
	}
	waitState(t, a, localapi.StateConnected)
	b := realAgent(t, dirB, "PC-DOCK-7")
	if _, err := b.Login(ctx, s.URL, key.Secret, ""); err != nil {
		t.Fatalf("second installation without the policy: %v", err)
	}
	waitState(t, b, localapi.StateConnected)
	var audit struct {
		Items []struct{ Detail string }
	}
	s.JSON(t, http.MethodGet, "/api/v1/audit?action="+keys.ActionClientKeyInstallations, s.AdminKey, nil, http.StatusOK, &audit)
	if len(audit.Items) == 0 || !strings.Contains(audit.Items[0].Detail, `used_on="PC-DOCK-3" new="PC-DOCK-7" refused=false`) {
		t.Fatalf("audit after the second installation: %+v", audit.Items)
	}
	// Integrations hear of it too (webhooks, the event stream): a key.second_installation event.
	evs, err := s.S.Events.Read(ctx, store.EventFilter{PortalID: s.PortalID, Types: []string{events.KeySecondInstallation}})
	if err != nil || len(evs) == 0 || !strings.Contains(string(evs[0].Data), `"used_on":"PC-DOCK-3","new_host":"PC-DOCK-7","refused":false`) {
		t.Fatalf("key.second_installation events: %+v, %v", evs, err)
	}

	// The policy: B (stopped) comes back while A is connected and is refused by name.
	b.Stop()
	admin, err := s.S.Keys.Authenticate(ctx, s.AdminKey, "", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.S.Keys.UpdateSettings(ctx, keys.Actor{Principal: admin}, keys.Settings{OneInstallationPerSecret: true}); err != nil {
		t.Fatal(err)
	}
	b2 := realAgent(t, dirB, "PC-DOCK-7")
	st := waitState(t, b2, localapi.StateLoggedOut)
	want := "this secret is already used on PC-DOCK-3; ask your admin for a new one"
	if st.LogoutReason != protocol.ReasonInUse || st.LogoutMessage != want || !strings.Contains(st.LastError, want) {
		t.Errorf("refused agent's status: reason %q, message %q, last error %q", st.LogoutReason, st.LogoutMessage, st.LastError)
	}
	if got := a.Status().State; got != localapi.StateConnected {
		t.Errorf("first installation is %s", got)
	}
	// A new installation logging in with the same secret is told why, and nothing is stored.
	c := realAgent(t, t.TempDir(), "PC-DOCK-9")
	if _, err := c.Login(ctx, s.URL, key.Secret, ""); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("login of a third installation: %v", err)
	}
}

// TestExpiredKeyLogsOut: a key whose expiry passes logs its agent out with reason expired (the agent
// shows "The key expired"); it then fails to connect.
func TestExpiredKeyLogsOut(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	ctx := context.Background()
	key := s.CreatePrintClient(t, "Dock 5")
	a := s.Connect(t, key.Secret, servertest.DialOptions{})
	admin, err := s.S.Keys.Authenticate(ctx, s.AdminKey, "", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Second)
	if err := s.S.Keys.SetExpiry(ctx, keys.Actor{Principal: admin}, key.ID, &past); err != nil {
		t.Fatal(err)
	}
	a.ExpectLogout(t, protocol.ReasonExpired)
	if _, err := s.TryConnect(ctx, key.Secret, servertest.DialOptions{}); err == nil {
		t.Error("an expired key connected")
	}
}
