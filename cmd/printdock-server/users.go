package main

import (
	"context"
	"flag"

	"printdock/cmd/internal/cli"
	"printdock/server/api"
	"printdock/server/keys"
)

// The users commands (offline recovery, recovery.go).
var userCommands = []*command{
	{Command: cli.Command{Name: "users list", Synopsis: "--portal ID|EMAIL", JSON: true, Summary: "list a portal's users (offline, on the store)"},
		flags: usersList, layered: storeOnly},
	{Command: cli.Command{Name: "users create", Synopsis: "--email EMAIL [--role user|admin] --portal ID|EMAIL", JSON: true,
		Summary: "add a user; prints their password and API key once"},
		flags: usersCreate, layered: storeOnly},
	{Command: cli.Command{Name: "users reset-password", Synopsis: "--email EMAIL", JSON: true,
		Summary: "give a user a new password, printed once (a locked-out administrator gets back in)"},
		flags: usersResetPassword, layered: storeOnly},
	{Command: cli.Command{Name: "users set-role", Synopsis: "--email EMAIL --role user|admin", JSON: true,
		Summary: "change a user's role"},
		flags: usersSetRole, layered: storeOnly},
}

var usersList = portalList((*keys.Service).ListUsers, userJSON, "EMAIL\tROLE\tID\tAPI KEY\tCREATED",
	func(u keys.User) []string {
		return []string{u.Email, string(u.Role), u.ID, u.APIKeyPrefix + "…", day(u.CreatedAt)}
	})

func usersCreate(fs *flag.FlagSet) func(context.Context, out) error {
	var r recovery
	r.register(fs, true)
	email := fs.String("email", "", "the new user's `EMAIL` (required)")
	role := fs.String("role", string(keys.RoleUser), "`ROLE`: user or admin")
	return func(ctx context.Context, o out) error {
		if *email == "" {
			return usageError{"--email is required"}
		}
		return r.asAdmin(ctx, func(ks *keys.Service, a keys.Actor) error {
			u, pw, key, err := ks.CreateUser(ctx, a, *email, keys.Role(*role))
			if err != nil {
				return err
			}
			if r.asJSON {
				return writeJSON(o.stdout, api.CreatedUserJSON{UserJSON: userJSON(u), Password: pw, APIKey: key})
			}
			return oneTime(o.stdout, "user", u.Email+" ("+string(u.Role)+", "+u.ID+")", "password", pw, "API key", key)
		})
	}
}

// userFlags registers --email and returns the user it names with the portal's local administrator.
func userFlags(fs *flag.FlagSet, r *recovery) func(ctx context.Context, rk recoveryKeys) (keys.User, keys.Actor, error) {
	r.register(fs, false)
	email := fs.String("email", "", "the user's `EMAIL` (required)")
	return func(ctx context.Context, rk recoveryKeys) (keys.User, keys.Actor, error) {
		if *email == "" {
			return keys.User{}, keys.Actor{}, usageError{"--email is required"}
		}
		u, err := rk.UserByEmail(ctx, *email)
		if err != nil {
			return keys.User{}, keys.Actor{}, err
		}
		a, err := r.admin(ctx, rk, u.PortalID)
		return u, a, err
	}
}

func usersResetPassword(fs *flag.FlagSet) func(context.Context, out) error {
	var r recovery
	find := userFlags(fs, &r)
	return func(ctx context.Context, o out) error {
		return r.do(ctx, func(ks *keys.Service, rk recoveryKeys) error {
			u, a, err := find(ctx, rk)
			if err != nil {
				return err
			}
			_, pw, err := rk.ResetUserPassword(ctx, a, u.ID)
			if err != nil {
				return err
			}
			if r.asJSON {
				return writeJSON(o.stdout, map[string]string{"user_id": u.ID, "email": u.Email, "password": pw})
			}
			return oneTime(o.stdout, "user", u.Email, "new password", pw)
		})
	}
}

func usersSetRole(fs *flag.FlagSet) func(context.Context, out) error {
	var r recovery
	find := userFlags(fs, &r)
	role := fs.String("role", "", "`ROLE`: user or admin (required)")
	return func(ctx context.Context, o out) error {
		if *role == "" {
			return usageError{"--role is required"}
		}
		return r.do(ctx, func(ks *keys.Service, rk recoveryKeys) error {
			u, a, err := find(ctx, rk)
			if err != nil {
				return err
			}
			if u, err = ks.SetUserRole(ctx, a, u.ID, keys.Role(*role)); err != nil {
				return err
			}
			if r.asJSON {
				return writeJSON(o.stdout, userJSON(u))
			}
			return table(o.stdout, "EMAIL\tROLE\tID", [][]string{{u.Email, string(u.Role), u.ID}})
		})
	}
}
