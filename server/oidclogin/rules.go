package oidclogin

import (
	"errors"
	"slices"
	"strings"

	"printdock/server/keys"
)

// Rules map a verified e-mail address and the provider's groups to a role. A person whose e-mail domain
// is in AdminDomains or who is in one of AdminGroups is an administrator; otherwise one whose domain is
// in UserDomains or who is in one of UserGroups is a user; anyone else may not sign in (deny by
// default). Domains match the part after "@" exactly (case-insensitive; no subdomains); groups match
// exactly.
type Rules struct {
	AdminDomains []string
	UserDomains  []string
	AdminGroups  []string
	UserGroups   []string
}

// Role returns the role the rules give, and false when they give none.
func (r Rules) Role(email string, groups []string) (keys.Role, bool) {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return "", false
	}
	domain := strings.ToLower(email[at+1:])
	in := func(domains, grps []string) bool {
		if slices.ContainsFunc(domains, func(d string) bool { return strings.EqualFold(strings.TrimPrefix(d, "@"), domain) }) {
			return true
		}
		return slices.ContainsFunc(groups, func(g string) bool { return slices.Contains(grps, g) })
	}
	switch {
	case in(r.AdminDomains, r.AdminGroups):
		return keys.RoleAdmin, true
	case in(r.UserDomains, r.UserGroups):
		return keys.RoleUser, true
	}
	return "", false
}

func (r Rules) check() error {
	if len(r.AdminDomains)+len(r.UserDomains)+len(r.AdminGroups)+len(r.UserGroups) == 0 {
		return errors.New("oidclogin: no domain or group may sign in: set at least one of the admin/user domains or groups")
	}
	return nil
}
