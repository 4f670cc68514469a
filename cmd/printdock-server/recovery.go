package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"printdock/server"
	"printdock/server/api"
	"printdock/server/keys"
	"printdock/server/store"
)

// Offline recovery: `printdock-server users …` and `keys …` work directly on the store (SQLite or
// PostgreSQL) for whoever can read the data directory, through keys.Service as the portal's
// administrator (the audit log names them "local:USER@HOST"), never with SQL of their own.

// recoveryKeys is what recovery needs from keys.Service beyond an administrator's API: finding a user
// (and so a portal) by e-mail, and resetting a password.
type recoveryKeys interface {
	UserByEmail(ctx context.Context, email string) (keys.User, error)
	ResetUserPassword(ctx context.Context, a keys.Actor, userID string) (keys.User, string, error)
}

var _ recoveryKeys = (*keys.Service)(nil)

// recovery is the flags and the store of one recovery command.
type recovery struct {
	sf     storeFlags
	portal string
	asJSON bool
}

func (r *recovery) register(fs *flag.FlagSet, portal bool) {
	r.sf.register(fs)
	if portal {
		fs.StringVar(&r.portal, "portal", "", "the portal: its `ID` (prt_…) or the e-mail of one of its users (required)")
	}
	fs.BoolVar(&r.asJSON, "json", false, "print JSON")
}

// do opens the store, runs fn on the keys service (also as its recovery interface), and closes the store.
func (r *recovery) do(ctx context.Context, fn func(ks *keys.Service, rk recoveryKeys) error) error {
	log, _ := newLogger(io.Discard, "error", false)
	srv, err := server.New(ctx, server.Config{DataDir: r.sf.dataDir, DatabaseURL: r.sf.database, Log: log, Version: version})
	if err != nil {
		return err
	}
	defer srv.Close()
	return fn(srv.Keys, srv.Keys)
}

// asAdmin opens the store and runs fn as the local administrator of the portal named by --portal.
func (r *recovery) asAdmin(ctx context.Context, fn func(ks *keys.Service, a keys.Actor) error) error {
	return r.do(ctx, func(ks *keys.Service, rk recoveryKeys) error {
		a, err := r.admin(ctx, rk, r.portal)
		if err != nil {
			return err
		}
		return fn(ks, a)
	})
}

// portalList is a list command over the portal named by --portal: {"items":[…]} as the REST API
// answers (--json), else a table.
func portalList[T, J any](list func(*keys.Service, context.Context, keys.Actor, store.Page) ([]T, error), toJSON func(T) J,
	header string, row func(T) []string) func(*flag.FlagSet) func(context.Context, out) error {
	return func(fs *flag.FlagSet) func(context.Context, out) error {
		var r recovery
		r.register(fs, true)
		return func(ctx context.Context, o out) error {
			return r.asAdmin(ctx, func(ks *keys.Service, a keys.Actor) error {
				all, err := list(ks, ctx, a, store.Page{}) // every row: an offline listing has no pages
				if err != nil {
					return err
				}
				items := make([]J, 0, len(all))
				rows := make([][]string, 0, len(all))
				for _, x := range all {
					items = append(items, toJSON(x))
					rows = append(rows, row(x))
				}
				if r.asJSON {
					return writeJSON(o.stdout, map[string]any{"items": items})
				}
				return table(o.stdout, header, rows)
			})
		}
	}
}

// admin returns the local administrator of the portal named by ref (--portal, or a user's e-mail).
func (r *recovery) admin(ctx context.Context, rk recoveryKeys, ref string) (keys.Actor, error) {
	if ref == "" {
		return keys.Actor{}, usageError{"--portal ID|EMAIL is required"}
	}
	pid := ref
	if !strings.HasPrefix(ref, "prt_") {
		u, err := rk.UserByEmail(ctx, ref)
		if err != nil {
			return keys.Actor{}, fmt.Errorf("find %s: %w", ref, err)
		}
		pid = u.PortalID
	}
	return keys.Actor{Principal: keys.Principal{PortalID: pid, Role: keys.RoleAdmin, Kind: keys.KindUser, Email: localActor()},
		RemoteAddr: "local"}, nil
}

// localActor names the person at the server machine in the audit log: local:USER@HOST.
func localActor() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return "local:" + name + "@" + host
}

func userJSON(u keys.User) api.UserJSON {
	return api.UserJSON{ID: u.ID, PortalID: u.PortalID, Email: u.Email, Role: string(u.Role), APIKeyPrefix: u.APIKeyPrefix, CreatedAt: u.CreatedAt}
}

func keyJSON(k keys.ClientKey) api.ClientKeyJSON {
	return api.ClientKeyJSON{ID: k.ID, Description: k.Description, Prefix: k.Prefix, Status: string(k.Status),
		UseSharedSecret: k.UseSharedSecret, CreatedAt: k.CreatedAt, CreatedBy: k.CreatedBy, LastAccessedAt: k.LastAccessedAt}
}

// table writes rows under a header, tab-separated columns aligned.
func table(w io.Writer, header string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

func day(t time.Time) string { return t.Local().Format(time.DateTime) }

// oneTime prints a secret shown only now (text), with what it is for.
func oneTime(w io.Writer, lines ...string) error {
	for i := 0; i+1 < len(lines); i += 2 {
		fmt.Fprintf(w, "%-16s %s\n", lines[i]+":", lines[i+1])
	}
	_, err := fmt.Fprintln(w, "\nShown only now; store it safely.")
	return err
}
