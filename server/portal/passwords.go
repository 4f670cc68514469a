package portal

import (
	"errors"
	"net/http"
	"strings"

	"printdock/server/keys"
	"printdock/server/store"
)

// --- passwords: every user changes their own; an administrator resets another user's ---

type passwordData struct {
	MinLen int
}

type resetPasswordData struct {
	User keys.User
}

func (p *portal) passwordPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	p.render(w, r, http.StatusOK, "password", p.newView(c, "Change your password", "profile", passwordData{MinLen: keys.MinPasswordLen}))
}

// changePassword needs the current password; on success every other session of the user ends (a stolen
// session cookie stops working with the old password), this one stays.
func (p *portal) changePassword(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	current, next := r.PostForm.Get("current"), r.PostForm.Get("new")
	again := r.PostForm.Get("again")
	fail := func(status int, msg string) {
		v := p.newView(c, "Change your password", "profile", passwordData{MinLen: keys.MinPasswordLen})
		v.Error = msg
		p.render(w, r, status, "password", v)
	}
	if next != again {
		fail(http.StatusBadRequest, "The two new passwords differ.")
		return
	}
	err := p.svc.ChangePassword(r.Context(), c.actor, current, next)
	switch {
	case errors.Is(err, keys.ErrWrongPassword):
		fail(http.StatusUnauthorized, "Your current password is wrong.")
		return
	case errors.Is(err, keys.ErrInvalid):
		_, msg := statusOf(err)
		fail(http.StatusBadRequest, strings.Replace(msg, "invalid request: ", "", 1))
		return
	case err != nil:
		p.fail(w, r, c, err)
		return
	}
	p.sessions.destroyUserExcept(c.actor.UserID, c.sess.key)
	p.redirectWith(w, r, c, "/profile", "ok", "Your password was changed. You were signed out everywhere else.")
}

func (p *portal) findUser(r *http.Request, c *reqCtx, id string) (keys.User, error) {
	users, err := p.svc.ListUsers(r.Context(), c.actor, store.Page{})
	if err != nil {
		return keys.User{}, err
	}
	for _, u := range users {
		if u.ID == id {
			return u, nil
		}
	}
	return keys.User{}, keys.ErrNotFound
}

func (p *portal) resetPasswordPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	u, err := p.findUser(r, c, r.PathValue("id"))
	if err != nil {
		p.fail(w, r, c, err)
		return
	}
	p.render(w, r, http.StatusOK, "reset_password", p.newView(c, "Reset password", "users", resetPasswordData{User: u}))
}

// resetPassword gives the user a new random password, shown once, and signs them out everywhere.
func (p *portal) resetPassword(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	id := r.PathValue("id")
	if id == c.actor.UserID {
		http.Redirect(w, r, "/profile/password", http.StatusSeeOther)
		return
	}
	if r.PostForm.Get("confirm") != "yes" {
		http.Redirect(w, r, "/users/"+id+"/reset-password", http.StatusSeeOther)
		return
	}
	u, pw, err := p.svc.ResetUserPassword(r.Context(), c.actor, id)
	if err != nil {
		p.fail(w, r, c, err)
		return
	}
	p.sessions.destroyUser(u.ID)
	p.showSecrets(w, r, c, "users", secretData{
		Heading: "Password reset",
		Intro: "The old password stopped working and the user was signed out of the portal. Give them this " +
			"password through a safe channel; they should change it under Profile › Change password after signing in.",
		Facts: []fact{{"E-mail", u.Email}},
		Items: []secretItem{{Label: "New password", Value: pw, ID: "password"}},
		Back:  "/users", BackLabel: "portal users",
	})
}
