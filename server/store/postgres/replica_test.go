package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"printdock/server/store"
	"printdock/server/store/postgres"
	"printdock/server/store/postgres/pgtest"
)

// sessionsOf returns the live sessions of each client, as every replica sees them.
func sessionsOf(t *testing.T, s store.Store, ids ...string) []int64 {
	t.Helper()
	out := make([]int64, len(ids))
	for i, id := range ids {
		c, err := s.GetClient(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = c.Sessions
	}
	return out
}

func connectAs(t *testing.T, s store.Store, id string) {
	t.Helper()
	if _, err := s.ConnectClient(t.Context(), store.Client{ID: id, PortalID: "p1", CredentialID: "key-" + id,
		InstallationID: "inst-" + id, LastSeenAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
}

// TestReplicaPresence: each replica counts the agent sessions it holds. A replica that starts
// (ResetClientSessions) leaves the others' agents online; a replica that crashes is swept after
// ReplicaTTL; one that closes withdraws its sessions at once.
func TestReplicaPresence(t *testing.T) {
	u := pgtest.FreshSchema(t)
	ctx := t.Context()
	a, b := open(t, u), open(t, u)
	if a.ReplicaID() == b.ReplicaID() || a.ReplicaID() == "" {
		t.Fatalf("replica IDs %q and %q", a.ReplicaID(), b.ReplicaID())
	}
	must(t, a.CreatePortal(ctx, store.Portal{ID: "p1", Name: "P1", CreatedAt: time.Now()}))
	connectAs(t, a, "ca")
	connectAs(t, b, "cb")
	connectAs(t, a, "cab")
	connectAs(t, b, "cab")
	ids := []string{"ca", "cb", "cab"}
	if got := sessionsOf(t, a, ids...); fmt.Sprint(got) != "[1 1 2]" {
		t.Fatalf("sessions = %v", got)
	}

	// A third replica starts: nothing changes.
	c := open(t, u)
	if n, err := c.ResetClientSessions(ctx); err != nil || n != 0 {
		t.Errorf("reset on a new replica = %d, %v; want 0", n, err)
	}
	// Disconnecting on a replica that holds no session of the client changes nothing but last_seen.
	must(t, c.DisconnectClient(ctx, "ca", time.Now()))
	if got := sessionsOf(t, c, ids...); fmt.Sprint(got) != "[1 1 2]" {
		t.Fatalf("sessions after start of a third replica = %v", got)
	}

	// A crashes; while its heartbeat is fresh it still counts.
	postgres.Crash(a)
	must(t, postgres.BeatOnce(ctx, b))
	if got := sessionsOf(t, b, ids...); fmt.Sprint(got) != "[1 1 2]" {
		t.Fatalf("sessions right after the crash = %v", got)
	}
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `UPDATE replicas SET seen_at = now() - interval '1 hour' WHERE id = $1`, a.ReplicaID()); err != nil {
		t.Fatal(err)
	}
	swept := time.Now().Truncate(time.Millisecond)
	must(t, postgres.BeatOnce(ctx, b))
	if got := sessionsOf(t, b, ids...); fmt.Sprint(got) != "[0 1 1]" {
		t.Errorf("sessions after A is gone = %v, want [0 1 1]", got)
	}
	// The sweep is the disconnect of the agents it takes offline (printer alerts count from it); an agent
	// still online elsewhere keeps its last connect.
	if ca, err := b.GetClient(ctx, "ca"); err != nil || ca.LastSeenAt.Before(swept) {
		t.Errorf("ca last seen after the sweep = %v, %v; want from %v", ca.LastSeenAt, err, swept)
	}
	if cab, err := b.GetClient(ctx, "cab"); err != nil || !cab.LastSeenAt.Before(swept) {
		t.Errorf("cab (still on B) last seen after the sweep = %v, %v; want before %v", cab.LastSeenAt, err, swept)
	}
	var replicas int
	if err := conn.QueryRow(ctx, `SELECT COUNT(*) FROM replicas`).Scan(&replicas); err != nil || replicas != 2 {
		t.Errorf("%d replicas registered (%v), want 2", replicas, err)
	}

	// B closes cleanly: its sessions go at once.
	b.Close()
	if got := sessionsOf(t, c, ids...); fmt.Sprint(got) != "[0 0 0]" {
		t.Errorf("sessions after B closed = %v, want [0 0 0]", got)
	}
	if err := conn.QueryRow(ctx, `SELECT COUNT(*) FROM replicas`).Scan(&replicas); err != nil || replicas != 1 {
		t.Errorf("%d replicas registered (%v), want 1", replicas, err)
	}
}

// TestResetRecomputes: a replica's start also forgets the sessions of replicas that are gone and counts
// no one has attributed to a live replica.
func TestResetRecomputes(t *testing.T) {
	u := pgtest.FreshSchema(t)
	ctx := t.Context()
	a, b := open(t, u), open(t, u)
	must(t, a.CreatePortal(ctx, store.Portal{ID: "p1", Name: "P1", CreatedAt: time.Now()}))
	connectAs(t, a, "ca")
	connectAs(t, b, "cb")
	connectAs(t, b, "cb")
	postgres.Crash(a)
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `UPDATE replicas SET seen_at = now() - interval '1 hour' WHERE id = $1`, a.ReplicaID()); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `UPDATE clients SET sessions = 7 WHERE id = 'cb'`); err != nil { // a stray count
		t.Fatal(err)
	}
	c := open(t, u)
	if n, err := c.ResetClientSessions(ctx); err != nil || n != 2 {
		t.Errorf("reset = %d, %v; want 2", n, err)
	}
	if got := sessionsOf(t, c, "ca", "cb"); fmt.Sprint(got) != "[0 2]" {
		t.Errorf("sessions = %v, want [0 2]", got)
	}
}

// TestEnsureSetting: replicas racing to record a setting agree on the first one written.
func TestEnsureSetting(t *testing.T) {
	u := pgtest.FreshSchema(t)
	const n = 6
	got := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		db := open(t, u)
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := db.EnsureSetting(t.Context(), "pepper_check", fmt.Sprint("v", i))
			if err != nil {
				t.Error(err)
			}
			got[i] = v
		}()
	}
	wg.Wait()
	for i := range n {
		if got[i] == "" || got[i] != got[0] {
			t.Fatalf("replicas saw %q", got)
		}
	}
}
