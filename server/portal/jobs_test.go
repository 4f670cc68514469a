package portal

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"net/http"
	"strings"
	"testing"

	"printdock/internal/testenv"
	"printdock/protocol"
	"printdock/server/jobs"
	"printdock/server/keys"
	"printdock/server/store"
)

// shippingLabel is a small ZPL label for previews.
const shippingLabel = "^XA^PW400^LL300^FO20,20^GB360,260,4^FS^CF0,40^FO40,50^FDOrder 4711^FS" +
	"^BY2^FO40,120^BCN,80,Y,N,N^FD4711^FS^XZ"

// jobsEnv is a portal env with an agent, its printer and two jobs: a ZPL label and raw bytes.
func jobsEnv(t *testing.T) (e *env, agent *testAgent, printerID string, label, raw jobs.Job) {
	t.Helper()
	e = newEnv(t, false)
	ctx := context.Background()
	k, err := e.svc.CreateClientKey(ctx, e.adminActor(), keys.NewClientKey{Description: "Packing 1"})
	if err != nil {
		t.Fatal(err)
	}
	agent, _, err = dialAgent(t, e.srv.URL, k.Secret, "", "packing-1.example.com",
		[]protocol.Printer{{ID: "sim://zd421", Name: "Zebra ZD421", Make: "Zebra", Model: "ZD421", Status: "ready",
			Language: "zpl", DPI: 203, StatusMode: "auto"}})
	if err != nil {
		t.Fatal(err)
	}
	printerID = jobs.PrinterID(e.admin.PortalID, agent.welcome.ClientID, "sim://zd421")
	testenv.WaitFor(t, "the printer", func() bool {
		p, err := e.jobs.GetPrinter(ctx, e.admin.PortalID, printerID)
		return err == nil && p.Online
	})
	submit := func(title, content string) jobs.Job {
		j, _, err := e.jobs.Submit(ctx, e.adminActor(), printerID, jobs.SubmitRequest{Content: []byte(content), Title: title})
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
	return e, agent, printerID, submit("Order <4711>", shippingLabel), submit("raw bytes", "not a label at all")
}

// TestJobsPageAndPreview: the Jobs page lists the portal's jobs with a preview each; the preview is a
// PNG drawn by printer/zpl, private to the job's portal and cacheable by the browser only.
func TestJobsPageAndPreview(t *testing.T) {
	e, _, _, label, raw := jobsEnv(t)
	b := e.client()
	b.login(e.admin.AdminEmail, e.admin.AdminPassword)
	p := b.get("/jobs")
	if p.StatusCode != http.StatusOK {
		t.Fatalf("jobs page: %d", p.StatusCode)
	}
	for _, want := range []string{`data-job="` + label.ID + `"`, "Order &lt;4711&gt;", `src="/jobs/` + label.ID + `/preview.png"`,
		"Zebra ZD421", "sim://zd421", `data-job="` + raw.ID + `"`, "badge-job-"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("jobs page lacks %s", want)
		}
	}

	img := b.get("/jobs/" + label.ID + "/preview.png")
	if img.StatusCode != http.StatusOK || img.Header.Get("Content-Type") != "image/png" ||
		img.Header.Get("Cache-Control") != "private, max-age=86400" || img.Header.Get("X-Printdock-Preview") != "" {
		t.Fatalf("preview: %d %v", img.StatusCode, img.Header)
	}
	pic, err := png.Decode(strings.NewReader(img.body))
	if err != nil {
		t.Fatal(err)
	}
	if bnd := pic.Bounds(); bnd.Dx() != 400 || bnd.Dy() != 300 || !hasInk(pic) {
		t.Fatalf("preview is %v with ink %v", bnd, hasInk(pic))
	}
	again := b.get("/jobs/" + label.ID + "/preview.png") // from the cache, the same bytes
	if !bytes.Equal([]byte(again.body), []byte(img.body)) {
		t.Error("the cached preview differs")
	}
	ph := b.get("/jobs/" + raw.ID + "/preview.png")
	if ph.StatusCode != http.StatusOK || ph.Header.Get("X-Printdock-Preview") != "no-label" {
		t.Fatalf("placeholder: %d %v", ph.StatusCode, ph.Header)
	}
	if _, err := png.Decode(strings.NewReader(ph.body)); err != nil {
		t.Fatalf("placeholder: %v", err)
	}

	if p := b.get("/jobs?state=lost"); p.StatusCode != http.StatusBadRequest || !strings.Contains(p.body, "Unknown state") {
		t.Errorf("bad state filter: %d", p.StatusCode)
	}
	if p := b.get("/jobs?state=done"); p.StatusCode != http.StatusOK || strings.Contains(p.body, label.ID) {
		t.Errorf("done filter: %d, lists the queued job: %v", p.StatusCode, strings.Contains(p.body, label.ID))
	}
	if p := b.get("/jobs/job_nope/preview.png"); p.StatusCode != http.StatusNotFound {
		t.Errorf("unknown job's preview: %d", p.StatusCode)
	}

	// A plain user of the portal sees them; another portal's administrator does not; nobody signed out.
	_, pw := e.createUser("operator@example.com", keys.RoleUser)
	u := e.client()
	u.login("operator@example.com", pw)
	if p := u.get("/jobs/" + label.ID + "/preview.png"); p.StatusCode != http.StatusOK {
		t.Errorf("user's preview: %d", p.StatusCode)
	}
	other, err := e.svc.CreatePortal(context.Background(), "Other", "admin@other.example")
	if err != nil {
		t.Fatal(err)
	}
	o := e.client()
	o.login(other.AdminEmail, other.AdminPassword)
	if p := o.get("/jobs/" + label.ID + "/preview.png"); p.StatusCode != http.StatusNotFound || p.Header.Get("Content-Type") == "image/png" {
		t.Errorf("other portal's preview: %d", p.StatusCode)
	}
	if p := o.get("/jobs"); strings.Contains(p.body, label.ID) {
		t.Error("another portal lists the job")
	}
	if p := e.client().get("/jobs/" + label.ID + "/preview.png"); p.StatusCode != http.StatusSeeOther {
		t.Errorf("signed-out preview: %d", p.StatusCode)
	}
}

func hasInk(img image.Image) bool {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if r, _, _, _ := img.At(x, y).RGBA(); r < 0x8000 {
				return true
			}
		}
	}
	return false
}

// TestClientsPageOnlineOffline: the Clients page lists every agent the server knows, online first,
// with printers and their last status; an agent that left stays, offline.
func TestClientsPageOnlineOffline(t *testing.T) {
	e, agent, printerID, _, _ := jobsEnv(t)
	b := e.client()
	b.login(e.admin.AdminEmail, e.admin.AdminPassword)
	p := b.get("/clients")
	for _, want := range []string{`data-client="` + agent.welcome.ClientID + `" data-online="true"`, "packing-1.example.com",
		`data-printer-id="` + printerID + `"`, "Packing 1", "badge-printer-ready",
		`data-language="zpl" data-dpi="203" data-status-mode="auto"`, "203 dpi", "status: auto"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("clients page lacks %s", want)
		}
	}
	agent.conn.CloseNow()
	testenv.WaitFor(t, "the agent offline", func() bool {
		cs, err := e.jobs.ListClients(context.Background(), e.admin.PortalID, store.Page{})
		return err == nil && len(cs) == 1 && !cs[0].Online
	})
	p = b.get("/clients")
	for _, want := range []string{`data-online="false"`, "offline", "Last seen", "Zebra ZD421", "Packing 1"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("clients page (offline) lacks %s", want)
		}
	}
}

// TestClientsPageHidesIdentifiersFromUsers: a plain user sees the agents and printers on the Clients
// page, but not what identifies an installation or its key (credential ID, installation ID, hostname,
// network address); an administrator sees them.
func TestClientsPageHidesIdentifiersFromUsers(t *testing.T) {
	e, _, printerID, _, _ := jobsEnv(t)
	infos := e.hub.Clients(e.admin.PortalID)
	if len(infos) != 1 {
		t.Fatalf("%d live clients", len(infos))
	}
	secretish := []string{infos[0].CredentialID, infos[0].InstallationID, "packing-1.example.com", infos[0].RemoteAddr}
	u, password := e.createUser("packer@example.com", keys.RoleUser)
	user := e.client()
	user.login(u.Email, password)
	p := user.get("/clients")
	if !strings.Contains(p.body, `data-printer-id="`+printerID+`"`) || !strings.Contains(p.body, "Zebra ZD421") {
		t.Fatalf("the user does not see the printer")
	}
	for _, id := range secretish {
		if id != "" && strings.Contains(p.body, id) {
			t.Errorf("a plain user's clients page shows %q", id)
		}
	}
	admin := e.client()
	admin.login(e.admin.AdminEmail, e.admin.AdminPassword)
	p = admin.get("/clients")
	for _, id := range []string{infos[0].CredentialID, "packing-1.example.com"} {
		if !strings.Contains(p.body, id) {
			t.Errorf("the admin's clients page lacks %q", id)
		}
	}
}
