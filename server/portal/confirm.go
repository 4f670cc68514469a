package portal

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"printdock/server/keys"
)

// confirmData is a page that asks before a permanent change (revoke, delete).
type confirmData struct {
	Heading  string
	Text     string
	Facts    []fact
	Action   string // the form's POST target
	Button   string
	ButtonID string
	Cancel   string
}

// revokeKeyPage asks before revoking a print client secret or shared-secret device.
func (p *portal) revokeKeyPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	k, err := p.svc.GetClientKey(r.Context(), c.actor, r.PathValue("id"))
	if err != nil {
		p.fail(w, r, c, err)
		return
	}
	p.render(w, r, http.StatusOK, "confirm", p.newView(c, "Revoke print client key", "keys", confirmData{
		Heading: "Revoke “" + k.Description + "”?",
		Text: "Revoking is permanent: an agent connected with it is signed out at once and the key never works again. " +
			"It stays in the list as revoked. To pause it instead, deactivate it; to replace a leaked secret, rotate it.",
		Facts:  append(keyFacts(k), fact{"Created", when(k.CreatedAt) + " by " + k.CreatedBy}),
		Action: "/keys/" + k.ID + "/revoke", Button: "Revoke key", ButtonID: "confirm-revoke", Cancel: "/keys",
	}))
}

// settingsData is the portal settings page.
type settingsData struct {
	Settings     keys.Settings
	AlertMinutes int
}

func (p *portal) settingsPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	set, err := p.svc.Settings(r.Context(), c.actor)
	if err != nil {
		p.fail(w, r, c, err)
		return
	}
	p.render(w, r, http.StatusOK, "settings", p.newView(c, "Portal settings", "settings", settingsData{Settings: set,
		AlertMinutes: int(set.AlertAfter() / time.Minute)}))
}

func (p *portal) updateSettings(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	old, err := p.svc.Settings(r.Context(), c.actor)
	if err != nil {
		p.fail(w, r, c, err)
		return
	}
	next := keys.Settings{NewKeysInactive: r.PostForm.Get("new_keys_inactive") == "on",
		OneInstallationPerSecret: r.PostForm.Get("one_installation_per_secret") == "on",
		PrinterAlertAfter:        old.PrinterAlertAfter} // a form without the field keeps it
	if v := strings.TrimSpace(r.PostForm.Get("printer_alert_after_minutes")); v != "" {
		mins, err := strconv.Atoi(v)
		if err != nil || mins < 1 || mins > 1440 {
			p.redirectWith(w, r, c, "/settings", "error", "Printer alerts: enter a number of minutes from 1 to 1440.")
			return
		}
		next.PrinterAlertAfter = time.Duration(mins) * time.Minute
	}
	if _, err := p.svc.UpdateSettings(r.Context(), c.actor, next); err != nil {
		p.fail(w, r, c, err)
		return
	}
	p.redirectWith(w, r, c, "/settings", "ok", "Settings saved.")
}
