package portal

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"printdock/internal/testenv"
	"printdock/protocol"
	"printdock/server/jobs"
	"printdock/server/keys"
)

// The portal's workflows end to end in a real, headless Chromium against a real server (SQLite,
// keys.Service, hub, REST API with the agent websocket, portal). Every console error, uncaught exception
// or CSP violation fails the test.
//
// PRINTDOCK_SCREENSHOTS=1 writes a screenshot of every page to docs/screenshots/portal-*.png.

func TestBrowserWorkflows(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	e := newEnv(t, false)
	u := newUITest(t, e)
	portalID := e.admin.PortalID
	root := t // agents outlive the step that connects them
	const desc = "Warehouse 2 – packing station 4"
	var secret, keyID, opPassword string
	var agent *testAgent
	printers := []protocol.Printer{
		{ID: "usb://0a5f:0181/D4J214500123", Name: "Zebra ZD421", Make: "Zebra", Model: "ZD421-203dpi", Status: "ready"},
		{ID: "tcp://10.20.4.31:9100", Name: "Zebra ZT411 (pallets)", Make: "Zebra", Model: "ZT411", Status: "media_out", Reason: "out of labels"},
	}
	steps := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"sign in", func(t *testing.T) {
			u.open("/keys", http.StatusOK) // redirected to the sign-in page
			if loc := u.location(); !strings.HasPrefix(loc, "/login?next=") {
				t.Fatalf("signed-out /keys went to %s", loc)
			}
			u.shot("login")
			u.do(chromedp.SendKeys(chromedp.ID("email"), e.admin.AdminEmail),
				chromedp.SendKeys(chromedp.ID("password"), "not the password"))
			u.submit("#signin", http.StatusUnauthorized)
			if got := u.text("#form-error"); got != "Wrong e-mail address or password." {
				t.Fatalf("wrong password message %q", got)
			}
			u.do(chromedp.SendKeys(chromedp.ID("password"), e.admin.AdminPassword))
			u.submit("#signin", http.StatusOK)
			if loc := u.location(); loc != "/keys" {
				t.Fatalf("after sign-in at %s, want /keys", loc)
			}
		}},
		{"create print client secret", func(t *testing.T) {
			u.do(chromedp.SendKeys(chromedp.ID("description"), "Front office – Brother QL-820"),
				chromedp.Click(chromedp.ID("inactive")))
			u.submit("#add-key", http.StatusOK)
			u.open("/keys", http.StatusOK)
			u.do(chromedp.SendKeys(chromedp.ID("description"), desc))
			u.submit("#add-key", http.StatusOK)
			secret = u.value("#secret")
			if kind, err := protocol.ParseSecret(secret); err != nil || kind != protocol.KindPrintClient {
				t.Fatalf("secret on the page: %v %v", kind, err)
			}
			keyID = u.keyID(desc)
			if !strings.Contains(u.text(".alert-warn"), "cannot be shown again") {
				t.Error("no shown-once warning")
			}
			u.shot("secret")
			// Copy (the script's enhancement).
			u.do(chromedp.Click(chromedp.CSS(`button[data-copy="secret"]`)))
			testenv.WaitFor(t, "the Copy button to react", func() bool {
				l := u.text(`button[data-copy="secret"]`)
				return l == "Copied" || l == "Press Ctrl+C"
			})
			if clip, ok := u.eval(`navigator.clipboard.readText().catch(() => "")`).(string); ok && clip != "" && clip != secret {
				t.Errorf("clipboard holds %q, want the secret", clip)
			}
			// Download: a one-time text file holding the secret.
			u.do(chromedp.Click(chromedp.CSS(`button[data-download="secret"]`)))
			file := filepath.Join(u.dlDir, "printdock-client-secret-Warehouse-2-packing-station-4.txt")
			testenv.WaitFor(t, "the download", func() bool {
				b, err := os.ReadFile(file)
				return err == nil && string(b) == secret+"\n"
			})
			// The page is not cached: going back does not show the secret again.
			u.submit("#done", http.StatusOK)
			if u.present("#secret") {
				t.Error("the secret is still shown after leaving the page")
			}
		}},
		{"agent connects, live dot, clients page", func(t *testing.T) {
			if u.present(`tr[data-key="` + keyID + `"] .dot-on`) {
				t.Fatal("connected before any agent")
			}
			if got := u.text(`[data-checked="` + keyID + `"]`); got != "waiting for an agent" {
				t.Errorf("check this key before any agent: %q", got)
			}
			var status int
			var err error
			agent, status, err = dialAgent(root, e.srv.URL, secret, "", "packing-4.wh2.example.com", printers)
			if err != nil {
				t.Fatalf("agent with the page's secret: %v (HTTP %d)", err, status)
			}
			// The open page's script turns the dot on without a reload.
			u.do(chromedp.WaitVisible(chromedp.CSS(`tr[data-key="`+keyID+`"] .dot-on`)),
				chromedp.WaitVisible(chromedp.CSS(`[data-checked="`+keyID+`"].ok`))) // check this key, live
			testenv.WaitFor(t, "the agent's printers", func() bool {
				cl := e.hub.Clients(portalID)
				return len(cl) == 1 && len(cl[0].Printers) == 2
			})
			u.open("/keys", http.StatusOK)
			// At 1280 px every row action, Delete included, is inside the card (the actions wrap).
			fits := u.eval(`(() => {
				const wrap = document.querySelector("#keys-table").closest(".table-wrap");
				const box = wrap.getBoundingClientRect();
				const btns = Array.from(document.querySelectorAll('#keys-table [data-action="delete"]'));
				return wrap.scrollWidth <= wrap.clientWidth + 1 && btns.length === 2 &&
					btns.every(b => { const r = b.getBoundingClientRect(); return r.width > 0 && r.right <= box.right + 0.5; });
			})()`)
			if fits != true {
				t.Error("the keys table's Delete buttons are clipped at 1280 px")
			}
			u.shot("keys")
			u.open("/clients", http.StatusOK)
			if got := u.text(`[data-client] h2`); got != "packing-4.wh2.example.com" {
				t.Errorf("client host %q", got)
			}
			if !u.present(`tr[data-printer="tcp://10.20.4.31:9100"]`) || !strings.Contains(u.text(`tr[data-printer="tcp://10.20.4.31:9100"]`), "media out") {
				t.Error("printer and its status missing")
			}
			u.shot("clients")
		}},
		{"print jobs page", func(t *testing.T) {
			ctx := context.Background()
			admin := e.adminActor()
			printerIDs := map[string]string{}
			for _, p := range printers {
				printerIDs[p.ID] = jobs.PrinterID(portalID, agent.welcome.ClientID, p.ID)
			}
			submit := func(uri, title, content string) jobs.Job {
				j, _, err := e.jobs.Submit(ctx, admin, printerIDs[uri], jobs.SubmitRequest{Content: []byte(content), Title: title})
				if err != nil {
					t.Fatal(err)
				}
				testenv.WaitFor(t, "delivery of "+title, func() bool {
					got, err := e.jobs.Get(ctx, admin, j.ID)
					return err == nil && got.State == jobs.Sent
				})
				return j
			}
			usb, tcp := printers[0].ID, printers[1].ID
			done := submit(usb, "Order A-10492 – Jane Doe", demoLabel("JANE DOE", "221B BAKER STREET", "1234567890123456"))
			failed := submit(usb, "Order A-10493 – John Roe", demoLabel("JOHN ROE", "4 PRIVET DRIVE", "1234567890123457"))
			sent := submit(tcp, "Pallet 88", "^XA^PW812^LL406^CF0,120^FO60,120^FDPALLET 88^FS^XZ")
			agent.status(t, done.ID, protocol.JobReceived, "")
			agent.status(t, done.ID, protocol.JobPrinting, "")
			agent.status(t, done.ID, protocol.JobDone, "")
			agent.status(t, failed.ID, protocol.JobFailed, "the printer is out of labels")
			testenv.WaitFor(t, "the reports", func() bool {
				d, err1 := e.jobs.Get(ctx, admin, done.ID)
				f, err2 := e.jobs.Get(ctx, admin, failed.ID)
				return err1 == nil && err2 == nil && d.State == jobs.Done && f.State == jobs.Failed
			})
			u.open("/jobs", http.StatusOK)
			for id, want := range map[string]string{done.ID: "done", failed.ID: "failed", sent.ID: "sent"} {
				if got := u.text(`tr[data-job="` + id + `"] [data-job-state]`); got != want {
					t.Errorf("job %s shows %q, want %q", id, got, want)
				}
			}
			if got := u.text(`tr[data-job="` + failed.ID + `"] [data-reason]`); got != "the printer is out of labels" {
				t.Errorf("failure reason %q", got)
			}
			// Every row's label preview is a loaded image (drawn by printer/zpl on the server).
			testenv.WaitFor(t, "the label previews", func() bool {
				return u.eval(`Array.from(document.querySelectorAll("#jobs-table img")).every(i => i.complete && i.naturalWidth > 0)`) == true
			})
			if w := u.eval(`document.querySelector('tr[data-job="` + done.ID + `"] img').naturalWidth`); w != float64(812) {
				t.Errorf("preview width %v, want 812 dots", w)
			}
			u.shot("jobs")
			u.do(chromedp.SetValue(chromedp.ID("state"), "failed"))
			u.submit("#filter", http.StatusOK)
			if n := u.eval(`document.querySelectorAll("#jobs-table tbody tr").length`); n != float64(1) {
				t.Errorf("failed filter shows %v rows", n)
			}
		}},
		{"rotate logs the agent out", func(t *testing.T) {
			u.open("/keys", http.StatusOK)
			u.submit(`tr[data-key="`+keyID+`"] button[data-action="rotate"]`, http.StatusOK)
			newSecret := u.value("#secret")
			if newSecret == secret || !strings.HasPrefix(newSecret, "pdc_") {
				t.Fatalf("rotation showed %q", newSecret)
			}
			agent.expectLogout(t, protocol.ReasonRotated)
			if _, status, err := dialAgent(root, e.srv.URL, secret, "", "x", nil); err == nil || status != http.StatusUnauthorized {
				t.Errorf("old secret after rotation: %v, HTTP %d", err, status)
			}
			secret = newSecret
			var err error
			if agent, _, err = dialAgent(root, e.srv.URL, secret, "", "packing-4.wh2.example.com", printers); err != nil {
				t.Fatalf("new secret: %v", err)
			}
		}},
		{"deactivate, activate, revoke", func(t *testing.T) {
			row := `tr[data-key="` + keyID + `"] `
			u.submit("#done", http.StatusOK)
			u.submit(row+`button[data-action="deactivate"]`, http.StatusOK)
			agent.expectLogout(t, protocol.ReasonDeactivated)
			if got := u.text(row + "[data-status]"); got != "inactive" {
				t.Errorf("status after deactivate %q", got)
			}
			if !strings.Contains(u.text("#flash"), "deactivated") {
				t.Errorf("flash %q", u.text("#flash"))
			}
			if _, status, err := dialAgent(root, e.srv.URL, secret, "", "x", nil); err == nil || status != http.StatusForbidden {
				t.Errorf("inactive secret: %v, HTTP %d", err, status)
			}
			u.submit(row+`button[data-action="activate"]`, http.StatusOK)
			if got := u.text(row + "[data-status]"); got != "active" {
				t.Errorf("status after activate %q", got)
			}
			var err error
			if agent, _, err = dialAgent(root, e.srv.URL, secret, "", "packing-4", nil); err != nil {
				t.Fatalf("after activate: %v", err)
			}
			u.submit(row+`a[data-action="revoke"]`, http.StatusOK) // a confirmation first
			if !strings.Contains(u.text("h1"), desc) || !strings.Contains(u.text("main"), "permanent") {
				t.Errorf("revoke confirmation %q", u.text("h1"))
			}
			u.shot("revoke")
			u.submit("#confirm-revoke", http.StatusOK)
			agent.expectLogout(t, protocol.ReasonRevoked)
			if got := u.text(row + "[data-status]"); got != "revoked" {
				t.Errorf("status after revoke %q", got)
			}
			if u.present(row + `button[data-action="activate"]`) {
				t.Error("a revoked key offers Activate")
			}
			if _, status, err := dialAgent(root, e.srv.URL, secret, "", "x", nil); err == nil || status != http.StatusForbidden {
				t.Errorf("revoked secret: %v, HTTP %d", err, status)
			}
		}},
		{"delete with confirmation", func(t *testing.T) {
			// A connected key: deleting it logs its agent out.
			u.do(chromedp.SendKeys(chromedp.ID("description"), "Returns desk"))
			u.submit("#add-key", http.StatusOK)
			s := u.value("#secret")
			id := u.keyID("Returns desk")
			a, _, err := dialAgent(root, e.srv.URL, s, "", "returns-pc", nil)
			if err != nil {
				t.Fatal(err)
			}
			u.open("/keys", http.StatusOK)
			u.submit(`tr[data-key="`+id+`"] a[data-action="delete"]`, http.StatusOK)
			if !strings.Contains(u.text("h1"), "Returns desk") {
				t.Errorf("confirmation heading %q", u.text("h1"))
			}
			u.shot("delete")
			u.submit("#confirm-delete", http.StatusOK)
			a.expectLogout(t, protocol.ReasonDeleted)
			if u.present(`tr[data-key="` + id + `"]`) {
				t.Error("deleted key still listed")
			}
			// The revoked key goes too.
			u.submit(`tr[data-key="`+keyID+`"] a[data-action="delete"]`, http.StatusOK)
			u.submit("#confirm-delete", http.StatusOK)
			if u.present(`tr[data-key="` + keyID + `"]`) {
				t.Error("deleted key still listed")
			}
		}},
		{"profile: rotate own API key", func(t *testing.T) {
			desktop, _, err := dialAgent(root, e.srv.URL, e.admin.AdminAPIKey, "", "admin-laptop", nil)
			if err != nil {
				t.Fatalf("desktop client with the admin's API key: %v", err)
			}
			u.open("/profile", http.StatusOK)
			if got := u.text("#api-key-prefix"); got != protocol.SecretPrefix(e.admin.AdminAPIKey)+"…" {
				t.Errorf("prefix on the profile %q", got)
			}
			u.shot("profile")
			u.submit("#rotate-own", http.StatusOK)
			if !strings.Contains(u.text(".alert-warn"), "signs you out of all desktop clients") {
				t.Errorf("no warning: %q", u.text(".alert-warn"))
			}
			u.shot("profile-rotate")
			u.submit("#confirm-rotate", http.StatusOK)
			key := u.value("#api-key")
			if kind, err := protocol.ParseSecret(key); err != nil || kind != protocol.KindUser || key == e.admin.AdminAPIKey {
				t.Fatalf("new API key: %v %v", kind, err)
			}
			desktop.expectLogout(t, protocol.ReasonRotated)
			u.open("/profile", http.StatusOK)
			if got := u.text("#api-key-prefix"); got != protocol.SecretPrefix(key)+"…" {
				t.Errorf("prefix after rotation %q", got)
			}
		}},
		{"users: create, role, rotate", func(t *testing.T) {
			u.open("/users", http.StatusOK)
			u.do(chromedp.SendKeys(chromedp.ID("new-email"), "operator@example.com"))
			u.submit("#add-user", http.StatusOK)
			password := u.value("#password")
			apiKey := u.value("#api-key")
			if password == "" || !strings.HasPrefix(apiKey, "pdu_") {
				t.Fatalf("new user's password %q / key %q", password, apiKey)
			}
			u.shot("user-created")
			opPassword = password
			u.open("/users", http.StatusOK)
			u.do(chromedp.SendKeys(chromedp.ID("new-email"), "supervisor@example.com"))
			u.submit("#add-user", http.StatusOK)
			u.open("/users", http.StatusOK)
			row := `tr[data-email="supervisor@example.com"] `
			u.do(chromedp.SetValue(chromedp.CSS(row+"select"), "admin"))
			u.submit(row+`button[data-action="set-role"]`, http.StatusOK)
			if !strings.Contains(u.text("#flash"), "supervisor@example.com is now admin") {
				t.Errorf("flash %q", u.text("#flash"))
			}
			if v := u.value(row + "select"); v != "admin" {
				t.Errorf("role shown %q", v)
			}
			// An admin rotates another user's key without a confirmation step.
			desktop, _, err := dialAgent(root, e.srv.URL, apiKey, "", "operator-pc", nil)
			if err != nil {
				t.Fatal(err)
			}
			u.submit(`tr[data-email="operator@example.com"] button[data-action="rotate-user"]`, http.StatusOK)
			newKey := u.value("#api-key")
			if newKey == apiKey || !strings.HasPrefix(newKey, "pdu_") {
				t.Fatalf("rotated key %q", newKey)
			}
			desktop.expectLogout(t, protocol.ReasonRotated)
			u.open("/users", http.StatusOK)
			u.shot("users")
		}},
		{"shared secret: device, wrong and right confirmation", func(t *testing.T) {
			u.open("/keys", http.StatusOK)
			u.do(chromedp.SendKeys(chromedp.ID("description"), "Line 3 – shared station"), chromedp.Click(chromedp.ID("shared")))
			u.submit("#add-key", http.StatusOK)
			device := u.value("#device-id")
			shared := u.value("#secret")
			if !strings.HasPrefix(shared, "pds_") || device == "" {
				t.Fatalf("shared device %q secret %q", device, shared)
			}
			a, _, err := dialAgent(root, e.srv.URL, shared, device, "line3-station", nil)
			if err != nil {
				t.Fatalf("shared device connects: %v", err)
			}
			u.open("/shared", http.StatusOK)
			if !u.present(`#shared-devices tr[data-key="` + device + `"] .dot-on`) {
				t.Error("the shared device is not listed as connected")
			}
			u.do(chromedp.SendKeys(chromedp.ID("confirmation"), "yes i confirm"), chromedp.Click(chromedp.ID("reset_devices")))
			u.submit("#reset", http.StatusBadRequest)
			if !strings.Contains(u.text("#form-error"), keys.SharedResetConfirmation) {
				t.Errorf("refusal message %q", u.text("#form-error"))
			}
			if _, _, err := dialAgent(root, e.srv.URL, shared, device, "line3-probe", nil); err != nil {
				t.Errorf("the refused reset changed the secret: %v", err)
			}
			u.do(chromedp.Clear(chromedp.ID("confirmation")), chromedp.SendKeys(chromedp.ID("confirmation"), keys.SharedResetConfirmation))
			u.shot("shared")
			u.submit("#reset", http.StatusOK)
			newShared := u.value("#secret")
			if !strings.HasPrefix(newShared, "pds_") || newShared == shared {
				t.Fatalf("new shared secret %q", newShared)
			}
			a.expectLogout(t, protocol.ReasonRotated)
			if _, _, err := dialAgent(root, e.srv.URL, newShared, device, "line3-station", nil); err != nil {
				t.Errorf("device with the new shared secret: %v", err)
			}
		}},
		{"forged cross-site form", func(t *testing.T) {
			target := e.srv.URL + "/shared/reset"
			evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				fmt.Fprintf(w, `<form method="post" action="%s"><input name="confirmation" value="%s"><input name="reset_devices" value="on"><button id="go">Win a prize</button></form>`,
					target, keys.SharedResetConfirmation)
			}))
			defer evil.Close()
			before, err := e.svc.Audit(context.Background(), e.adminActor(), keys.AuditFilter{Action: keys.ActionSharedSecretReset})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := u.step()
			defer cancel()
			if err := chromedp.Do(ctx, chromedp.Navigate(strings.Replace(evil.URL, "127.0.0.1", "localhost", 1))); err != nil {
				t.Fatal(err)
			}
			u.submit("#go", http.StatusForbidden)
			after, _ := e.svc.Audit(context.Background(), e.adminActor(), keys.AuditFilter{Action: keys.ActionSharedSecretReset})
			if len(after) != len(before) {
				t.Error("a cross-site form reset the shared secret")
			}
		}},
		{"audit log filter", func(t *testing.T) {
			u.open("/audit", http.StatusOK)
			u.do(chromedp.SendKeys(chromedp.ID("action"), keys.ActionClientKeyRotate))
			u.submit("#filter", http.StatusOK)
			rows := u.eval(`Array.from(document.querySelectorAll("#audit-table tbody tr td:nth-child(3)")).map(td => td.textContent.trim())`).([]any)
			if len(rows) != 1 || rows[0] != keys.ActionClientKeyRotate {
				t.Errorf("rotate entries %v", rows)
			}
			today := time.Now().UTC().Format(time.DateOnly)
			u.open("/audit?actor="+e.admin.AdminEmail+"&since="+today+"&until="+today, http.StatusOK)
			actors := u.eval(`Array.from(document.querySelectorAll("#audit-table tbody tr td:nth-child(2)")).map(td => td.textContent.trim())`).([]any)
			if len(actors) < 10 {
				t.Errorf("only %d entries by the admin today", len(actors))
			}
			for _, a := range actors {
				if a != e.admin.AdminEmail {
					t.Errorf("actor filter let %v through", a)
				}
			}
			u.open("/audit?until=2000-01-01", http.StatusOK)
			if u.present("#audit-table") {
				t.Error("entries before 2000")
			}
			u.open("/audit", http.StatusOK)
			u.shot("audit")
		}},
		{"plain user", func(t *testing.T) {
			u.submit("#signout", http.StatusOK)
			if !strings.Contains(u.text(".login-card"), "You have signed out.") {
				t.Error("no signed-out notice")
			}
			u.do(chromedp.SendKeys(chromedp.ID("email"), "operator@example.com"), chromedp.SendKeys(chromedp.ID("password"), opPassword))
			u.submit("#signin", http.StatusOK)
			if loc := u.location(); loc != "/profile" {
				t.Errorf("user landed on %s", loc)
			}
			for _, link := range []string{"/keys", "/users", "/shared", "/audit"} {
				if u.present(`nav a[href="` + link + `"]`) {
					t.Errorf("user's navigation links %s", link)
				}
			}
			for _, path := range []string{"/keys", "/users", "/shared", "/audit", "/keys/status"} {
				u.open(path, http.StatusForbidden)
			}
			u.open("/users", http.StatusForbidden)
			if got := u.text("#error-heading"); got != "Administrators only" {
				t.Errorf("403 heading %q", got)
			}
			u.shot("forbidden")
			u.open("/clients", http.StatusOK)
			// Forged requests from the page: no token, then the session's own token.
			status := u.eval(`fetch("/keys", {method: "POST", headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: "description=forged"}).then(r => r.status)`)
			if status != float64(403) {
				t.Errorf("forged POST without token: %v", status)
			}
			status = u.eval(`fetch("/shared/reset", {method: "POST", headers: {"Content-Type": "application/x-www-form-urlencoded"},
				body: "csrf=" + encodeURIComponent(document.querySelector("input[name=csrf]").value) + "&confirmation=Yes%2C+I+do+confirm+it"}).then(r => r.status)`)
			if status != float64(403) {
				t.Errorf("user's POST with token: %v", status)
			}
			u.open("/profile", http.StatusOK)
		}},
	}
	for _, s := range steps {
		ok := t.Run(s.name, func(t *testing.T) {
			u.t = t
			defer u.checkConsole()
			s.fn(t)
		})
		if !ok {
			break
		}
	}
}

// demoLabel is a 4×6 in shipping label in the ZPL subset printer/zpl draws.
func demoLabel(name, street, tracking string) string {
	return "^XA^PW812^LL1218^CI28" +
		"^FO30,30^A0N,28,28^FDFROM: Printdock Fulfilment, 12 Harbour Road, Bristol BS1 5TY^FS" +
		"^FO20,80^GB772,3,3^FS^FO30,100^A0N,30,30^FDSHIP TO:^FS" +
		"^FO60,140^A0N,56,56^FD" + name + "^FS^FO60,205^A0N,40,40^FD" + street + "^FS" +
		"^FO60,255^A0N,40,40^FDLONDON NW1 6XE^FS^FO60,305^A0N,40,40^FDUNITED KINGDOM^FS" +
		"^FO20,380^GB772,140,4^FS^FO20,380^GB180,140,140^FS^FO45,398^A0N,110,100^FR^FDP1^FS" +
		"^FO220,400^A0N,40,40^FDPRIORITY OVERNIGHT^FS^FO220,450^A0N,30,30^FDDELIVER BY 10:30^FS" +
		"^BY3,3,160^FO110,560^BCN,160,Y,N,N^FD>;" + tracking + "^FS" +
		"^FO30,800^BQN,2,6^FDQA,https://track.example.com/" + tracking + "^FS" +
		"^FO330,820^A0N,28,28^FB450,4,8,L^FDWeight: 2.4 kg\\&Order: #A-10492\\&Pieces: 1 of 1^FS" +
		"^FO20,1150^GB772,50,50^FS^FO20,1160^FB772,1,0,C^A0N,34,34^FR^FDHANDLE WITH CARE^FS^XZ"
}
