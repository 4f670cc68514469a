package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"printdock/internal/testenv"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"printdock/protocol"
	"printdock/server/keys"
	"printdock/server/servertest"
)

// defaultLog captures everything logged through slog.Default by this test binary.
var defaultLog testenv.SyncBuffer

// TestMain also scans the default logger's output of the whole suite for every secret any test server
// issued (each servertest server scans its own log and responses when its test ends).
func TestMain(m *testing.M) {
	if os.Getenv("PRINTDOCK_BENCH_SERVER") == "1" {
		os.Exit(benchServerMain())
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(&defaultLog, &slog.HandlerOptions{Level: slog.LevelDebug})))
	code := m.Run()
	if leaks := servertest.ScanText("default log", defaultLog.String()); len(leaks) > 0 {
		for _, l := range leaks {
			fmt.Fprintln(os.Stderr, "secret leak:", l)
		}
		code = 1
	}
	os.Exit(code)
}

// TestNoSecretLeaks drives every flow, including secrets sent where they do not belong, and checks that
// no secret reaches a log line, a second response, or a websocket message. It also proves the detector
// works by planting a secret in the log.
func TestNoSecretLeaks(t *testing.T) {
	s := servertest.New(t, servertest.Options{NoLeakCheck: true, AuthFailureBurst: 1000})
	ctx := ctx10(t)
	k := s.CreatePrintClient(t, "leak check")
	dev := s.CreateKey(t, s.AdminKey, map[string]any{"description": "shared dev", "use_shared_secret": true})
	u := s.CreateUser(t, "leaky@example.com", keys.RoleAdmin)
	clientID, tok := oauthToken(t, s)

	// Normal flows.
	a := s.Connect(t, k.Secret, servertest.DialOptions{})
	d := s.Connect(t, dev.Secret, servertest.DialOptions{Device: dev.ID})
	_ = a.Send(ctx, protocol.Printers{Printers: []protocol.Printer{{ID: "sim://x", Name: "x", Status: "ready"}}})
	for _, p := range []string{"/api/v1/print-client-secrets", "/api/v1/print-client-secrets/" + k.ID, "/api/v1/users",
		"/api/v1/me", "/api/v1/audit", "/api/v1/clients", "/api/v1/shared-secret/devices", "/api/v1/oauth-clients", "/metrics"} {
		s.Do(t, http.MethodGet, p, s.AdminKey, nil)
		s.Do(t, http.MethodGet, p, u.APIKey, nil)
	}
	s.Do(t, http.MethodGet, "/api/v1/print-client-secrets", tok, nil)
	rot := s.KeyAction(t, k.ID, "rotate")
	a.ExpectLogout(t, protocol.ReasonRotated)
	newShared := s.ResetSharedSecret(t, true)
	d.ExpectLogout(t, protocol.ReasonRotated)
	s.Connect(t, newShared, servertest.DialOptions{Device: dev.ID}).Conn.CloseNow()
	s.Connect(t, rot.Secret, servertest.DialOptions{}).Conn.CloseNow()
	s.Do(t, http.MethodPost, "/api/v1/users/"+u.ID+"/api-key/rotate", s.AdminKey, nil)

	// Secrets in the wrong places.
	for _, sec := range []string{k.Secret, rot.Secret, s.AdminKey, u.APIKey, tok, newShared} {
		s.Do(t, http.MethodGet, "/api/v1/print-client-secrets/"+sec, s.AdminKey, nil)
		s.Do(t, http.MethodGet, "/api/v1/audit?actor="+url.QueryEscape(sec), s.AdminKey, nil)
		s.Do(t, http.MethodPost, "/api/v1/print-client-secrets", s.AdminKey, `{"`+sec+`":1}`)
		s.Do(t, http.MethodPost, "/api/v1/print-client-secrets", s.AdminKey, `{"description":"`+sec+`"}`)
		s.Do(t, http.MethodPost, "/api/v1/print-client-secrets", s.AdminKey, `{"description":["`+sec+`"]}`)
		s.Do(t, http.MethodPost, "/api/v1/users", s.AdminKey, map[string]any{"email": sec})
		s.Do(t, http.MethodPost, "/api/v1/shared-secret/reset", s.AdminKey, map[string]any{"confirmation": sec})
		s.Do(t, http.MethodGet, "/api/v1/me", sec[:45], nil)
		s.Do(t, http.MethodGet, "/api/v1/me", sec+"x", nil)
		s.Dial(ctx, newShared, servertest.DialOptions{Device: sec})
		s.Dial(ctx, sec[:40], servertest.DialOptions{})
		postForm(t, s, url.Values{"grant_type": {"client_credentials"}, "client_id": {sec}, "client_secret": {sec}}, "")
		postForm(t, s, url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {sec}}, "")
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/v1/me", nil)
		req.Header.Set("Authorization", "Token "+sec)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	// An agent that sends secrets in garbage messages.
	g := s.Connect(t, rot.Secret, servertest.DialOptions{})
	_ = g.Conn.Write(ctx, websocket.MessageText, []byte(`{"type":"`+tok+`"}`))
	_ = g.Conn.Write(ctx, websocket.MessageText, []byte(`{"type":"job_status","job_id":"j","state":"`+tok+`"}`))
	_ = g.Send(ctx, protocol.Error{Code: tok, Message: tok})
	for range 2 {
		g.Read(ctx)
	}
	g.ExpectAlive(t)
	_ = g.Conn.Write(ctx, websocket.MessageText, []byte(tok))
	g.WaitClose(context.Background(), protocol.CloseProtocolError)

	if err := s.S.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if leaks := s.Recorder().Leaks(); len(leaks) > 0 {
		t.Fatalf("secret leaks:\n%s", strings.Join(leaks, "\n"))
	}

	// Negative control: the detector notices a secret in a log line and in a repeated response.
	s.Recorder().LogWriter().Write([]byte("oops " + rot.Secret + "\n"))
	s.Recorder().Response("planted", []byte(`{"secret":"`+newShared+`"}`))
	leaks := s.Recorder().Leaks()
	if len(leaks) < 2 {
		t.Fatalf("detector missed planted secrets: %v", leaks)
	}
	for _, l := range leaks {
		if strings.Contains(l, rot.Secret) || strings.Contains(l, newShared) {
			t.Fatalf("the leak report itself shows a secret")
		}
	}
}
