package storetest

import (
	"testing"
	"time"

	"printdock/server/store"
)

// testKeyGrace covers a rolled credential's previous secret: kept until a time, found by its hash, its last
// use recorded, and forgotten by a clear or the next ReplaceSecret.
func testKeyGrace(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	portal(t, s, "p1")
	must(t, s.CreateCredential(ctx, cred("p1", "key1", store.CredUserKey)))
	_, err := s.GetCredentialByPreviousHash(ctx, "hash-key1")
	wantErr(t, "previous before a roll", err, store.ErrNotFound)

	must(t, s.ReplaceSecret(ctx, "key1", "hash-new", "pdu_new", 1))
	until := t0.Add(2 * time.Minute)
	must(t, s.SetPreviousSecret(ctx, "key1", "hash-key1", &until))
	g, err := s.GetCredentialByPreviousHash(ctx, "hash-key1")
	if err != nil || g.ID != "key1" || g.SecretHash != "hash-new" || g.Previous.Hash != "hash-key1" ||
		!timePtrEqual(g.Previous.ExpiresAt, &until) || g.Previous.UsedAt != nil || g.Previous.UsedFrom != "" {
		t.Fatalf("by previous hash = %+v, %v", g, err)
	}
	used := t0.Add(time.Minute)
	must(t, s.TouchPreviousSecret(ctx, "key1", used, "192.0.2.1:5"))
	g, err = s.GetCredential(ctx, "key1")
	if err != nil || !timePtrEqual(g.Previous.UsedAt, &used) || g.Previous.UsedFrom != "192.0.2.1:5" {
		t.Errorf("after touch = %+v, %v", g.Previous, err)
	}
	wantErr(t, "touch unknown", s.TouchPreviousSecret(ctx, "nope", used, ""), store.ErrNotFound)

	must(t, s.ReplaceSecret(ctx, "key1", "hash-newer", "pdu_nwr", 2)) // a roll without grace forgets it
	_, err = s.GetCredentialByPreviousHash(ctx, "hash-key1")
	wantErr(t, "previous after an immediate roll", err, store.ErrNotFound)
	must(t, s.SetPreviousSecret(ctx, "key1", "hash-new", &until))
	must(t, s.SetPreviousSecret(ctx, "key1", "", nil))
	if g, err := s.GetCredential(ctx, "key1"); err != nil || g.Previous != (store.PreviousSecret{}) {
		t.Errorf("after clear = %+v, %v", g.Previous, err)
	}
}
