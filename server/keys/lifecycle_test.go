package keys_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"printdock/protocol"
	"printdock/server/keys"
	"printdock/server/store"
	"printdock/server/store/sqlite"
)

func TestInit(t *testing.T) {
	e := newEnv(t)
	if e.init.AdminEmail != "admin@example.com" || e.init.PortalID == "" || e.init.AdminPassword == "" {
		t.Fatalf("init result %+v", e.init)
	}
	if k, err := protocol.ParseSecret(e.init.AdminAPIKey); err != nil || k != protocol.KindUser {
		t.Fatalf("admin API key kind %q, %v", k, err)
	}
	if _, err := e.svc.Init(e.ctx, "Second", "other@example.com"); !errors.Is(err, keys.ErrConflict) {
		t.Fatalf("second init = %v, want ErrConflict", err)
	}
	ok, err := e.svc.Bootstrapped(e.ctx)
	if err != nil || !ok {
		t.Fatalf("bootstrapped = %v, %v", ok, err)
	}
	if e.admin.Role != keys.RoleAdmin || e.admin.Kind != keys.KindUser || e.admin.PortalID != e.init.PortalID {
		t.Fatalf("admin principal %+v", e.admin.Principal)
	}
	p, err := e.svc.PasswordLogin(e.ctx, "ADMIN@example.com ", e.init.AdminPassword, "192.0.2.1:1")
	if err != nil || p.Kind != keys.KindSession || p.Role != keys.RoleAdmin || p.UserID != e.admin.UserID {
		t.Fatalf("password login = %+v, %v", p, err)
	}
	for _, tc := range []struct{ email, pw string }{
		{"admin@example.com", "wrong"},
		{"nobody@example.com", e.init.AdminPassword},
		{"", ""},
	} {
		if _, err := e.svc.PasswordLogin(e.ctx, tc.email, tc.pw, "192.0.2.1:1"); !errors.Is(err, keys.ErrUnauthenticated) {
			t.Errorf("login %q = %v, want ErrUnauthenticated", tc.email, err)
		}
	}
}

func TestEmptyStoreNotBootstrapped(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, t.TempDir()+"/db")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc, err := keys.New(st, make([]byte, keys.PepperLen), keys.WithPasswordParams(cheapPasswords))
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := svc.Bootstrapped(ctx); ok || err != nil {
		t.Fatalf("bootstrapped = %v, %v on an empty store", ok, err)
	}
	if _, err := keys.New(st, make([]byte, 16)); err == nil {
		t.Fatal("New accepted a 16-byte pepper")
	}
}

// TestClientKeyTransitions drives every lifecycle transition of a print client secret and checks the
// status, which error the old and new secrets get and which event is published.
func TestClientKeyTransitions(t *testing.T) {
	type op int
	const (
		opNone op = iota
		opActivate
		opDeactivate
		opRevoke
		opRotate
		opDelete
	)
	tests := []struct {
		name       string
		from       keys.Status // reached by create (+ revoke)
		op         op
		wantErr    error
		wantStatus keys.Status
		wantAuth   error  // the secret as created
		wantNew    error  // rotate: the new secret
		wantEvent  string // reason, "" = none
	}{
		{"create active", keys.StatusActive, opNone, nil, keys.StatusActive, nil, nil, ""},
		{"create inactive", keys.StatusInactive, opNone, nil, keys.StatusInactive, keys.ErrInactive, nil, ""},
		{"activate inactive", keys.StatusInactive, opActivate, nil, keys.StatusActive, nil, nil, ""},
		{"activate active is a no-op", keys.StatusActive, opActivate, nil, keys.StatusActive, nil, nil, ""},
		{"deactivate active", keys.StatusActive, opDeactivate, nil, keys.StatusInactive, keys.ErrInactive, nil, protocol.ReasonDeactivated},
		{"deactivate inactive is a no-op", keys.StatusInactive, opDeactivate, nil, keys.StatusInactive, keys.ErrInactive, nil, ""},
		{"revoke active", keys.StatusActive, opRevoke, nil, keys.StatusRevoked, keys.ErrRevoked, nil, protocol.ReasonRevoked},
		{"revoke inactive", keys.StatusInactive, opRevoke, nil, keys.StatusRevoked, keys.ErrRevoked, nil, protocol.ReasonRevoked},
		{"revoke revoked is a no-op", keys.StatusRevoked, opRevoke, nil, keys.StatusRevoked, keys.ErrRevoked, nil, ""},
		{"activate revoked refused", keys.StatusRevoked, opActivate, keys.ErrConflict, keys.StatusRevoked, keys.ErrRevoked, nil, ""},
		{"deactivate revoked refused", keys.StatusRevoked, opDeactivate, keys.ErrConflict, keys.StatusRevoked, keys.ErrRevoked, nil, ""},
		{"rotate revoked refused", keys.StatusRevoked, opRotate, keys.ErrConflict, keys.StatusRevoked, keys.ErrRevoked, nil, ""},
		{"rotate active", keys.StatusActive, opRotate, nil, keys.StatusActive, keys.ErrUnauthenticated, nil, protocol.ReasonRotated},
		{"rotate inactive stays inactive", keys.StatusInactive, opRotate, nil, keys.StatusInactive, keys.ErrUnauthenticated, keys.ErrInactive, protocol.ReasonRotated},
		{"delete active", keys.StatusActive, opDelete, nil, "", keys.ErrUnauthenticated, nil, protocol.ReasonDeleted},
		{"delete inactive", keys.StatusInactive, opDelete, nil, "", keys.ErrUnauthenticated, nil, protocol.ReasonDeleted},
		{"delete revoked", keys.StatusRevoked, opDelete, nil, "", keys.ErrUnauthenticated, nil, protocol.ReasonDeleted},
	}
	e := newEnv(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			c := e.createKey(keys.NewClientKey{Description: "Zebra " + tc.name, Inactive: tc.from == keys.StatusInactive})
			if c.Key.Status == keys.StatusActive != (tc.from != keys.StatusInactive) || c.Secret == "" || c.Key.Prefix != protocol.SecretPrefix(c.Secret) {
				t.Fatalf("created %+v", c.Key)
			}
			if tc.from == keys.StatusRevoked {
				if _, err := e.svc.RevokeClientKey(e.ctx, e.admin, c.Key.ID); err != nil {
					t.Fatal(err)
				}
				if ev := e.nextEvent(); ev.Reason != protocol.ReasonRevoked {
					t.Fatalf("setup event %+v", ev)
				}
			}
			var err error
			var rotated keys.Created
			switch tc.op {
			case opActivate, opDeactivate:
				_, err = e.svc.SetClientKeyActive(e.ctx, e.admin, c.Key.ID, tc.op == opActivate)
			case opRevoke:
				_, err = e.svc.RevokeClientKey(e.ctx, e.admin, c.Key.ID)
			case opRotate:
				rotated, err = e.svc.RotateClientKey(e.ctx, e.admin, c.Key.ID)
			case opDelete:
				err = e.svc.DeleteClientKey(e.ctx, e.admin, c.Key.ID)
			}
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("op = %v, want %v", err, tc.wantErr)
			}
			got, gerr := e.svc.GetClientKey(e.ctx, e.admin, c.Key.ID)
			if tc.wantStatus == "" {
				if !errors.Is(gerr, keys.ErrNotFound) {
					t.Errorf("get after delete = %v, want ErrNotFound", gerr)
				}
			} else if gerr != nil || got.Status != tc.wantStatus {
				t.Errorf("status = %q (%v), want %q", got.Status, gerr, tc.wantStatus)
			}
			e.wantAuth("old secret", c.Secret, "", tc.wantAuth)
			if tc.op == opRotate && err == nil {
				if rotated.Key.ID != c.Key.ID || rotated.Secret == c.Secret || rotated.Key.Prefix != protocol.SecretPrefix(rotated.Secret) {
					t.Errorf("rotated %+v", rotated.Key)
				}
				e.wantAuth("new secret", rotated.Secret, "", tc.wantNew)
				if tc.wantNew == nil {
					p, _ := e.svc.Authenticate(e.ctx, rotated.Secret, "", "")
					if p.Generation != 2 || p.CredentialID != c.Key.ID || p.Kind != keys.KindPrintClient {
						t.Errorf("principal after rotate %+v", p)
					}
				}
			}
			if tc.wantEvent == "" {
				e.noEvent()
				return
			}
			ev := e.nextEvent()
			wantGen := int64(0)
			if tc.op == opRotate {
				wantGen = 2
			}
			if ev.Reason != tc.wantEvent || len(ev.CredentialIDs) != 1 || ev.CredentialIDs[0] != c.Key.ID ||
				ev.BeforeGeneration != wantGen || ev.PortalID != e.admin.PortalID {
				t.Errorf("event %+v, want reason %s for %s gen %d", ev, tc.wantEvent, c.Key.ID, wantGen)
			}
		})
	}
}

func TestClientKeyListAndTouch(t *testing.T) {
	e := newEnv(t)
	a := e.createKey(keys.NewClientKey{Description: "Packing desk 1"})
	created := e.clock.Now()
	e.clock.Advance(time.Second)
	b := e.createKey(keys.NewClientKey{Description: "Packing desk 2", Inactive: true})
	list, err := e.svc.ListClientKeys(e.ctx, e.admin, store.Page{})
	if err != nil || len(list) != 2 || list[0].ID != a.Key.ID || list[1].ID != b.Key.ID {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if list[0].CreatedBy != "admin@example.com" || list[0].LastAccessedAt != nil || !list[0].CreatedAt.Equal(created) {
		t.Errorf("list[0] = %+v", list[0])
	}
	for _, k := range list {
		if strings.Contains(k.Prefix, a.Secret) || len(k.Prefix) != 8 {
			t.Errorf("prefix %q", k.Prefix)
		}
	}
}

func TestMalformedSecretsNoStoreAccess(t *testing.T) {
	e := newEnv(t)
	good := e.createKey(keys.NewClientKey{Description: "x"}).Secret
	tests := []struct {
		name, secret string
		want         error
	}{
		{"empty", "", protocol.ErrSecretEmpty},
		{"prefix", "abc_" + good[4:], protocol.ErrSecretPrefix},
		{"truncated", good[:len(good)-3], protocol.ErrSecretTruncated},
		{"too long", good + "x", protocol.ErrSecretTooLong},
		{"charset", good[:10] + "-" + good[11:], protocol.ErrSecretCharset},
		{"checksum", good[:10] + flip(good[10]) + good[11:], protocol.ErrSecretChecksum},
	}
	before := len(e.allAudit())
	for _, tc := range tests {
		err := e.authErr(tc.secret, "")
		if !errors.Is(err, keys.ErrUnauthenticated) || !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want ErrUnauthenticated and %v", tc.name, err, tc.want)
		}
		if strings.Contains(err.Error(), good[4:12]) {
			t.Errorf("%s: error %q reveals the secret", tc.name, err)
		}
	}
	if after := len(e.allAudit()); after != before {
		t.Errorf("malformed secrets wrote %d audit entries; want no store access", after-before)
	}
	// A well-formed unknown secret is looked up and audited — once per address and minute: the second
	// failure from the same address in the same minute is only counted (no audit flood).
	unknown, _ := protocol.NewSecret(protocol.KindPrintClient)
	e.wantAuth("unknown", unknown, "", keys.ErrUnauthenticated)
	oauthSecret, _ := protocol.NewSecret(protocol.KindOAuthClient)
	e.wantAuth("pdo_ as bearer", oauthSecret, "", keys.ErrUnauthenticated)
	if after := len(e.allAudit()); after != before+1 {
		t.Errorf("unknown secrets wrote %d audit entries, want 1", after-before)
	}
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

func TestStillValid(t *testing.T) {
	e := newEnv(t)
	c := e.createKey(keys.NewClientKey{Description: "x"})
	p, err := e.svc.Authenticate(e.ctx, c.Secret, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.StillValid(e.ctx, p); err != nil {
		t.Fatalf("fresh: %v", err)
	}
	if _, err := e.svc.RotateClientKey(e.ctx, e.admin, c.Key.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.StillValid(e.ctx, p); !errors.Is(err, keys.ErrUnauthenticated) || !errors.Is(err, keys.ErrRotated) {
		t.Fatalf("after rotate: %v", err)
	}
	if _, err := e.svc.SetClientKeyActive(e.ctx, e.admin, c.Key.ID, false); err != nil {
		t.Fatal(err)
	}
	p.Generation = 2
	if err := e.svc.StillValid(e.ctx, p); !errors.Is(err, keys.ErrInactive) {
		t.Fatalf("after deactivate: %v", err)
	}
	if err := e.svc.DeleteClientKey(e.ctx, e.admin, c.Key.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.StillValid(e.ctx, p); !errors.Is(err, keys.ErrUnauthenticated) || !errors.Is(err, keys.ErrDeleted) {
		t.Fatalf("after delete: %v", err)
	}
}
