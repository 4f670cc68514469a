package portal

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"printdock/server/keys"
	"printdock/server/store"
	"printdock/server/store/sqlite"
)

// TestSessionsInStore: with a store, a session outlives the process that created it (a restart, another
// replica), and whatever one process ends or changes, the others see.
func TestSessionsInStore(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "printdock.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.CreatePortal(ctx, store.Portal{ID: "prt_1", Name: "P", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	open := func() *sessions {
		s := newSessions(30*time.Minute, 12*time.Hour)
		s.st, s.nowFunc = st, func() time.Time { return now }
		return s
	}
	a, b := open(), open() // two processes: before and after a restart, or two replicas
	alice := keys.Principal{PortalID: "prt_1", UserID: "usr_a", Email: "alice@example.com", Role: keys.RoleUser, Kind: keys.KindSession}
	tok, created := a.create(alice)
	got, ok := b.get(tok)
	if !ok || got.p != alice || got.csrf != created.csrf || got.key != created.key {
		t.Fatalf("session in another process = %+v, %v; want %+v", got, ok, created)
	}
	admin := alice
	admin.Role = keys.RoleAdmin
	b.update(got.key, admin)
	if got, ok := a.get(tok); !ok || got.p.Role != keys.RoleAdmin {
		t.Errorf("after an update elsewhere: %+v, %v", got, ok)
	}
	b.setFlash(got.key, flash{Kind: "ok", Text: "saved"}) // flash and downloads stay in the process
	if f := b.takeFlash(got.key); f == nil || f.Text != "saved" {
		t.Errorf("flash = %v", f)
	}
	a.destroy(got.key)
	if _, ok := b.get(tok); ok {
		t.Error("a session ended elsewhere is still accepted")
	}
	if _, ok := b.get("forged"); ok {
		t.Error("unknown token accepted")
	}

	tok1, _ := a.create(alice)
	tok2, _ := b.create(alice)
	b.destroyUser(alice.UserID)
	for _, tok := range []string{tok1, tok2} {
		if _, ok := a.get(tok); ok {
			t.Error("a session of a user signed out everywhere is still accepted")
		}
	}

	// Expiry, as with sessions in memory: activity (written at most every touchEvery) keeps it alive,
	// idleness or age ends it.
	tok, _ = a.create(alice)
	for i, step := range []struct {
		advance time.Duration
		live    bool
	}{{29 * time.Minute, true}, {29 * time.Minute, true}, {31 * time.Minute, false}} {
		now = now.Add(step.advance)
		if _, ok := b.get(tok); ok != step.live {
			t.Errorf("step %d: live %v, want %v", i, ok, step.live)
		}
	}
	tok, _ = a.create(alice)
	for range 25 {
		now = now.Add(29 * time.Minute)
		b.get(tok)
	}
	if _, ok := a.get(tok); ok {
		t.Error("session outlived its maximum age")
	}
}
