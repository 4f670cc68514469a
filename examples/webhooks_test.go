package examples

import (
	"bufio"
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"printdock/internal/testenv"
	"printdock/server"
	"printdock/server/servertest"
	"printdock/server/webhooks"
)

var receivers = []example{
	{"python", []string{"python3"}, []string{"python3", "python/webhook_receiver.py"}},
	{"node", []string{"node"}, []string{"node", "node/webhook-receiver.mjs"}},
}

// TestWebhookReceivers runs each example receiver against a real server: a signed key.rotated delivery
// is verified and answered 204; a delivery signed with another secret, or unsigned, is refused (401).
func TestWebhookReceivers(t *testing.T) {
	for _, ex := range receivers {
		t.Run(ex.name, func(t *testing.T) {
			for _, p := range ex.needs {
				_, err := exec.LookPath(p)
				testenv.RequireReal(t, p, err)
			}
			t.Parallel()
			runReceiver(t, ex)
		})
	}
}

func runReceiver(t *testing.T, ex example) {
	s := servertest.New(t, servertest.Options{Config: func(c *server.Config) {
		c.WebhooksAllowPrivate = true
		c.WebhookSender = webhooks.SenderOptions{Retry: webhooks.Retry{First: 50 * time.Millisecond, Max: time.Second}}
	}})
	// Created first for its secret; its URL is set once the receiver listens.
	var wh webhooks.Webhook
	s.JSON(t, http.MethodPost, "/api/v1/webhooks", s.AdminKey, map[string]any{"url": "https://hooks.example.com/later",
		"events": []string{"key.rotated"}}, http.StatusCreated, &wh)
	s.JSON(t, http.MethodPatch, "/api/v1/webhooks/"+wh.ID, s.AdminKey, map[string]any{"enabled": false}, http.StatusOK, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, ex.cmd[0], ex.cmd[1:]...)
	cmd.Env = append(cmd.Environ(), "PRINTDOCK_WEBHOOK_SECRET="+wh.Secret, "PRINTDOCK_WEBHOOK_LISTEN=127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr testenv.SyncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("receiver stderr:\n%s", stderr.String())
		}
	}()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func(what string) string {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("receiver exited before %s", what)
			}
			return l
		case <-time.After(30 * time.Second):
			t.Fatalf("no %s from the receiver", what)
		}
		return ""
	}
	port, err := strconv.Atoi(strings.TrimPrefix(next("port"), "listening on "))
	if err != nil {
		t.Fatalf("receiver's first line: %v", err)
	}
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/printdock"
	s.JSON(t, http.MethodPatch, "/api/v1/webhooks/"+wh.ID, s.AdminKey, map[string]any{"url": url, "enabled": true}, http.StatusOK, nil)

	key := s.CreatePrintClient(t, "rotated for the receiver")
	s.KeyAction(t, key.ID, "rotate")
	line := next("verified event")
	if !strings.HasPrefix(line, "verified evt_") || !strings.Contains(line, " key.rotated ") || !strings.Contains(line, key.ID) {
		t.Errorf("receiver printed %q, want a verified key.rotated of %s", line, key.ID)
	}

	// Forged: signed with another secret; and unsigned.
	body := []byte(`{"id":1,"type":"key.rotated","timestamp":"2026-12-05T10:00:00Z","data":{}}`)
	other, err := http.NewRequest(http.MethodPost, url, strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	forger := make([]byte, 32)
	rand.Read(forger)
	if err := webhooks.Sign(other.Header, forger, "evt_1", time.Now(), body); err != nil {
		t.Fatal(err)
	}
	unsigned, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(string(body)))
	for name, req := range map[string]*http.Request{"wrong secret": other, "unsigned": unsigned} {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: receiver answered %d, want 401", name, resp.StatusCode)
		}
	}
	select {
	case l := <-lines:
		t.Errorf("receiver accepted a forged delivery: %q", l)
	default:
	}
}
