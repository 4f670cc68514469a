//go:build wine

package winetest

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"printdock/agent/localapi"
	"printdock/printer/sim"
	"printdock/server/servertest"
)

// TestWineAgentMSI is the whole Windows story under Wine, in order: install, sign in, print, upgrade
// keeping the login, rotation logging the agent out, uninstall keeping then removing the secret.
func TestWineAgentMSI(t *testing.T) {
	w := newWine(t)
	ts := servertest.New(t, servertest.Options{Heartbeat: 2 * time.Second})
	sp, err := sim.New("wine-dock").Listen(t.Context(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	uri := sp.URI()

	// Install 1.0 as IT would push it.
	start := time.Now()
	w.msiexec("/i", w.msiOld, "SERVER_URL="+ts.URL, "STATUS_MODE=none")
	t.Logf("install 1.0: %s", fmtSecs(time.Since(start)))
	var fc struct {
		ServerURL  string `json:"server_url"`
		StatusMode string `json:"status_mode"`
	}
	b, err := os.ReadFile(w.file("ProgramData/printdock/agent.json"))
	if err != nil {
		t.Fatalf("agent.json after install: %v", err)
	}
	if err := json.Unmarshal(b, &fc); err != nil || fc.ServerURL != ts.URL || fc.StatusMode != "none" {
		t.Fatalf("agent.json = %s (%v), want server_url %s and status_mode none", b, err, ts.URL)
	}
	for _, f := range []string{"Program Files/printdock/printdock-agent.exe", "Program Files/printdock/printdock.exe"} {
		if _, err := os.Stat(w.file(f)); err != nil {
			t.Errorf("after install: %v", err)
		}
	}
	if lnk := w.shortcut(); lnk == "" {
		t.Errorf("no Start-menu entry printdock.lnk")
	} else {
		t.Logf("Start-menu entry: %s", lnk)
	}
	if v := w.reg(runKey, "printdock"); !strings.Contains(v, `printdock\printdock.exe`) {
		t.Errorf("Run key printdock = %q, want the app", v)
	}
	if v := w.reg(envKey, "PATH"); !strings.Contains(strings.ToLower(v), `c:\program files\printdock`) {
		t.Errorf("system PATH = %q, want the install directory in it", v)
	}
	st, rc := w.status(w.agentExe)
	if rc != 3 || st.State != localapi.StateNotLoggedIn || st.Service.Platform != "windows-service" || !st.Service.Installed {
		t.Fatalf("status --json before login: exit %d, %+v", rc, st)
	}

	// Sign in with a print client secret from the Linux server, through stdin; the URL is the MSI's.
	k := ts.CreatePrintClient(t, "wine dock")
	out, stderr, rc := w.run(k.Secret+"\n", w.agentExe, "login", "--json")
	if rc != 0 || !strings.Contains(out, ts.URL) {
		t.Fatalf("login: exit %d: %s %s", rc, out, stderr)
	}
	ag := w.startAgent(uri)
	connected(t, ts, k.ID, true)
	printOne(t, ts, sp.Printer(), uri, []byte("^XA^FO20,20^A0N,40,40^FDWine 1.0 ^FS^XZ\r\n\x00\xff"))
	st, rc = w.status(w.agentExe)
	if rc != 0 || st.State != localapi.StateConnected || !st.AgentRunning {
		t.Fatalf("status --json of the running agent: exit %d, %+v", rc, st)
	}
	ag.stop(t)
	connected(t, ts, k.ID, false)

	// Upgrade in place: 1.1 replaces 1.0 (MajorUpgrade, same UpgradeCode); the login survives.
	start = time.Now()
	w.msiexec("/i", w.msiNew)
	t.Logf("upgrade to 1.1: %s", fmtSecs(time.Since(start)))
	out, _, _ = w.run("", w.agentExe, "version", "--json")
	if !strings.Contains(out, os.Getenv("PRINTDOCK_WINE_VERSION_NEW")) {
		t.Fatalf("after the upgrade the agent says %s, want %s", out, os.Getenv("PRINTDOCK_WINE_VERSION_NEW"))
	}
	if b2, _ := os.ReadFile(w.file("ProgramData/printdock/agent.json")); !strings.Contains(string(b2), ts.URL) {
		t.Fatalf("agent.json after the upgrade: %s", b2)
	}
	st, rc = w.status(w.agentExe)
	if rc != 0 || st.KeyPrefix == "" || st.ServerURL != ts.URL {
		t.Fatalf("status --json after the upgrade: exit %d, %+v (want the login kept)", rc, st)
	}
	ag = w.startAgent(uri)
	connected(t, ts, k.ID, true)
	printOne(t, ts, sp.Printer(), uri, []byte("^XA^FO20,20^A0N,40,40^FDWine 1.1^FS^XZ\r\n"))

	// Rotating the key logs the Windows agent out with reason rotated.
	rotated := ts.KeyAction(t, k.ID, "rotate")
	waitLong(t, "the Windows agent logged out (rotated)", func() bool {
		st, _ := w.status(w.agentExe)
		return st.State == localapi.StateLoggedOut && st.LogoutReason == "rotated"
	})
	// It signs in again with the new secret, through the running agent's local API.
	if out, stderr, rc := w.run(rotated.Secret+"\n", w.agentExe, "login"); rc != 0 {
		t.Fatalf("login with the rotated secret: exit %d: %s %s", rc, out, stderr)
	}
	connected(t, ts, k.ID, true)
	ag.stop(t)

	// Uninstall: files, service, Run key and PATH entry go; the login stays without REMOVE_SECRET=1.
	w.msiexec("/x", w.msiNew)
	for _, f := range []string{"Program Files/printdock/printdock-agent.exe", "Program Files/printdock/printdock.exe"} {
		if _, err := os.Stat(w.file(f)); !os.IsNotExist(err) {
			t.Errorf("after uninstall %s: %v (want it gone)", f, err)
		}
	}
	if lnk := w.shortcut(); lnk != "" {
		t.Errorf("the Start-menu entry is still there after uninstall: %s", lnk)
	}
	if v := w.reg(runKey, "printdock"); v != "" {
		t.Errorf("Run key after uninstall: %q", v)
	}
	if v := w.reg(envKey, "PATH"); strings.Contains(strings.ToLower(v), `program files\printdock`) {
		t.Errorf("system PATH after uninstall = %q", v)
	}
	if out, _, _ := w.run("", "sc", "query", "printdock-agent"); strings.Contains(out, "SERVICE_NAME") {
		t.Errorf("the service is still there after uninstall: %s", out)
	}
	if st, rc := w.status(w.copyExe); rc != 0 || st.KeyPrefix == "" {
		t.Fatalf("after uninstall without REMOVE_SECRET: exit %d, %+v (want the login kept)", rc, st)
	}

	// Install and uninstall with REMOVE_SECRET=1 (and AUTOSTART=0): the secret goes.
	w.msiexec("/i", w.msiNew, "AUTOSTART=0")
	if v := w.reg(runKey, "printdock"); v != "" {
		t.Errorf("Run key with AUTOSTART=0: %q", v)
	}
	w.msiexec("/x", w.msiNew, "REMOVE_SECRET=1")
	if st, rc := w.status(w.copyExe); rc != 3 || st.State != localapi.StateNotLoggedIn {
		t.Fatalf("after uninstall with REMOVE_SECRET=1: exit %d, %+v (want not logged in)", rc, st)
	}
}
