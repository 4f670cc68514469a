package portal

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"printdock/printer/zpl"
	"printdock/server/hub"
	"printdock/server/jobs"
	"printdock/server/keys"
	"printdock/server/store"
)

// The Clients & printers page, the Jobs page and job label previews.
//
// Previews are drawn by printdock/printer/zpl (RenderPNG): a deliberate dependency of the server on the
// printer package's ZPL renderer, so the portal shows what a label will look like without an agent.

// --- clients and printers ---

// clientView is one agent installation on the Clients page: what the job queue remembers, plus the live
// session's details while it is connected.
type clientView struct {
	jobs.Client
	Description string // the key's description (administrators see it for offline clients too)
	KeyKind     string
	RemoteAddr  string
	ConnectedAt time.Time
	Printers    []jobs.Printer
}

// forUser drops what identifies an installation or its key — credential ID, installation (device) ID,
// hostname, network address — for users who are not administrators: they see the agents and printers
// they print to, as the REST API's GET /api/v1/clients (administrators only) does not show them at all.
func (v clientView) forUser() clientView {
	v.CredentialID, v.InstallationID, v.Hostname, v.RemoteAddr = "", "", "", ""
	return v
}

type clientsData struct {
	Clients []clientView
	Online  int
	// Offline lists, for administrators, the active print client keys with no agent connected now.
	Offline []keys.ClientKey
	Page    pager // pages of clients, first seen first (online ones first within a page)
}

func (p *portal) clientsPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	ctx := r.Context()
	live := map[string]hub.ClientInfo{}
	for _, ci := range p.hub.Clients(c.actor.PortalID) { // oldest first: the newest session wins
		live[ci.ClientID] = ci
	}
	descriptions := map[string]string{}
	var d clientsData
	if c.admin() {
		list, err := p.svc.ListClientKeys(ctx, c.actor, store.Page{})
		if err != nil {
			p.fail(w, r, c, err)
			return
		}
		for _, k := range list {
			descriptions[k.ID] = k.Description
			if k.Status == keys.StatusActive && !p.hub.Connected(k.ID) {
				d.Offline = append(d.Offline, k)
			}
		}
	}
	if p.opts.Jobs != nil {
		cs, pg, ok := listPage(p, w, r, c, func(sp store.Page) ([]jobs.Client, error) {
			return p.opts.Jobs.ListClients(ctx, c.actor.PortalID, sp)
		}, jobs.Client.Key)
		if !ok {
			return
		}
		d.Page = pg
		ps, err := p.opts.Jobs.ListPrinters(ctx, c.actor.PortalID, store.Page{})
		if err != nil {
			p.fail(w, r, c, err)
			return
		}
		printers := map[string][]jobs.Printer{}
		for _, pr := range ps {
			printers[pr.ClientID] = append(printers[pr.ClientID], pr)
		}
		for _, cl := range cs {
			v := clientView{Client: cl, Description: descriptions[cl.CredentialID], Printers: printers[cl.ID]}
			if l, ok := live[cl.ID]; ok {
				v.Description, v.KeyKind, v.RemoteAddr, v.ConnectedAt = l.Description, string(l.KeyKind), l.RemoteAddr, l.ConnectedAt
			}
			d.Clients = append(d.Clients, v)
		}
	} else {
		for _, l := range live {
			v := clientView{Client: jobs.Client{ID: l.ClientID, CredentialID: l.CredentialID, InstallationID: l.InstallationID,
				Hostname: l.Hostname, AgentVersion: l.AgentVersion, OS: l.OS, FirstSeenAt: l.ConnectedAt,
				LastSeenAt: l.ConnectedAt, Online: true},
				Description: l.Description, KeyKind: string(l.KeyKind), RemoteAddr: l.RemoteAddr, ConnectedAt: l.ConnectedAt}
			for _, pr := range l.Printers {
				v.Printers = append(v.Printers, jobs.Printer{ID: pr.ID, Name: pr.Name, URI: pr.ID, ClientID: l.ClientID,
					Online: true, Present: true, Status: pr.Status, Reason: pr.Reason, Make: pr.Make, Model: pr.Model,
					Language: pr.Language, DPI: pr.DPI, StatusMode: pr.StatusMode})
			}
			d.Clients = append(d.Clients, v)
		}
	}
	// Online first; within each group in the order the server first saw them.
	slices.SortStableFunc(d.Clients, func(a, b clientView) int {
		if a.Online != b.Online {
			if a.Online {
				return -1
			}
			return 1
		}
		return a.FirstSeenAt.Compare(b.FirstSeenAt)
	})
	for i, cl := range d.Clients {
		if cl.Online {
			d.Online++
		}
		if !c.admin() {
			d.Clients[i] = cl.forUser()
		}
	}
	p.render(w, r, http.StatusOK, "clients", p.newView(c, "Clients & printers", "clients", d))
}

// --- jobs ---

type jobRow struct {
	jobs.Job
	PrinterName string
	PrinterURI  string
}

type jobsData struct {
	Jobs    []jobRow
	State   string
	States  []jobs.State
	Page    pager
	NoQueue bool
}

func (p *portal) jobsPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	d := jobsData{State: r.URL.Query().Get("state"), States: jobs.States}
	if p.opts.Jobs == nil {
		d.NoQueue = true
		p.render(w, r, http.StatusOK, "jobs", p.newView(c, "Print jobs", "jobs", d))
		return
	}
	if d.State != "" && !slices.Contains(jobs.States, jobs.State(d.State)) {
		v := p.newView(c, "Print jobs", "jobs", d)
		v.Error = "Unknown state “" + d.State + "”."
		d.State = ""
		p.render(w, r, http.StatusBadRequest, "jobs", v)
		return
	}
	ctx := r.Context()
	list, pg, ok := listPage(p, w, r, c, func(sp store.Page) ([]jobs.Job, error) {
		return p.opts.Jobs.List(ctx, c.actor, jobs.ListFilter{State: jobs.State(d.State), Limit: sp.Limit, After: sp.After})
	}, jobs.Job.Key)
	if !ok {
		return
	}
	d.Page = pg
	ps, err := p.opts.Jobs.ListPrinters(ctx, c.actor.PortalID, store.Page{})
	if err != nil {
		p.fail(w, r, c, err)
		return
	}
	byID := make(map[string]jobs.Printer, len(ps))
	for _, pr := range ps {
		byID[pr.ID] = pr
	}
	for _, j := range list {
		pr := byID[j.PrinterID]
		d.Jobs = append(d.Jobs, jobRow{Job: j, PrinterName: cmp.Or(pr.Name, pr.URI, j.PrinterID), PrinterURI: pr.URI})
	}
	p.render(w, r, http.StatusOK, "jobs", p.newView(c, "Print jobs", "jobs", d))
}

// jobPreview serves the label preview of a job of the member's portal as a PNG: the first label of its
// content drawn by zpl.RenderPNG, or a "No preview" card when the content is not ZPL the renderer can
// draw (the header X-Printdock-Preview then says why). A job's content never changes, so the answer may
// be kept by the browser (Cache-Control: private) and rendered images are kept in a small cache.
func (p *portal) jobPreview(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if p.opts.Jobs == nil {
		p.notFound(w, r)
		return
	}
	id := r.PathValue("id")
	// A PDF or PNG label keeps the preview rendered when it was submitted (exactly the dots sent, in any
	// printer language); raw ZPL is drawn from what was sent.
	img, err := p.opts.Jobs.Preview(r.Context(), c.actor, id)
	why := ""
	if errors.Is(err, keys.ErrNotFound) {
		var content []byte
		if content, err = p.opts.Jobs.Content(r.Context(), c.actor, id); err == nil {
			img, why, err = p.previews.get(r.Context(), id, content)
		}
	}
	if err != nil {
		p.fail(w, r, c, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "image/png")
	h.Set("Cache-Control", "private, max-age=86400")
	h.Set("Content-Length", strconv.Itoa(len(img)))
	if why != "" {
		h.Set("X-Printdock-Preview", why)
	}
	if r.Method != http.MethodHead {
		_, _ = w.Write(img)
	}
}

// previews renders label previews, at most two at a time, and keeps the last few.
type previews struct {
	sem chan struct{}

	mu    sync.Mutex
	cache map[string]preview
	order []string // oldest first

	placeholderOnce sync.Once
	placeholder     []byte
}

type preview struct {
	png []byte
	why string
}

const previewCacheSize = 64

func newPreviews() *previews {
	return &previews{sem: make(chan struct{}, 2), cache: make(map[string]preview)}
}

// placeholderZPL is the card shown for content that cannot be previewed.
const placeholderZPL = "^XA^PW400^LL240^FO0,0^GB400,240,3^FS^CF0,34^FO20,90^FB360,1,0,C^FDNo preview^FS" +
	"^CF0,22^FO20,140^FB360,1,0,C^FDnot a ZPL label^FS^XZ"

func (pv *previews) get(ctx context.Context, id string, content []byte) ([]byte, string, error) {
	pv.mu.Lock()
	if c, ok := pv.cache[id]; ok {
		pv.mu.Unlock()
		return c.png, c.why, nil
	}
	pv.mu.Unlock()
	select {
	case pv.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, "", ctx.Err()
	}
	img, err := zpl.RenderPNG(content, zpl.RenderOptions{})
	<-pv.sem
	why := ""
	switch {
	case errors.Is(err, zpl.ErrNoLabel):
		why = "no-label"
	case errors.Is(err, zpl.ErrTooLarge):
		why = "too-large"
	case err != nil:
		why = "error"
	}
	if why != "" {
		pv.placeholderOnce.Do(func() {
			pv.placeholder, err = zpl.RenderPNG([]byte(placeholderZPL), zpl.RenderOptions{})
		})
		if pv.placeholder == nil {
			return nil, "", errors.Join(errors.New("portal: render preview placeholder"), err)
		}
		img = pv.placeholder
	}
	pv.mu.Lock()
	defer pv.mu.Unlock()
	if _, ok := pv.cache[id]; !ok {
		pv.cache[id] = preview{png: img, why: why}
		pv.order = append(pv.order, id)
		if len(pv.order) > previewCacheSize {
			delete(pv.cache, pv.order[0])
			pv.order = pv.order[1:]
		}
	}
	return img, why, nil
}
