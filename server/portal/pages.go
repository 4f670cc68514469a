package portal

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"printdock/server/keys"
	"printdock/server/store"
)

// secretItem is one secret on a "shown once" page.
type secretItem struct {
	Label  string
	Value  string
	ID     string // element ID, for the Copy button
	Ticket string // one-time download ticket; "" offers no download
	Hint   string
	Plain  bool // not a secret (a device ID): no shown-once warning for it
}

type fact struct{ Name, Value string }

// secretData is a page that shows new secrets exactly once.
type secretData struct {
	Heading   string
	Intro     string
	Facts     []fact
	Items     []secretItem
	Notes     []string
	Back      string
	BackLabel string
	HasSecret bool // set by showSecrets
}

func (p *portal) showSecrets(w http.ResponseWriter, r *http.Request, c *reqCtx, nav string, d secretData) {
	// The page itself is never stored (Cache-Control: no-store is set for every portal page).
	for _, it := range d.Items {
		d.HasSecret = d.HasSecret || !it.Plain
	}
	p.render(w, r, http.StatusOK, "secret", p.newView(c, d.Heading, nav, d))
}

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func secretFilename(kind, description string) string {
	name := strings.Trim(unsafeFileChars.ReplaceAllString(description, "-"), "-.")
	if len(name) > 40 {
		name = name[:40]
	}
	if name == "" {
		return "printdock-" + kind + ".txt"
	}
	return "printdock-" + kind + "-" + name + ".txt"
}

// --- print client secrets ---

type keyRow struct {
	keys.ClientKey
	Connected bool
	// Installations lists the hosts of the installations using the key now, when there are several
	// (one secret per installation: the key is flagged).
	Installations []string
}

type keysData struct {
	Keys          []keyRow
	Description   string
	Page          pager
	StartInactive bool // the create form's "Create inactive" box starts checked (portal setting)
}

func (p *portal) keysPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	p.renderKeys(w, r, c, http.StatusOK, "", "")
}

func (p *portal) renderKeys(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, formErr, desc string) {
	list, pg, ok := listPage(p, w, r, c, func(sp store.Page) ([]keys.ClientKey, error) {
		return p.svc.ListClientKeys(r.Context(), c.actor, sp)
	}, keys.ClientKey.Key)
	if !ok {
		return
	}
	set, ok := p.settings(w, r, c)
	if !ok {
		return
	}
	d := keysData{Description: desc, Page: pg, StartInactive: set.NewKeysInactive}
	hosts := installationsByKey(p.liveClients(r.Context(), c.actor.PortalID))
	for _, k := range list {
		d.Keys = append(d.Keys, keyRow{ClientKey: k, Connected: p.hub.Connected(k.ID), Installations: hosts[k.ID]})
	}
	v := p.newView(c, "Print client secrets", "keys", d)
	v.Error = formErr
	v.Alerts = p.printerAlerts(r.Context(), c)
	p.render(w, r, status, "keys", v)
}

// keysStatus answers the page script's poll for the "connected" dots.
func (p *portal) keysStatus(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	list, err := p.svc.ListClientKeys(r.Context(), c.actor, store.Page{})
	if err != nil {
		status, _ := statusOf(err)
		http.Error(w, http.StatusText(status), status)
		return
	}
	out, checked := map[string]bool{}, map[string]bool{}
	for _, k := range list {
		out[k.ID], checked[k.ID] = p.hub.Connected(k.ID), k.UsedSinceActivation()
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"connected": out, "checked": checked})
}

func (p *portal) createKey(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	desc := strings.TrimSpace(r.PostForm.Get("description"))
	if desc == "" {
		p.renderKeys(w, r, c, http.StatusBadRequest, "Enter a description, for example the printer's name and place.", desc)
		return
	}
	created, err := p.svc.CreateClientKey(r.Context(), c.actor, keys.NewClientKey{
		Description:     desc,
		Active:          new(r.PostForm.Get("inactive") != "on"),
		UseSharedSecret: r.PostForm.Get("shared") == "on",
	})
	if err != nil {
		if status, msg := statusOf(err); status == http.StatusBadRequest || status == http.StatusConflict {
			p.renderKeys(w, r, c, status, msg, desc)
			return
		}
		p.fail(w, r, c, err)
		return
	}
	d := secretData{
		Heading:   "Print client key created",
		Back:      "/keys",
		BackLabel: "print client secrets",
		Facts:     keyFacts(created.Key),
	}
	switch {
	case !created.Key.UseSharedSecret:
		d.Intro = "Enter this secret in the printdock agent of the installation it is for."
		d.Items = []secretItem{p.secretItem(c, "Print client secret", "secret", created.Secret, "client-secret", created.Key.Description)}
		d.Notes = []string{"Each installation should get its own secret: if one is lost or leaked, you can rotate or revoke it without touching the others."}
	default:
		d.Intro = "This device signs in with the portal's shared API access secret plus its own device ID."
		d.Items = []secretItem{{Label: "Device ID", Value: created.Key.ID, ID: "device-id", Plain: true,
			Hint: "Not a secret: give the agent this device ID together with the shared secret."}}
		if created.Secret != "" {
			// The portal had no shared secret yet: this one was created with the device.
			d.Items = append(d.Items, p.secretItem(c, "Shared API access secret (new)", "secret", created.Secret, "shared-secret", ""))
			d.Notes = []string{"The portal had no shared secret yet, so one was created. Devices you create later with “Use shared secret” use the same secret."}
		} else {
			d.Notes = []string{"The shared secret itself is not shown again. Reset it on the Shared secret page if you no longer have it."}
		}
	}
	p.showSecrets(w, r, c, "keys", d)
}

func (p *portal) secretItem(c *reqCtx, label, id, secret, kind, description string) secretItem {
	return secretItem{
		Label: label, Value: secret, ID: id,
		Ticket: p.sessions.addDownload(c.sess.key, secretFilename(kind, description), secret+"\n"),
	}
}

func keyFacts(k keys.ClientKey) []fact {
	f := []fact{{"Description", k.Description}, {"Key ID", k.ID}, {"Status", string(k.Status)}}
	if k.UseSharedSecret {
		f = append(f, fact{"Secret", "shared API access secret"})
	}
	return f
}

func (p *portal) rotateKey(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	created, err := p.svc.RotateClientKey(r.Context(), c.actor, r.PathValue("id"))
	if err != nil {
		p.fail(w, r, c, err)
		return
	}
	d := secretData{
		Heading:   "Print client secret rotated",
		Intro:     "The old secret stopped working: an agent connected with it was signed out. Enter this new secret in that installation's agent.",
		Facts:     keyFacts(created.Key),
		Back:      "/keys",
		BackLabel: "print client secrets",
	}
	if created.Secret != "" {
		d.Items = []secretItem{p.secretItem(c, "New print client secret", "secret", created.Secret, "client-secret", created.Key.Description)}
	}
	p.showSecrets(w, r, c, "keys", d)
}

func (p *portal) setKeyActive(active bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *reqCtx) {
		k, err := p.svc.SetClientKeyActive(r.Context(), c.actor, r.PathValue("id"), active)
		if err != nil {
			p.fail(w, r, c, err)
			return
		}
		msg := "“" + k.Description + "” is active again: its agent can connect."
		if !active {
			msg = "“" + k.Description + "” is deactivated: its agent was signed out and cannot connect until you activate it."
		}
		p.redirectWith(w, r, c, "/keys", "ok", msg)
	}
}

func (p *portal) revokeKey(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	k, err := p.svc.RevokeClientKey(r.Context(), c.actor, r.PathValue("id"))
	if err != nil {
		p.fail(w, r, c, err)
		return
	}
	p.redirectWith(w, r, c, "/keys", "ok", "“"+k.Description+"” is revoked for good: its agent was signed out.")
}

type deleteData struct{ Key keys.ClientKey }

func (p *portal) deleteKeyPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	k, err := p.svc.GetClientKey(r.Context(), c.actor, r.PathValue("id"))
	if err != nil {
		p.fail(w, r, c, err)
		return
	}
	p.render(w, r, http.StatusOK, "delete", p.newView(c, "Delete print client key", "keys", deleteData{Key: k}))
}

func (p *portal) deleteKey(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	id := r.PathValue("id")
	k, err := p.svc.GetClientKey(r.Context(), c.actor, id)
	if err != nil {
		p.fail(w, r, c, err)
		return
	}
	if err := p.svc.DeleteClientKey(r.Context(), c.actor, id); err != nil {
		p.fail(w, r, c, err)
		return
	}
	p.redirectWith(w, r, c, "/keys", "ok", "“"+k.Description+"” is deleted.")
}

// download serves a secret shown on a page as a text file, once, to the session that was shown it.
func (p *portal) download(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	d, ok := p.sessions.takeDownload(c.sess.key, r.PathValue("ticket"))
	if !ok {
		p.errorPage(w, r, c, http.StatusGone, "Download no longer available",
			"A secret can be downloaded once, within 10 minutes of being shown. Copy it from the page, or rotate the key to get a new one.")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+d.filename+`"`)
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	_, _ = w.Write([]byte(d.content))
}

// --- users ---

type usersData struct {
	Users []keys.User
	Page  pager
	Self  string
	Email string
	Role  keys.Role
	Roles []keys.Role
}

func (p *portal) usersPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	p.renderUsers(w, r, c, http.StatusOK, "", "", keys.RoleUser)
}

func (p *portal) renderUsers(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, formErr, email string, role keys.Role) {
	users, pg, ok := listPage(p, w, r, c, func(sp store.Page) ([]keys.User, error) {
		return p.svc.ListUsers(r.Context(), c.actor, sp)
	}, keys.User.Key)
	if !ok {
		return
	}
	v := p.newView(c, "Portal users", "users", usersData{Users: users, Page: pg, Self: c.actor.UserID, Email: email, Role: role,
		Roles: []keys.Role{keys.RoleUser, keys.RoleAdmin}})
	v.Error = formErr
	p.render(w, r, status, "users", v)
}

func parseRole(s string) (keys.Role, bool) {
	switch keys.Role(s) {
	case keys.RoleAdmin, keys.RoleUser:
		return keys.Role(s), true
	}
	return "", false
}

func (p *portal) createUser(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	email := strings.TrimSpace(r.PostForm.Get("email"))
	role, ok := parseRole(r.PostForm.Get("role"))
	if !ok || email == "" || !strings.Contains(email, "@") {
		p.renderUsers(w, r, c, http.StatusBadRequest, "Enter an e-mail address and choose a role.", email, keys.RoleUser)
		return
	}
	u, password, apiKey, err := p.svc.CreateUser(r.Context(), c.actor, email, role)
	if err != nil {
		if status, msg := statusOf(err); status == http.StatusBadRequest || status == http.StatusConflict {
			p.renderUsers(w, r, c, status, msg, email, role)
			return
		}
		p.fail(w, r, c, err)
		return
	}
	p.showSecrets(w, r, c, "users", secretData{
		Heading: "User created",
		Intro:   "Give the new user their initial password (to sign in to this portal) and their personal API key (for desktop clients and the REST API) through a safe channel.",
		Facts:   []fact{{"E-mail", u.Email}, {"Role", string(u.Role)}},
		Items: []secretItem{
			{Label: "Initial password", Value: password, ID: "password"},
			{Label: "Personal API key", Value: apiKey, ID: "api-key"},
		},
		Back: "/users", BackLabel: "portal users",
	})
}

func (p *portal) setRole(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	role, ok := parseRole(r.PostForm.Get("role"))
	if !ok {
		p.errorPage(w, r, c, http.StatusBadRequest, "Bad request", "Choose a role: user or admin.")
		return
	}
	u, err := p.svc.SetUserRole(r.Context(), c.actor, r.PathValue("id"), role)
	if err != nil {
		if status, msg := statusOf(err); status == http.StatusBadRequest || status == http.StatusConflict {
			p.redirectWith(w, r, c, "/users", "error", msg)
			return
		}
		p.fail(w, r, c, err)
		return
	}
	p.redirectWith(w, r, c, "/users", "ok", u.Email+" is now "+string(u.Role)+".")
}

func (p *portal) rotateUserKey(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	id := r.PathValue("id")
	if id == c.actor.UserID {
		// Rotating one's own key always goes through the confirmation.
		http.Redirect(w, r, "/profile/rotate", http.StatusSeeOther)
		return
	}
	grace, err := formGrace(r)
	if err != nil {
		p.fail(w, r, c, err)
		return
	}
	k, err := p.svc.RollUserAPIKey(r.Context(), c.actor, id, grace)
	if err != nil {
		p.fail(w, r, c, err)
		return
	}
	intro := "The user's old API key stopped working and their desktop clients were signed out. Give them this new key through a safe channel."
	if k.PreviousValidUntil != nil {
		intro = "The user's old API key keeps working until " + when(*k.PreviousValidUntil) + ". Give them this new key through a safe channel."
	}
	email := id
	if users, err := p.svc.ListUsers(r.Context(), c.actor, store.Page{}); err == nil {
		if i := slices.IndexFunc(users, func(u keys.User) bool { return u.ID == id }); i >= 0 {
			email = users[i].Email
		}
	}
	p.showSecrets(w, r, c, "users", secretData{
		Heading: "API key rotated",
		Intro:   intro,
		Facts:   []fact{{"User", email}},
		Items:   []secretItem{{Label: "New personal API key", Value: k.Secret, ID: "api-key"}},
		Back:    "/users", BackLabel: "portal users",
	})
}

// --- shared secret ---

type sharedData struct {
	Devices      []keyRow
	Page         pager
	Confirmation string
	ResetDevices bool
	Phrase       string
}

func (p *portal) sharedPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	p.renderShared(w, r, c, http.StatusOK, "", sharedData{})
}

func (p *portal) renderShared(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, formErr string, d sharedData) {
	devices, pg, ok := listPage(p, w, r, c, func(sp store.Page) ([]keys.ClientKey, error) {
		return p.svc.SharedDevices(r.Context(), c.actor, sp)
	}, keys.ClientKey.Key)
	if !ok {
		return
	}
	d.Devices, d.Page = d.Devices[:0], pg
	for _, k := range devices {
		d.Devices = append(d.Devices, keyRow{ClientKey: k, Connected: p.hub.Connected(k.ID)})
	}
	d.Phrase = keys.SharedResetConfirmation
	v := p.newView(c, "Shared API access secret", "shared", d)
	v.Error = formErr
	p.render(w, r, status, "shared", v)
}

func (p *portal) resetShared(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	confirmation := r.PostForm.Get("confirmation")
	resetDevices := r.PostForm.Get("reset_devices") == "on"
	secret, err := p.svc.ResetSharedSecret(r.Context(), c.actor, confirmation, resetDevices)
	if err != nil {
		if status, _ := statusOf(err); status == http.StatusBadRequest {
			p.renderShared(w, r, c, status, "Type exactly “"+keys.SharedResetConfirmation+"” to reset the shared secret.",
				sharedData{Confirmation: confirmation, ResetDevices: resetDevices})
			return
		}
		p.fail(w, r, c, err)
		return
	}
	intro := "Devices created from now on use this secret. Devices that already shared the old secret keep it."
	if resetDevices {
		intro = "Every device that shared the old secret now uses this one; agents still connected with the old secret were signed out."
	}
	p.showSecrets(w, r, c, "shared", secretData{
		Heading: "Shared secret reset",
		Intro:   intro,
		Items:   []secretItem{p.secretItem(c, "New shared API access secret", "secret", secret, "shared-secret", "")},
		Notes:   []string{"A device signs in with this secret plus its own device ID."},
		Back:    "/shared", BackLabel: "the shared secret",
	})
}
