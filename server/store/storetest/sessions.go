package storetest

import (
	"testing"
	"time"

	"printdock/server/store"
)

func testSessions(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	portal(t, s, "p1")
	a := store.Session{Key: "k1", PortalID: "p1", UserID: "u1", Principal: `{"role":"admin"}`, CreatedAt: t0, LastSeenAt: t0}
	must(t, s.CreateSession(ctx, a))
	wantErr(t, "duplicate key", s.CreateSession(ctx, a), store.ErrConflict)
	b := store.Session{Key: "k2", PortalID: "p1", UserID: "u1", Principal: "{}", CreatedAt: t0.Add(time.Hour), LastSeenAt: t0.Add(time.Hour)}
	must(t, s.CreateSession(ctx, b))
	must(t, s.CreateSession(ctx, store.Session{Key: "k3", PortalID: "p1", UserID: "u2", Principal: "{}", CreatedAt: t0, LastSeenAt: t0}))

	got, err := s.GetSession(ctx, "k1")
	if err != nil || got != a {
		t.Errorf("get = %+v, %v; want %+v", got, err, a)
	}
	_, err = s.GetSession(ctx, "nope")
	wantErr(t, "get unknown", err, store.ErrNotFound)
	must(t, s.TouchSession(ctx, "k1", t0.Add(time.Minute)))
	must(t, s.SetSessionPrincipal(ctx, "k1", `{"role":"user"}`))
	if got, _ := s.GetSession(ctx, "k1"); !got.LastSeenAt.Equal(t0.Add(time.Minute)) || got.Principal != `{"role":"user"}` {
		t.Errorf("after touch and update = %+v", got)
	}
	wantErr(t, "touch unknown", s.TouchSession(ctx, "nope", t0), store.ErrNotFound)

	n, err := s.DeleteOldSessions(ctx, t0.Add(30*time.Second), t0.Add(-time.Hour))
	if err != nil || n != 1 { // k3: last seen at t0
		t.Errorf("delete old = %d, %v", n, err)
	}
	n, err = s.DeleteUserSessions(ctx, "u1", "k2")
	if err != nil || n != 1 { // k1 goes, k2 is kept (a password change keeps the session that made it)
		t.Errorf("delete user except k2 = %d, %v", n, err)
	}
	if _, err := s.GetSession(ctx, "k2"); err != nil {
		t.Errorf("the kept session: %v", err)
	}
	n, err = s.DeleteUserSessions(ctx, "u1", "")
	if err != nil || n != 1 {
		t.Errorf("delete user = %d, %v", n, err)
	}
	wantErr(t, "delete gone", s.DeleteSession(ctx, "k1"), store.ErrNotFound)
}
