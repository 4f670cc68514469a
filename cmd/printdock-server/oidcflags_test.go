package main

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

func TestOIDCFlags(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{oidcSecretEnv: "from-env"}
	for _, tc := range []struct {
		name   string
		args   []string
		off    bool
		usage  bool
		secret string
	}{
		{name: "off", off: true},
		{name: "no client", args: []string{"--oidc-issuer", "https://idp.example"}, usage: true},
		{name: "nobody allowed", args: []string{"--oidc-issuer", "https://idp.example", "--oidc-client-id", "c"}, usage: true},
		{name: "bad issuer", args: []string{"--oidc-issuer", "idp.example", "--oidc-client-id", "c", "--oidc-user-domains", "corp.example"}, usage: true},
		{name: "secret from env", args: []string{"--oidc-issuer", "https://idp.example", "--oidc-client-id", "c",
			"--oidc-user-domains", "corp.example,other.example"}, secret: "from-env"},
		{name: "secret from file", args: []string{"--oidc-issuer", "https://idp.example", "--oidc-client-id", "c",
			"--oidc-admin-groups", "admins", "--oidc-client-secret-file", secretFile}, secret: "from-file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("serve", flag.ContinueOnError)
			var f oidcFlags
			f.register(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			cfg, err := f.config(func(k string) string { return env[k] })
			var ue usageError
			switch {
			case tc.usage:
				if !errors.As(err, &ue) {
					t.Fatalf("config = %+v, %v; want a usage error", cfg, err)
				}
			case tc.off:
				if cfg != nil || err != nil {
					t.Fatalf("config = %+v, %v; want off", cfg, err)
				}
			default:
				if err != nil || cfg.ClientSecret != tc.secret || cfg.GroupsClaim != "groups" {
					t.Fatalf("config = %+v, %v; want secret %q", cfg, err, tc.secret)
				}
			}
		})
	}
}
