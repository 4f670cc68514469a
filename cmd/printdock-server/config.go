package main

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// envPrefix names the environment variables that set flags: PRINTDOCK_DATA_DIR is --data-dir.
const envPrefix = "PRINTDOCK_"

// envName is the environment variable of a flag.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// layer gives every flag of fs that the command line did not set a value from the environment
// (envName) or else from the configuration file at path ("" for none), so that a flag beats the
// environment, which beats the file. layered says which flags may be set so (the others, and keys
// in the file that are not flags, are refused in the file). The "config" flag itself is never layered.
func layer(fs *flag.FlagSet, path string, getenv func(string) string, layered func(name string) bool) error {
	file, err := readConfig(path)
	if err != nil {
		return err
	}
	for key := range file {
		if f := fs.Lookup(key); f == nil || key == "config" || !layered(key) {
			return usageError{fmt.Sprintf("%s: unknown setting %q (settings are the flags of serve, e.g. data-dir)", path, key)}
		}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []string
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || f.Name == "config" || !layered(f.Name) {
			return
		}
		if v := getenv(envName(f.Name)); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Sprintf("%s: %v", envName(f.Name), err))
			}
			return
		}
		vals, ok := file[f.Name]
		if !ok {
			return
		}
		for _, v := range vals {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Sprintf("%s: %s: %v", path, f.Name, err))
			}
		}
	})
	if len(errs) > 0 {
		return usageError{strings.Join(errs, "; ")}
	}
	return nil
}

// readConfig reads a TOML configuration file of flag settings (data-dir = "/var/lib/printdock";
// underscores may stand for dashes) into flag name → values (several for an array).
func readConfig(path string) (map[string][]string, error) {
	out := map[string][]string{}
	if path == "" {
		return out, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the configuration file: %w", err)
	}
	var raw map[string]any
	if err := toml.Unmarshal(b, &raw); err != nil {
		return nil, usageError{fmt.Sprintf("%s: %v", path, err)}
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		name := strings.ReplaceAll(k, "_", "-")
		switch v := raw[k].(type) {
		case map[string]any:
			return nil, usageError{fmt.Sprintf("%s: %q: tables are not settings", path, k)}
		case []any:
			for _, e := range v {
				out[name] = append(out[name], fmt.Sprint(e))
			}
		default:
			out[name] = append(out[name], fmt.Sprint(v))
		}
	}
	return out, nil
}
