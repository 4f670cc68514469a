package portal

import (
	"net/http"
	"strings"

	"printdock/server/keys"
	"printdock/server/store"
)

// --- integrations (OAuth clients) ---

// settings loads the portal's settings for a create-and-list page (the create form's defaults), or answers
// with the failure.
func (p *portal) settings(w http.ResponseWriter, r *http.Request, c *reqCtx) (keys.Settings, bool) {
	set, err := p.svc.Settings(r.Context(), c.actor)
	if err != nil {
		p.fail(w, r, c, err)
		return keys.Settings{}, false
	}
	return set, true
}

type integrationsData struct {
	Clients       []keys.OAuthClient
	Description   string
	Page          pager
	StartInactive bool // the create form's "Create inactive" box starts checked (portal setting)
}

func (p *portal) integrationsPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	p.renderIntegrations(w, r, c, http.StatusOK, "", "")
}

func (p *portal) renderIntegrations(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, formErr, desc string) {
	list, pg, ok := listPage(p, w, r, c, func(sp store.Page) ([]keys.OAuthClient, error) {
		return p.svc.ListOAuthClients(r.Context(), c.actor, sp)
	}, keys.OAuthClient.Key)
	if !ok {
		return
	}
	set, ok := p.settings(w, r, c)
	if !ok {
		return
	}
	v := p.newView(c, "Integrations", "integrations", integrationsData{Clients: list, Description: desc, Page: pg, StartInactive: set.NewKeysInactive})
	v.Error = formErr
	p.render(w, r, status, "integrations", v)
}

func (p *portal) createIntegration(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	desc := strings.TrimSpace(r.PostForm.Get("description"))
	if desc == "" {
		p.renderIntegrations(w, r, c, http.StatusBadRequest, "Enter a name, for example the system that will print (“Shop backend”).", desc)
		return
	}
	oc, secret, err := p.svc.CreateOAuthClientWith(r.Context(), c.actor, keys.NewOAuthClient{
		Description: desc, Active: new(r.PostForm.Get("inactive") != "on"),
	})
	if err != nil {
		if status, msg := statusOf(err); status == http.StatusBadRequest || status == http.StatusConflict {
			p.renderIntegrations(w, r, c, status, msg, desc)
			return
		}
		p.fail(w, r, c, err)
		return
	}
	d := secretData{
		Heading: "Integration created",
		Intro:   "Give the client ID and secret to the integration: it exchanges them for an access token at POST /oauth/token (grant type client_credentials).",
		Facts:   oauthFacts(oc),
		Items: []secretItem{
			{Label: "Client ID", Value: oc.ID, ID: "client-id", Plain: true, Hint: "Not a secret: the integration sends it with the secret."},
			p.secretItem(c, "Client secret", "secret", secret, "oauth-client", oc.Description),
		},
		Back: "/integrations", BackLabel: "integrations",
	}
	if oc.Status == keys.StatusInactive {
		d.Notes = []string{"The integration is inactive: it gets no access token until you activate it on the Integrations page, once it is ready."}
	}
	p.showSecrets(w, r, c, "integrations", d)
}

// rotateIntegration gives an integration a new client secret, optionally keeping the old one working
// for a grace period (form field grace, seconds), and shows the new one once.
func (p *portal) rotateIntegration(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	grace, err := formGrace(r)
	if err != nil {
		p.fail(w, r, c, err)
		return
	}
	oc, k, err := p.svc.RotateOAuthClient(r.Context(), c.actor, r.PathValue("id"), grace)
	if err != nil {
		p.fail(w, r, c, err)
		return
	}
	intro := "The old client secret stopped working and the integration's access tokens were dropped. Give the integration this new secret."
	if k.PreviousValidUntil != nil {
		intro = "The old client secret keeps working until " + when(*k.PreviousValidUntil) + "; the Integrations page shows whether it is still used. Give the integration this new secret before then."
	}
	p.showSecrets(w, r, c, "integrations", secretData{
		Heading: "Integration secret rotated", Intro: intro, Facts: oauthFacts(oc),
		Items: []secretItem{p.secretItem(c, "New client secret", "secret", k.Secret, "oauth-client", oc.Description)},
		Back:  "/integrations", BackLabel: "integrations",
	})
}

func oauthFacts(oc keys.OAuthClient) []fact {
	return []fact{{"Name", oc.Description}, {"Client ID", oc.ID}, {"Status", string(oc.Status)}}
}

func (p *portal) setIntegrationActive(active bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *reqCtx) {
		oc, err := p.svc.SetOAuthClientActive(r.Context(), c.actor, r.PathValue("id"), active)
		if err != nil {
			p.fail(w, r, c, err)
			return
		}
		msg := "“" + oc.Description + "” is active: it can get access tokens."
		if !active {
			msg = "“" + oc.Description + "” is deactivated: its access tokens stopped working and it gets no new ones until you activate it."
		}
		p.redirectWith(w, r, c, "/integrations", "ok", msg)
	}
}

// integrationConfirm shows the confirmation page of a revoke or delete.
func (p *portal) integrationConfirm(revoke bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *reqCtx) {
		oc, err := p.svc.GetOAuthClient(r.Context(), c.actor, r.PathValue("id"))
		if err != nil {
			p.fail(w, r, c, err)
			return
		}
		d := confirmData{
			Heading: "Delete “" + oc.Description + "”?",
			Text:    "The integration is removed for good with its access tokens, which stop working at once. The audit log keeps a record.",
			Facts:   oauthFacts(oc), Action: "/integrations/" + oc.ID + "/delete", Button: "Delete integration",
			ButtonID: "confirm-delete", Cancel: "/integrations",
		}
		if revoke {
			d.Heading = "Revoke “" + oc.Description + "”?"
			d.Text = "Revoking is permanent: the integration's access tokens stop working at once and it can never get new ones. It stays in the list as revoked; create a new integration to replace it."
			d.Action, d.Button, d.ButtonID = "/integrations/"+oc.ID+"/revoke", "Revoke integration", "confirm-revoke"
		}
		p.render(w, r, http.StatusOK, "confirm", p.newView(c, strings.SplitN(d.Button, " ", 2)[0]+" integration", "integrations", d))
	}
}

func (p *portal) revokeIntegration(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	oc, err := p.svc.RevokeOAuthClient(r.Context(), c.actor, r.PathValue("id"))
	if err != nil {
		p.fail(w, r, c, err)
		return
	}
	p.redirectWith(w, r, c, "/integrations", "ok", "“"+oc.Description+"” is revoked for good: its access tokens stopped working.")
}

func (p *portal) deleteIntegration(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	id := r.PathValue("id")
	oc, err := p.svc.GetOAuthClient(r.Context(), c.actor, id)
	if err != nil {
		p.fail(w, r, c, err)
		return
	}
	if err := p.svc.DeleteOAuthClient(r.Context(), c.actor, id); err != nil {
		p.fail(w, r, c, err)
		return
	}
	p.redirectWith(w, r, c, "/integrations", "ok", "“"+oc.Description+"” is deleted.")
}
