package keys_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"printdock/protocol"
	"printdock/server/keys"
	"printdock/server/store"
)

func TestAuditEntriesHoldNoSecrets(t *testing.T) {
	e := newEnv(t)
	secrets := []string{e.init.AdminAPIKey, e.init.AdminPassword}
	_, pw, key, err := e.svc.CreateUser(e.ctx, e.admin, "u@example.com", keys.RoleUser)
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, pw, key)
	c := e.createKey(keys.NewClientKey{Description: "Zebra"})
	r, err := e.svc.RotateClientKey(e.ctx, e.admin, c.Key.ID)
	if err != nil {
		t.Fatal(err)
	}
	sh := e.createKey(keys.NewClientKey{Description: "shared", UseSharedSecret: true})
	s2, err := e.svc.ResetSharedSecret(e.ctx, e.admin, keys.SharedResetConfirmation, true)
	if err != nil {
		t.Fatal(err)
	}
	oc, osec, err := e.svc.CreateOAuthClient(e.ctx, e.admin, "WMS")
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := e.svc.IssueToken(e.ctx, oc.ID, osec, "203.0.113.9:9")
	if err != nil {
		t.Fatal(err)
	}
	own, err := e.svc.RotateOwnAPIKey(e.ctx, e.admin, true)
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, c.Secret, r.Secret, sh.Secret, s2, osec, tok, own)
	if _, err := e.svc.SetClientKeyActive(e.ctx, e.admin, c.Key.ID, false); err != nil {
		t.Fatal(err)
	}
	// failed authentications: unknown, inactive, wrong password, wrong device
	unknown, _ := protocol.NewSecret(protocol.KindPrintClient)
	secrets = append(secrets, unknown)
	e.wantAuth("unknown", unknown, "", keys.ErrUnauthenticated)
	e.wantAuth("inactive", r.Secret, "", keys.ErrInactive)
	e.wantAuth("old admin key", e.init.AdminAPIKey, "", keys.ErrUnauthenticated)
	e.wantAuth("shared, wrong device", s2, "dev_"+strings.Repeat("x", 26), keys.ErrUnauthenticated)
	if _, err := e.svc.PasswordLogin(e.ctx, "u@example.com", "wrong-"+pw, "198.51.100.1:2"); err == nil {
		t.Fatal("wrong password accepted")
	}

	entries := e.allAudit()
	actions := map[string]int{}
	for _, a := range entries {
		actions[a.Action]++
		line := strings.Join([]string{a.Actor, a.Action, a.Target, a.RemoteAddr, a.Detail}, "|")
		for _, s := range secrets {
			if strings.Contains(line, s) {
				t.Errorf("audit entry %q contains a secret", line)
			}
			if len(s) == protocol.SecretLen && strings.Contains(line, protocol.SecretPrefix(s)) {
				t.Errorf("audit entry %q contains a secret's prefix", line)
			}
			if len(s) == protocol.SecretLen && strings.Contains(line, s[4:12]) {
				t.Errorf("audit entry %q contains part of a secret", line)
			}
		}
		if a.At.IsZero() || a.Actor == "" {
			t.Errorf("audit entry without time or actor: %+v", a)
		}
	}
	for action, want := range map[string]int{
		keys.ActionPortalCreate: 1, keys.ActionUserCreate: 2, keys.ActionClientKeyCreate: 2, keys.ActionClientKeyRotate: 1,
		keys.ActionSharedSecretCreate: 1, keys.ActionSharedSecretReset: 1, keys.ActionOAuthClientCreate: 1,
		keys.ActionOAuthTokenIssue: 1, keys.ActionAPIKeyRotate: 1, keys.ActionClientKeyDeactivate: 1,
		keys.ActionAuthFailed: 4, // "unknown" and "old admin key" share address and minute: one row
	} {
		if actions[action] != want {
			t.Errorf("%d %s entries, want %d (all: %v)", actions[action], action, want, actions)
		}
	}
	// The admin sees their portal's entries with who and from where.
	got, err := e.svc.Audit(e.ctx, e.admin, keys.AuditFilter{Action: keys.ActionClientKeyRotate})
	if err != nil || len(got) != 1 || got[0].Actor != "admin@example.com" || got[0].Target != c.Key.ID || got[0].RemoteAddr != "192.0.2.10:5555" {
		t.Errorf("audit rotate = %+v, %v", got, err)
	}
	got, err = e.svc.Audit(e.ctx, e.admin, keys.AuditFilter{Limit: 3})
	if err != nil || len(got) != 3 || got[0].ID < got[1].ID {
		t.Errorf("audit limit/order = %+v, %v", got, err)
	}
}

func TestPepperFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	p, err := keys.LoadOrCreatePepper(dir)
	if err != nil || len(p) != keys.PepperLen {
		t.Fatalf("create = %d bytes, %v", len(p), err)
	}
	fi, err := os.Stat(filepath.Join(dir, keys.PepperFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("pepper mode %v, %v", fi.Mode(), err)
	}
	if di, _ := os.Stat(dir); di.Mode().Perm()&0o077 != 0 {
		t.Errorf("data dir mode %v", di.Mode())
	}
	again, err := keys.LoadOrCreatePepper(dir)
	if err != nil || !slices.Equal(again, p) {
		t.Fatalf("reload differs or fails: %v", err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("data dir holds %d entries, want only the pepper", len(ents))
	}
	for _, mode := range []os.FileMode{0o640, 0o604, 0o644, 0o660} {
		if err := os.Chmod(filepath.Join(dir, keys.PepperFile), mode); err != nil {
			t.Fatal(err)
		}
		if _, err := keys.LoadOrCreatePepper(dir); !errors.Is(err, keys.ErrPepperPermissions) {
			t.Errorf("mode %o: %v, want ErrPepperPermissions", mode, err)
		}
	}
	short := filepath.Join(t.TempDir(), "short")
	os.MkdirAll(short, 0o700)
	os.WriteFile(filepath.Join(short, keys.PepperFile), []byte("too short"), 0o600)
	if _, err := keys.LoadOrCreatePepper(short); err == nil {
		t.Error("a 9-byte pepper was accepted")
	}
}

func TestTouchThrottle(t *testing.T) {
	e := newEnv(t)
	c := e.createKey(keys.NewClientKey{Description: "x"})
	p, err := e.svc.Authenticate(e.ctx, c.Secret, "", "")
	if err != nil {
		t.Fatal(err)
	}
	last := func() *time.Time {
		k, err := e.svc.GetClientKey(e.ctx, e.admin, c.Key.ID)
		if err != nil {
			t.Fatal(err)
		}
		return k.LastAccessedAt
	}
	if last() != nil {
		t.Fatal("last accessed set before any touch")
	}
	t0 := e.clock.Now()
	steps := []struct {
		advance time.Duration
		now     bool // TouchNow
		want    time.Time
	}{
		{0, true, t0},                                  // connect writes at once
		{30 * time.Second, false, t0},                  // throttled
		{29 * time.Second, false, t0},                  // 59s: throttled
		{time.Second, false, t0.Add(time.Minute)},      // 60s: written
		{10 * time.Second, false, t0.Add(time.Minute)}, // throttled
		{time.Second, true, t0.Add(71 * time.Second)},  // TouchNow ignores the throttle
		{59 * time.Second, false, t0.Add(71 * time.Second)},
		{time.Second, false, t0.Add(131 * time.Second)},
	}
	for i, s := range steps {
		e.clock.Advance(s.advance)
		if s.now {
			e.svc.TouchNow(e.ctx, p)
		} else {
			e.svc.Touch(e.ctx, p)
		}
		if got := last(); got == nil || !got.Equal(s.want) {
			t.Errorf("step %d: last accessed %v, want %v", i, got, s.want)
		}
	}
}

func TestEventsNeverBlockNorDrop(t *testing.T) {
	e := newEnv(t)
	slow, cancel := e.svc.Subscribe() // never read until the end
	defer cancel()
	const n = 300
	var ids []string
	for i := 0; i < n; i++ {
		c := e.createKey(keys.NewClientKey{Description: "k"})
		if _, err := e.svc.RevokeClientKey(e.ctx, e.admin, c.Key.ID); err != nil {
			t.Fatal(err) // would hang here if publishing blocked on the unread subscriber
		}
		ids = append(ids, c.Key.ID)
	}
	for i := 0; i < n; i++ {
		var ev keys.Event
		select {
		case ev = <-slow:
		case <-time.After(10 * time.Second):
			t.Fatalf("event %d missing", i)
		}
		if ev.CredentialIDs[0] != ids[i] || ev.Reason != protocol.ReasonRevoked {
			t.Fatalf("event %d = %+v, want revoke of %s", i, ev, ids[i])
		}
	}
	cancel()
	cancel() // idempotent
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, ok := <-slow; !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("channel not closed after cancel")
		}
	}
}

func TestPasswordDefaultParams(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t)
	svc, err := keys.New(e.st, make([]byte, keys.PepperLen)) // default argon2id parameters
	if err != nil {
		t.Fatal(err)
	}
	adminB, err := svc.CreatePortal(ctx, "B", "b@example.com")
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.st.GetUserByEmail(ctx, "b@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=47104,t=1,p=1$") || strings.Contains(u.PasswordHash, adminB.AdminPassword) {
		t.Errorf("stored hash %q", u.PasswordHash)
	}
	if _, err := svc.PasswordLogin(ctx, "b@example.com", adminB.AdminPassword, ""); err != nil {
		t.Errorf("login: %v", err)
	}
	if _, err := svc.PasswordLogin(ctx, "b@example.com", adminB.AdminPassword+"x", ""); !errors.Is(err, keys.ErrUnauthenticated) {
		t.Errorf("wrong password: %v", err)
	}
	if len(adminB.AdminPassword) != 23 || strings.ContainsAny(adminB.AdminPassword, "0O1lI \"'\\") {
		t.Errorf("password %q is not print-safe", adminB.AdminPassword)
	}
	_ = store.ErrNotFound
}
