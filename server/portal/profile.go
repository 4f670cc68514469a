package portal

import (
	"errors"
	"net/http"
	"strconv"
	"time"

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
	grace, err := formGrace(r)
	if err != nil {
		p.fail(w, r, c, err)
		return
	}
	k, err := p.svc.RollOwnAPIKey(r.Context(), c.actor, r.PostForm.Get("confirm") == "yes", grace)
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
	intro := "Your old API key stopped working and every desktop client that used it was signed out. Sign in to them again with this key."
	if k.PreviousValidUntil != nil {
		intro = "Your old API key keeps working until " + when(*k.PreviousValidUntil) + "; switch your clients to this key before then."
	}
	p.showSecrets(w, r, c, "profile", secretData{
		Heading: "Your new API key",
		Intro:   intro,
		Facts:   []fact{{"User", c.me.Email}},
		Items:   []secretItem{{Label: "Personal API key", Value: k.Secret, ID: "api-key"}},
		Back:    "/profile", BackLabel: "your profile",
	})
}

// formGrace reads the "keep the old key working for" choice (seconds; none when absent).
func formGrace(r *http.Request) (time.Duration, error) {
	v := r.PostForm.Get("grace")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > int64(keys.MaxGrace/time.Second) {
		return 0, keys.ErrGraceRange
	}
	return time.Duration(n) * time.Second, nil
}
