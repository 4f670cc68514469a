package portal

import (
	"errors"
	"net/http"

	"printdock/server/keys"
)

// --- profile ---

type profileData struct{ User keys.User }

func (p *portal) profilePage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	v := p.newView(c, "Profile", "profile", profileData{User: c.me})
	v.Alerts = p.printerAlerts(r.Context(), c)
	p.render(w, r, http.StatusOK, "profile", v)
}

func (p *portal) rotateOwnPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	p.render(w, r, http.StatusOK, "rotate_own", p.newView(c, "Rotate your API key", "profile", profileData{User: c.me}))
}

func (p *portal) rotateOwn(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	key, err := p.svc.RotateOwnAPIKey(r.Context(), c.actor, r.PostForm.Get("confirm") == "yes")
	if errors.Is(err, keys.ErrConfirmationRequired) {
		v := p.newView(c, "Rotate your API key", "profile", profileData{User: c.me})
		v.Error = "Confirm that you want to rotate your API key."
		p.render(w, r, http.StatusBadRequest, "rotate_own", v)
		return
	}
	if err != nil {
		p.fail(w, r, c, err)
		return
	}
	p.showSecrets(w, r, c, "profile", secretData{
		Heading: "Your new API key",
		Intro:   "Your old API key stopped working and every desktop client that used it was signed out. Sign in to them again with this key.",
		Facts:   []fact{{"User", c.me.Email}},
		Items:   []secretItem{{Label: "Personal API key", Value: key, ID: "api-key"}},
		Back:    "/profile", BackLabel: "your profile",
	})
}
