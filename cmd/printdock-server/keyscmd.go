package main

import (
	"context"
	"flag"

	"printdock/cmd/internal/cli"
	"printdock/server/keys"
)

// The keys commands (offline recovery, recovery.go): print client secrets.
var keyCommands = []*command{
	{Command: cli.Command{Name: "keys list", Synopsis: "--portal ID|EMAIL", JSON: true, Summary: "list a portal's print client secrets (offline, on the store)"},
		flags: keysList, layered: storeOnly},
	{Command: cli.Command{Name: "keys create", Synopsis: "--description TEXT --portal ID|EMAIL", JSON: true,
		Summary: "create a print client secret; prints it once"},
		flags: keysCreate, layered: storeOnly},
	{Command: cli.Command{Name: "keys rotate", Synopsis: "--id KEY --portal ID|EMAIL", JSON: true,
		Summary: "replace a key's secret (its agents are logged out); prints the new one once"},
		flags: keyAction("rotate"), layered: storeOnly},
	{Command: cli.Command{Name: "keys revoke", Synopsis: "--id KEY --portal ID|EMAIL", JSON: true,
		Summary: "revoke a key for good (its agents are logged out)"},
		flags: keyAction("revoke"), layered: storeOnly},
}

var keysList = portalList((*keys.Service).ListClientKeys, keyJSON, "ID\tPREFIX\tSTATUS\tDESCRIPTION\tCREATED",
	func(k keys.ClientKey) []string {
		return []string{k.ID, k.Prefix + "…", string(k.Status), k.Description, day(k.CreatedAt)}
	})

func keysCreate(fs *flag.FlagSet) func(context.Context, out) error {
	var r recovery
	r.register(fs, true)
	desc := fs.String("description", "", "what the key is for, e.g. the machine (`TEXT`, required)")
	return func(ctx context.Context, o out) error {
		if *desc == "" {
			return usageError{"--description is required"}
		}
		return r.asAdmin(ctx, func(ks *keys.Service, a keys.Actor) error {
			c, err := ks.CreateClientKey(ctx, a, keys.NewClientKey{Description: *desc})
			if err != nil {
				return err
			}
			return printCreated(o, r.asJSON, c)
		})
	}
}

func printCreated(o out, asJSON bool, c keys.Created) error {
	if asJSON {
		k := keyJSON(c.Key)
		k.Secret = c.Secret
		return writeJSON(o.stdout, k)
	}
	return oneTime(o.stdout, "key", c.Key.ID+" ("+c.Key.Description+")", "secret", c.Secret)
}

func keyAction(action string) func(fs *flag.FlagSet) func(context.Context, out) error {
	return func(fs *flag.FlagSet) func(context.Context, out) error {
		var r recovery
		r.register(fs, true)
		id := fs.String("id", "", "the key's `ID` (key_…, required)")
		return func(ctx context.Context, o out) error {
			if *id == "" {
				return usageError{"--id is required"}
			}
			return r.asAdmin(ctx, func(ks *keys.Service, a keys.Actor) error {
				if action == "rotate" {
					c, err := ks.RotateClientKey(ctx, a, *id)
					if err != nil {
						return err
					}
					return printCreated(o, r.asJSON, c)
				}
				k, err := ks.RevokeClientKey(ctx, a, *id)
				if err != nil {
					return err
				}
				if r.asJSON {
					return writeJSON(o.stdout, keyJSON(k))
				}
				return table(o.stdout, "ID\tSTATUS\tDESCRIPTION", [][]string{{k.ID, string(k.Status), k.Description}})
			})
		}
	}
}
