// Package storetest is the conformance suite every store.Store implementation passes: call
// storetest.Run(t, open) from the implementation's tests with a function that returns a fresh, empty,
// migrated store (closed by the suite's cleanup or by open's own t.Cleanup).
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"printdock/server/store"
)

// Run runs every conformance test, each on a fresh store from open.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Portals", testPortals},
		{"Users", testUsers},
		{"Credentials", testCredentials},
		{"ReplaceSecret", testReplaceSecret},
		{"UserDeleteCascades", testUserDeleteCascades},
		{"SharedSecrets", testSharedSecrets},
		{"OAuthTokens", testOAuthTokens},
		{"Audit", testAudit},
		{"Tx", testTx},
		{"TimesRoundTrip", testTimes},
		{"Clients", testClients},
		{"Printers", testPrinters},
		{"PrinterAlerts", testPrinterAlerts},
		{"Jobs", testJobs},
		{"JobUpdates", testJobUpdates},
		{"SendQueuedJob", testSendQueuedJob},
		{"AckJob", testAckJob},
		{"PendingJobs", testPendingJobs},
		{"JobEvents", testJobEvents},
		{"ConcurrentTx", testConcurrentTx},
		{"Retention", testRetention},
		{"EventRetention", testEventRetention},
		{"Sessions", testSessions},
		{"Events", testEvents},
		{"KeyLifecycle", testKeyLifecycle},
		{"KeyGrace", testKeyGrace},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
	t.Run("Paging", func(t *testing.T) { testPaging(t, open) })
	t.Run("JobFilters", func(t *testing.T) { testJobFilters(t, open(t)) })
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)

func ctxOf(t *testing.T) context.Context { return t.Context() }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: %v, want %v", what, err, want)
	}
}

func portal(t *testing.T, s store.Store, id string) store.Portal {
	t.Helper()
	p := store.Portal{ID: id, Name: "Portal " + id, CreatedAt: t0}
	must(t, s.CreatePortal(ctxOf(t), p))
	return p
}

func user(t *testing.T, s store.Store, portalID, id, role string) store.User {
	t.Helper()
	u := store.User{ID: id, PortalID: portalID, Email: id + "@example.com", Role: role, PasswordHash: "$argon2id$x", CreatedAt: t0}
	must(t, s.CreateUser(ctxOf(t), u))
	return u
}

func cred(portalID, id string, kind store.CredentialKind) store.Credential {
	return store.Credential{
		ID: id, PortalID: portalID, Kind: kind, Description: "desc " + id, Prefix: "pdc_" + id[:4],
		SecretHash: "hash-" + id, Status: "active", Generation: 1, CreatedAt: t0, CreatedBy: "admin@example.com",
	}
}

func testPortals(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	n, err := s.CountPortals(ctx)
	if err != nil || n != 0 {
		t.Fatalf("count on empty store = %d, %v", n, err)
	}
	p := portal(t, s, "p1")
	wantErr(t, "duplicate portal", s.CreatePortal(ctx, p), store.ErrConflict)
	got, err := s.GetPortal(ctx, "p1")
	if err != nil || got != p {
		t.Errorf("get = %+v, %v; want %+v", got, err, p)
	}
	_, err = s.GetPortal(ctx, "nope")
	wantErr(t, "get unknown portal", err, store.ErrNotFound)
	if n, _ := s.CountPortals(ctx); n != 1 {
		t.Errorf("count = %d", n)
	}
}

func testUsers(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	portal(t, s, "p1")
	portal(t, s, "p2")
	a := user(t, s, "p1", "alice", "admin")
	user(t, s, "p1", "bob", "user")
	user(t, s, "p2", "carol", "admin")
	dup := a
	dup.ID = "alice2"
	wantErr(t, "duplicate e-mail", s.CreateUser(ctx, dup), store.ErrConflict)
	bad := a
	bad.ID, bad.Email, bad.PortalID = "x", "x@example.com", "no-such-portal"
	if err := s.CreateUser(ctx, bad); err == nil {
		t.Error("user in an unknown portal accepted (foreign keys off?)")
	}
	got, err := s.GetUser(ctx, "alice")
	if err != nil || got != a {
		t.Errorf("get = %+v, %v", got, err)
	}
	got, err = s.GetUserByEmail(ctx, "alice@example.com")
	if err != nil || got.ID != "alice" {
		t.Errorf("get by email = %+v, %v", got, err)
	}
	_, err = s.GetUserByEmail(ctx, "nobody@example.com")
	wantErr(t, "unknown e-mail", err, store.ErrNotFound)
	list, err := s.ListUsers(ctx, "p1", store.Page{})
	if err != nil || len(list) != 2 || list[0].ID != "alice" || list[1].ID != "bob" {
		t.Errorf("list = %+v, %v", list, err)
	}
	if n, err := s.CountAdmins(ctx, "p1"); err != nil || n != 1 {
		t.Errorf("admins = %d, %v", n, err)
	}
	must(t, s.SetUserRole(ctx, "bob", "admin"))
	if n, _ := s.CountAdmins(ctx, "p1"); n != 2 {
		t.Errorf("admins after promotion = %d", n)
	}
	must(t, s.SetUserPassword(ctx, "bob", "$argon2id$new"))
	if got, _ := s.GetUser(ctx, "bob"); got.PasswordHash != "$argon2id$new" || got.Role != "admin" {
		t.Errorf("bob = %+v", got)
	}
	wantErr(t, "role of unknown user", s.SetUserRole(ctx, "nope", "user"), store.ErrNotFound)
	wantErr(t, "password of unknown user", s.SetUserPassword(ctx, "nope", "x"), store.ErrNotFound)
	must(t, s.DeleteUser(ctx, "bob"))
	wantErr(t, "delete twice", s.DeleteUser(ctx, "bob"), store.ErrNotFound)
	_, err = s.GetUser(ctx, "bob")
	wantErr(t, "get deleted", err, store.ErrNotFound)
}

func testCredentials(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	portal(t, s, "p1")
	portal(t, s, "p2")
	admin := user(t, s, "p1", "admin", "admin")
	c1 := cred("p1", "key1", store.CredPrintClient)
	c1.CreatorID = admin.ID
	must(t, s.CreateCredential(ctx, c1))
	c2 := cred("p1", "key2", store.CredPrintClient)
	c2.CreatedAt = t0.Add(time.Second)
	c2.Status = "inactive"
	must(t, s.CreateCredential(ctx, c2))
	oc := cred("p1", "oac1", store.CredOAuthClient)
	oc.CreatedAt = t0.Add(2 * time.Second)
	must(t, s.CreateCredential(ctx, oc))
	must(t, s.CreateCredential(ctx, cred("p2", "key3", store.CredPrintClient)))

	dup := cred("p1", "key4", store.CredPrintClient)
	dup.SecretHash = c1.SecretHash
	wantErr(t, "duplicate hash", s.CreateCredential(ctx, dup), store.ErrConflict)
	wantErr(t, "duplicate id", s.CreateCredential(ctx, cred("p1", "key1", store.CredPrintClient)), store.ErrConflict)

	got, err := s.GetCredential(ctx, "key1")
	if err != nil || !credEqual(got, c1) {
		t.Errorf("get = %+v, %v; want %+v", got, err, c1)
	}
	got, err = s.GetCredentialByHash(ctx, "hash-key2")
	if err != nil || !credEqual(got, c2) {
		t.Errorf("get by hash = %+v, %v", got, err)
	}
	_, err = s.GetCredentialByHash(ctx, "nope")
	wantErr(t, "unknown hash", err, store.ErrNotFound)
	_, err = s.GetCredential(ctx, "nope")
	wantErr(t, "unknown id", err, store.ErrNotFound)

	list, err := s.ListCredentials(ctx, "p1", store.Page{}, store.CredPrintClient)
	if err != nil || len(list) != 2 || list[0].ID != "key1" || list[1].ID != "key2" {
		t.Errorf("list print clients = %v, %v", ids(list), err)
	}
	list, err = s.ListCredentials(ctx, "p1", store.Page{})
	if err != nil || !slices.Equal(ids(list), []string{"key1", "key2", "oac1"}) {
		t.Errorf("list all = %v, %v", ids(list), err)
	}
	list, err = s.ListCredentials(ctx, "p1", store.Page{}, store.CredOAuthClient, store.CredSharedDevice)
	if err != nil || !slices.Equal(ids(list), []string{"oac1"}) {
		t.Errorf("list oauth+shared = %v, %v", ids(list), err)
	}

	must(t, s.SetCredentialStatus(ctx, "key1", "revoked"))
	wantErr(t, "status of unknown", s.SetCredentialStatus(ctx, "nope", "revoked"), store.ErrNotFound)
	at := t0.Add(time.Hour)
	must(t, s.TouchCredential(ctx, "key1", at))
	wantErr(t, "touch unknown", s.TouchCredential(ctx, "nope", at), store.ErrNotFound)
	got, _ = s.GetCredential(ctx, "key1")
	if got.Status != "revoked" || got.LastAccessedAt == nil || !got.LastAccessedAt.Equal(at) {
		t.Errorf("after status+touch = %+v", got)
	}
	// Deleting the creator keeps the credential and forgets the creator.
	must(t, s.DeleteUser(ctx, admin.ID))
	got, err = s.GetCredential(ctx, "key1")
	if err != nil || got.CreatorID != "" {
		t.Errorf("after creator deleted = %+v, %v", got, err)
	}
	must(t, s.DeleteCredential(ctx, "key1"))
	wantErr(t, "delete twice", s.DeleteCredential(ctx, "key1"), store.ErrNotFound)
	_, err = s.GetCredentialByHash(ctx, "hash-key1")
	wantErr(t, "hash of deleted", err, store.ErrNotFound)
}

func testReplaceSecret(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	portal(t, s, "p1")
	must(t, s.CreateCredential(ctx, cred("p1", "key1", store.CredPrintClient)))
	must(t, s.CreateCredential(ctx, cred("p1", "key2", store.CredPrintClient)))
	must(t, s.ReplaceSecret(ctx, "key1", "hash-new", "pdc_NEW1", 1))
	got, _ := s.GetCredential(ctx, "key1")
	if got.SecretHash != "hash-new" || got.Prefix != "pdc_NEW1" || got.Generation != 2 {
		t.Errorf("after replace = %+v", got)
	}
	_, err := s.GetCredentialByHash(ctx, "hash-key1")
	wantErr(t, "old hash", err, store.ErrNotFound)
	wantErr(t, "stale generation", s.ReplaceSecret(ctx, "key1", "hash-newer", "pdc_x", 1), store.ErrConflict)
	wantErr(t, "unknown id", s.ReplaceSecret(ctx, "nope", "hash-x", "pdc_x", 1), store.ErrNotFound)
	wantErr(t, "hash taken", s.ReplaceSecret(ctx, "key1", "hash-key2", "pdc_x", 2), store.ErrConflict)
}

func testUserDeleteCascades(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	portal(t, s, "p1")
	u := user(t, s, "p1", "alice", "admin")
	k := cred("p1", "uak1", store.CredUserKey)
	k.UserID = u.ID
	must(t, s.CreateCredential(ctx, k))
	k2 := cred("p1", "uak2", store.CredUserKey)
	k2.UserID = u.ID
	wantErr(t, "second key for a user", s.CreateCredential(ctx, k2), store.ErrConflict)
	got, err := s.UserAPIKey(ctx, u.ID)
	if err != nil || got.ID != "uak1" || got.UserID != u.ID {
		t.Errorf("user api key = %+v, %v", got, err)
	}
	_, err = s.UserAPIKey(ctx, "nobody")
	wantErr(t, "key of unknown user", err, store.ErrNotFound)
	must(t, s.DeleteUser(ctx, u.ID))
	_, err = s.GetCredential(ctx, "uak1")
	wantErr(t, "key after user deleted", err, store.ErrNotFound)
}

func testSharedSecrets(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	portal(t, s, "p1")
	portal(t, s, "p2")
	_, err := s.CurrentSharedSecret(ctx, "p1")
	wantErr(t, "no shared secret yet", err, store.ErrNotFound)
	v1 := store.SharedSecret{PortalID: "p1", Version: 1, SecretHash: "sh1", Prefix: "pds_AAAA", CreatedAt: t0, CreatedBy: "a"}
	must(t, s.CreateSharedSecret(ctx, v1))
	wantErr(t, "duplicate version", s.CreateSharedSecret(ctx, store.SharedSecret{PortalID: "p1", Version: 1, SecretHash: "shX", CreatedAt: t0}), store.ErrConflict)
	wantErr(t, "duplicate hash", s.CreateSharedSecret(ctx, store.SharedSecret{PortalID: "p2", Version: 1, SecretHash: "sh1", CreatedAt: t0}), store.ErrConflict)
	dev := func(id string, v int64) store.Credential {
		c := cred("p1", id, store.CredSharedDevice)
		c.SecretHash, c.SharedVersion, c.Prefix = "", v, "pds_AAAA"
		return c
	}
	must(t, s.CreateCredential(ctx, dev("devA", 1)))
	must(t, s.CreateCredential(ctx, dev("devB", 1))) // two NULL hashes coexist
	if err := s.CreateCredential(ctx, dev("devX", 7)); err == nil {
		t.Error("device referencing a missing shared version accepted")
	}
	v2 := store.SharedSecret{PortalID: "p1", Version: 2, SecretHash: "sh2", Prefix: "pds_BBBB", CreatedAt: t0.Add(time.Minute), CreatedBy: "a"}
	must(t, s.CreateSharedSecret(ctx, v2))
	must(t, s.CreateCredential(ctx, dev("devC", 2)))
	cur, err := s.CurrentSharedSecret(ctx, "p1")
	if err != nil || cur != v2 {
		t.Errorf("current = %+v, %v", cur, err)
	}
	got, err := s.GetSharedSecretByHash(ctx, "sh1")
	if err != nil || got != v1 {
		t.Errorf("by hash = %+v, %v", got, err)
	}
	if n, err := s.PruneSharedSecrets(ctx, "p1"); err != nil || n != 0 {
		t.Errorf("prune with v1 in use = %d, %v", n, err)
	}
	moved, err := s.MoveSharedDevices(ctx, "p1", 2, "pds_BBBB")
	slices.Sort(moved)
	if err != nil || !slices.Equal(moved, []string{"devA", "devB", "devC"}) {
		t.Errorf("moved = %v, %v", moved, err)
	}
	if d, _ := s.GetCredential(ctx, "devA"); d.SharedVersion != 2 || d.Prefix != "pds_BBBB" || d.SecretHash != "" {
		t.Errorf("devA after move = %+v", d)
	}
	if n, err := s.PruneSharedSecrets(ctx, "p1"); err != nil || n != 1 {
		t.Errorf("prune = %d, %v", n, err)
	}
	_, err = s.GetSharedSecretByHash(ctx, "sh1")
	wantErr(t, "pruned version", err, store.ErrNotFound)
	if n, err := s.PruneSharedSecrets(ctx, "p1"); err != nil || n != 0 {
		t.Errorf("prune keeps the current version: %d, %v", n, err)
	}
	if moved, err := s.MoveSharedDevices(ctx, "p2", 1, "x"); err != nil || len(moved) != 0 {
		t.Errorf("move in a portal without devices = %v, %v", moved, err)
	}
}

func testOAuthTokens(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	portal(t, s, "p1")
	must(t, s.CreateCredential(ctx, cred("p1", "oac1", store.CredOAuthClient)))
	must(t, s.CreateCredential(ctx, cred("p1", "oac2", store.CredOAuthClient)))
	tok := func(h, client string, exp time.Time) store.OAuthToken {
		return store.OAuthToken{TokenHash: h, ClientID: client, PortalID: "p1", CreatedAt: t0, ExpiresAt: exp}
	}
	a := tok("t1", "oac1", t0.Add(time.Hour))
	must(t, s.CreateOAuthToken(ctx, a))
	must(t, s.CreateOAuthToken(ctx, tok("t2", "oac1", t0.Add(2*time.Hour))))
	must(t, s.CreateOAuthToken(ctx, tok("t3", "oac2", t0.Add(time.Minute))))
	wantErr(t, "duplicate token", s.CreateOAuthToken(ctx, a), store.ErrConflict)
	if err := s.CreateOAuthToken(ctx, tok("t4", "nope", t0)); err == nil {
		t.Error("token of unknown client accepted")
	}
	got, err := s.GetOAuthToken(ctx, "t1")
	if err != nil || got != a {
		t.Errorf("get = %+v, %v", got, err)
	}
	_, err = s.GetOAuthToken(ctx, "nope")
	wantErr(t, "unknown token", err, store.ErrNotFound)
	if n, err := s.DeleteExpiredOAuthTokens(ctx, t0.Add(time.Hour)); err != nil || n != 2 {
		t.Errorf("expired purge = %d, %v (expiry is inclusive)", n, err)
	}
	if _, err := s.GetOAuthToken(ctx, "t2"); err != nil {
		t.Errorf("t2 purged early: %v", err)
	}
	must(t, s.CreateOAuthToken(ctx, tok("t5", "oac1", t0.Add(3*time.Hour))))
	if n, err := s.DeleteOAuthTokens(ctx, "oac1"); err != nil || n != 2 {
		t.Errorf("delete client tokens = %d, %v", n, err)
	}
	must(t, s.CreateOAuthToken(ctx, tok("t6", "oac2", t0.Add(3*time.Hour))))
	must(t, s.DeleteCredential(ctx, "oac2"))
	_, err = s.GetOAuthToken(ctx, "t6")
	wantErr(t, "token of deleted client", err, store.ErrNotFound)
}

func testAudit(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	var ids []int64
	for i := 0; i < 5; i++ {
		e := store.AuditEntry{PortalID: "p1", At: t0.Add(time.Duration(i) * time.Minute), Actor: fmt.Sprintf("actor%d", i%2),
			Action: "key.rotate", Target: fmt.Sprintf("key%d", i), RemoteAddr: "192.0.2.1:1", Detail: "d"}
		if i == 4 {
			e.Action = "auth.failed"
		}
		id, err := s.AppendAudit(ctx, e)
		must(t, err)
		ids = append(ids, id)
	}
	_, err := s.AppendAudit(ctx, store.AuditEntry{PortalID: "", At: t0, Actor: "anonymous", Action: "auth.failed"})
	must(t, err)
	if !slices.IsSorted(ids) || ids[0] == ids[1] {
		t.Errorf("ids not increasing: %v", ids)
	}
	all, err := s.ListAudit(ctx, store.AuditFilter{PortalID: "p1"})
	if err != nil || len(all) != 5 || all[0].Target != "key4" || all[4].Target != "key0" {
		t.Fatalf("list = %+v, %v", all, err)
	}
	if all[0].ID != ids[4] || !all[0].At.Equal(t0.Add(4*time.Minute)) || all[0].RemoteAddr != "192.0.2.1:1" || all[0].Detail != "d" {
		t.Errorf("entry = %+v", all[0])
	}
	for _, tc := range []struct {
		name string
		f    store.AuditFilter
		want []string
	}{
		{"actor", store.AuditFilter{PortalID: "p1", Actor: "actor1"}, []string{"key3", "key1"}},
		{"action", store.AuditFilter{PortalID: "p1", Action: "auth.failed"}, []string{"key4"}},
		{"since/until", store.AuditFilter{PortalID: "p1", Since: t0.Add(time.Minute), Until: t0.Add(3 * time.Minute)}, []string{"key2", "key1"}},
		{"limit", store.AuditFilter{PortalID: "p1", Limit: 2}, []string{"key4", "key3"}},
		{"other portal", store.AuditFilter{PortalID: "p2"}, nil},
		{"no portal", store.AuditFilter{PortalID: ""}, []string{""}},
	} {
		got, err := s.ListAudit(ctx, tc.f)
		var targets []string
		for _, e := range got {
			targets = append(targets, e.Target)
		}
		if err != nil || !slices.Equal(targets, tc.want) {
			t.Errorf("%s: %v, %v; want %v", tc.name, targets, err, tc.want)
		}
	}
}

func testTx(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	boom := errors.New("boom")
	err := s.InTx(ctx, func(tx store.Store) error {
		must(t, tx.CreatePortal(ctx, store.Portal{ID: "p1", Name: "x", CreatedAt: t0}))
		if n, err := tx.CountPortals(ctx); err != nil || n != 1 {
			t.Errorf("read own write in tx = %d, %v", n, err)
		}
		// nested InTx joins the transaction
		return tx.InTx(ctx, func(tx2 store.Store) error {
			must(t, tx2.CreatePortal(ctx, store.Portal{ID: "p2", Name: "y", CreatedAt: t0}))
			return boom
		})
	})
	wantErr(t, "tx error", err, boom)
	if n, _ := s.CountPortals(ctx); n != 0 {
		t.Errorf("rolled back tx left %d portals", n)
	}
	must(t, s.InTx(ctx, func(tx store.Store) error {
		return tx.CreatePortal(ctx, store.Portal{ID: "p1", Name: "x", CreatedAt: t0})
	}))
	if _, err := s.GetPortal(ctx, "p1"); err != nil {
		t.Errorf("committed portal missing: %v", err)
	}
	// Errors from inside keep their identity.
	err = s.InTx(ctx, func(tx store.Store) error {
		return tx.CreatePortal(ctx, store.Portal{ID: "p1", Name: "dup", CreatedAt: t0})
	})
	wantErr(t, "conflict inside tx", err, store.ErrConflict)
}

func testTimes(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	local := time.Date(2026, 6, 1, 14, 0, 0, 987654000, time.FixedZone("X", 3600))
	must(t, s.CreatePortal(ctx, store.Portal{ID: "p1", Name: "x", CreatedAt: local}))
	p, err := s.GetPortal(ctx, "p1")
	if err != nil || !p.CreatedAt.Equal(local) || p.CreatedAt.Location() != time.UTC {
		t.Errorf("time round trip: %v (%v), want %v in UTC (microsecond precision)", p.CreatedAt, err, local)
	}
}

func ids(cs []store.Credential) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func credEqual(a, b store.Credential) bool {
	if !timePtrEqual(a.LastAccessedAt, b.LastAccessedAt) || !timePtrEqual(a.ActivatedAt, b.ActivatedAt) ||
		!timePtrEqual(a.ExpiresAt, b.ExpiresAt) {
		return false
	}
	a.LastAccessedAt, b.LastAccessedAt, a.ActivatedAt, b.ActivatedAt, a.ExpiresAt, b.ExpiresAt = nil, nil, nil, nil, nil, nil
	return a == b
}

func timePtrEqual(a, b *time.Time) bool {
	return (a == nil) == (b == nil) && (a == nil || a.Equal(*b))
}
