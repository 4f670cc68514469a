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
	"printdock/server/keys"
	"printdock/server/servertest"
)

// TestReplicaOneSecretPerInstallation: one print client secret live from two installations connected to
// two replicas is flagged by the second replica (it learns of the first from the store), and refused
// there under the portal's policy with the message naming the first installation's host.
func TestReplicaOneSecretPerInstallation(t *testing.T) {
	c := newCluster(t, nil)
	b := c.replica(t, nil)
	ctx := context.Background()
	key := c.A.CreatePrintClient(t, "Dock 3")
	onA := c.A.Connect(t, key.Secret, servertest.DialOptions{})

	onB := b.Connect(t, key.Secret, servertest.DialOptions{}) // another installation, policy off
	onB.ExpectAlive(t)
	var audit struct{ Items []struct{ Detail string } }
	b.JSON(t, http.MethodGet, "/api/v1/audit?action="+keys.ActionClientKeyInstallations, b.AdminKey, nil, http.StatusOK, &audit)
	if len(audit.Items) != 1 || !strings.Contains(audit.Items[0].Detail, `used_on="test-host" new="test-host" refused=false`) {
		t.Fatalf("audit after a second installation on the other replica: %+v", audit.Items)
	}
	onB.Conn.CloseNow()
	// B records onB's disconnect after the close; until then onB is a live installation too.
	testenv.WaitFor(t, "B records the second installation's disconnect", func() bool {
		_, live := b.S.Jobs.OtherInstallation(ctx, b.PortalID, key.ID, onA.Hello.InstallationID)
		return !live
	})

	admin, err := b.S.Keys.Authenticate(ctx, b.AdminKey, "", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.S.Keys.UpdateSettings(ctx, keys.Actor{Principal: admin}, keys.Settings{OneInstallationPerSecret: true}); err != nil {
		t.Fatal(err)
	}
	if m := refusedHello(t, b, key.Secret); m.Reason != protocol.ReasonInUse || m.Message != keys.InUseMessage("test-host") {
		t.Errorf("second installation on B under the policy: %+v", m)
	}
	// The first installation reconnecting (same installation ID) on B is not another installation.
	onA.Conn.CloseNow()
	again := b.Connect(t, key.Secret, servertest.DialOptions{InstallationID: onA.Hello.InstallationID})
	again.ExpectAlive(t)
}

// refusedHello dials s with secret as a new installation and returns the logout that answers its hello.
func refusedHello(t *testing.T, s *servertest.Server, secret string) protocol.Logout {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := s.Dial(ctx, secret, servertest.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	b, err := protocol.Encode(servertest.Hello())
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
	_, data, err := conn.Read(ctx)
	if err != nil {
		t.Fatalf("read the answer to hello: %v", err)
	}
	m, err := protocol.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	l, ok := m.(protocol.Logout)
	if !ok {
		t.Fatalf("answer to hello is %s, want logout", m.MessageType())
	}
	return l
}
