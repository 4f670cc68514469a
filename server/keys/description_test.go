package keys_test

import (
	"errors"
	"strings"
	"testing"

	"printdock/protocol"
	"printdock/server/keys"
)

// A secret pasted into a description would be shown to everyone who lists keys: every occurrence of
// anything that looks like one is refused, wherever it is in the text.
func TestDescriptionRefusesSecrets(t *testing.T) {
	e := newEnv(t)
	secret := func(k protocol.SecretKind) string {
		s, err := protocol.NewSecret(k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	pdc, pdu, pds := secret(protocol.KindPrintClient), secret(protocol.KindUser), secret(protocol.KindShared)
	tests := []struct {
		name string
		desc string
		ok   bool
	}{
		{"plain", "Zebra at dock 3", true},
		{"displayed prefix", "replaces " + protocol.SecretPrefix(pdc), true},
		{"prefix alone", "pdc_ and pdu_ keys", true},
		{"prefix then words", "pdc_printer_dock_3", true},
		{"19 characters", "pdc_" + pdc[4:23], true},
		{"secret", pdc, false},
		{"secret in text", "dock 3 " + pdc + " (new)", false},
		{"decoy before the secret", "pdc_ x " + pdc, false},
		{"decoy of another kind before the secret", "pdu_ pdc_ " + pdc, false},
		{"second kind after a decoy", "pds_x " + pds, false},
		{"many decoys", strings.Repeat("pdu_ ", 20) + pdu, false},
		{"secret glued to a decoy", "pdc_" + pdc, false},
		{"cut-off secret", pdc[:30], false},
		{"secret with a mistyped checksum", pdc[:len(pdc)-1] + "x", false},
		{"upper-case prefix", strings.ToUpper(pdc[:4]) + pdc[4:], false},
		{"OAuth client secret", "oauth " + secret(protocol.KindOAuthClient), false},
		{"access token", "token " + secret(protocol.KindOAuthToken), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := e.svc.CreateClientKey(e.ctx, e.admin, keys.NewClientKey{Description: tt.desc})
			_, _, oerr := e.svc.CreateOAuthClient(e.ctx, e.admin, tt.desc)
			if tt.ok {
				if err != nil || oerr != nil {
					t.Fatalf("refused %q: client key %v, OAuth client %v", tt.desc, err, oerr)
				}
				if c.Key.Description != tt.desc {
					t.Fatalf("description stored as %q", c.Key.Description)
				}
				return
			}
			for what, err := range map[string]error{"client key": err, "OAuth client": oerr} {
				if !errors.Is(err, keys.ErrInvalid) {
					t.Errorf("%s with description %q: err = %v, want ErrInvalid", what, tt.desc, err)
				}
				if err != nil && strings.Contains(err.Error(), tt.desc) {
					t.Errorf("%s: the error echoes the secret", what)
				}
			}
		})
	}
}
