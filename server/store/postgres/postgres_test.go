package postgres_test

import (
	"context"
	"crypto/rand"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"printdock/server/keys"
	"printdock/server/store"
	"printdock/server/store/postgres"
	"printdock/server/store/postgres/pgtest"
	"printdock/server/store/storetest"
)

func open(t *testing.T, u string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, pgtest.FreshSchema(t)) })
}

// TestConcurrentOpenMigratesOnce starts several stores on one empty schema at once, as replicas do.
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	u := pgtest.FreshSchema(t)
	const n = 6
	dbs := make([]*postgres.DB, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dbs[i], errs[i] = postgres.Open(t.Context(), u)
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("open %d: %v", i, errs[i])
		}
		t.Cleanup(func() { dbs[i].Close() })
	}
	v, err := dbs[0].SchemaVersion(t.Context())
	if err != nil || v < 2 {
		t.Fatalf("schema version = %d, %v", v, err)
	}
	conn, err := pgx.Connect(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var rows, distinct int
	if err := conn.QueryRow(t.Context(), `SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations`).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if rows != v || distinct != v {
		t.Errorf("schema_migrations has %d rows (%d versions), want %d", rows, distinct, v)
	}
	// Re-opening applies nothing.
	again := open(t, u)
	if v2, err := again.SchemaVersion(t.Context()); err != nil || v2 != v {
		t.Errorf("version after reopen = %d, %v; want %d", v2, err, v)
	}
	var schema string
	if err := conn.QueryRow(t.Context(), `SELECT current_schema()`).Scan(&schema); err != nil || again.Schema() != schema {
		t.Errorf("Schema() = %q, want %q (%v)", again.Schema(), schema, err)
	}
}

func TestOpenErrors(t *testing.T) {
	base := pgtest.BaseURL(t)
	for name, u := range map[string]string{
		"missing schema": pgtest.WithParam(t, base, "search_path", "pdt_no_such_schema"),
		"pool size":      pgtest.WithParam(t, base, "pool_max_conns", "zero"),
		"not a url":      "postgres://%zz",
	} {
		t.Run(name, func(t *testing.T) {
			db, err := postgres.Open(t.Context(), u)
			if err == nil {
				db.Close()
				t.Fatal("opened")
			}
		})
	}
}

// TestPoolOfOne runs concurrent work through a single connection: nothing deadlocks, nothing is lost.
func TestPoolOfOne(t *testing.T) {
	db := open(t, pgtest.WithParam(t, pgtest.FreshSchema(t), "pool_max_conns", "1"))
	ctx := t.Context()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				if err := db.InTx(ctx, func(tx store.Store) error {
					_, err := tx.AppendAudit(ctx, store.AuditEntry{PortalID: "p", Action: "x"})
					return err
				}); err != nil {
					t.Error(err)
					return
				}
				if _, err := db.ListAudit(ctx, store.AuditFilter{PortalID: "p", Limit: 1}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if got, err := db.ListAudit(ctx, store.AuditFilter{PortalID: "p", Limit: 1000}); err != nil || len(got) != 80 {
		t.Errorf("%d entries, %v; want 80", len(got), err)
	}
}

// TestConcurrentInit bootstraps an empty store from two replicas at once: exactly one creates the first
// portal; the other gets keys.ErrConflict.
func TestConcurrentInit(t *testing.T) {
	pepper := make([]byte, keys.PepperLen)
	rand.Read(pepper)
	for round := range 3 {
		u := pgtest.FreshSchema(t)
		var svcs [2]*keys.Service
		for i := range svcs {
			ks, err := keys.New(open(t, u), pepper)
			if err != nil {
				t.Fatal(err)
			}
			svcs[i] = ks
		}
		var wg sync.WaitGroup
		errs := make([]error, len(svcs))
		start := make(chan struct{})
		for i, ks := range svcs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = ks.Init(t.Context(), "Default", "admin@example.com")
			}()
		}
		close(start)
		wg.Wait()
		ok := 0
		for i, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, keys.ErrConflict):
				t.Errorf("round %d: replica %d: %v, want success or keys.ErrConflict", round, i, err)
			}
		}
		if ok != 1 {
			t.Errorf("round %d: %d replicas initialised the store (%v), want 1", round, ok, errs)
		}
		if done, err := svcs[0].Bootstrapped(t.Context()); err != nil || !done {
			t.Errorf("round %d: bootstrapped = %v, %v", round, done, err)
		}
	}
}

// recv waits for the next notification on ch.
func recv(t *testing.T, ch <-chan store.Notification) store.Notification {
	t.Helper()
	select {
	case n, ok := <-ch:
		if !ok {
			t.Fatal("notification channel closed")
		}
		return n
	case <-time.After(10 * time.Second):
		t.Fatal("no notification within 10 s")
	}
	return store.Notification{}
}

func TestNotifyAcrossStores(t *testing.T) {
	u := pgtest.FreshSchema(t)
	a, b := open(t, u), open(t, u)
	other := open(t, pgtest.FreshSchema(t)) // same database, another schema: must not hear a and b
	ctx := t.Context()

	fromB, err := b.Listen(ctx, "jobs")
	if err != nil {
		t.Fatal(err)
	}
	fromA, err := a.Listen(ctx, "jobs")
	if err != nil {
		t.Fatal(err)
	}
	keysB, err := b.Listen(ctx, "keys")
	if err != nil {
		t.Fatal(err)
	}
	fromOther, err := other.Listen(ctx, "jobs")
	if err != nil {
		t.Fatal(err)
	}

	if err := a.Notify(ctx, "jobs", "wake cli_1"); err != nil {
		t.Fatal(err)
	}
	want := store.Notification{Channel: "jobs", Payload: "wake cli_1"}
	if got := recv(t, fromB); got != want {
		t.Errorf("b got %+v, want %+v", got, want)
	}
	if got := recv(t, fromA); got != want {
		t.Errorf("the sender's own listener got %+v, want %+v", got, want)
	}

	// Inside a transaction: nothing on rollback, delivery at commit.
	boom := errors.New("boom")
	err = a.InTx(ctx, func(tx store.Store) error {
		if err := tx.(store.Publisher).Notify(ctx, "keys", "rolled back"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	must(t, a.InTx(ctx, func(tx store.Store) error {
		return tx.(store.Publisher).Notify(ctx, "keys", "committed")
	}))
	if got := recv(t, keysB); got.Payload != "committed" || got.Channel != "keys" || got.Missed {
		t.Errorf("after rollback and commit b got %+v, want the committed notification", got)
	}

	// Order per sender, and a slow reader loses nothing.
	const many = 300
	for i := range many {
		must(t, b.Notify(ctx, "jobs", strings.Repeat("x", i%50)+"|"+string(rune('a'+i%26))))
	}
	for i := range many {
		want := strings.Repeat("x", i%50) + "|" + string(rune('a'+i%26))
		if got := recv(t, fromA); got.Payload != want {
			t.Fatalf("notification %d = %q, want %q", i, got.Payload, want)
		}
	}

	// The other schema heard nothing of the above: its first notification is its own.
	must(t, other.Notify(ctx, "jobs", "mine"))
	if got := recv(t, fromOther); got.Payload != "mine" {
		t.Errorf("another schema's listener got %+v", got)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestNotifyErrors(t *testing.T) {
	db := open(t, pgtest.FreshSchema(t))
	ctx := t.Context()
	if err := db.Notify(ctx, "jobs", strings.Repeat("x", store.MaxNotifyPayload)); err != nil {
		t.Errorf("largest payload: %v", err)
	}
	if err := db.Notify(ctx, "jobs", strings.Repeat("x", store.MaxNotifyPayload+1)); !errors.Is(err, store.ErrPayloadTooLarge) {
		t.Errorf("payload too large: %v", err)
	}
	for _, ch := range []string{"", "a b", "x;DROP", `"q"`, strings.Repeat("c", 60)} {
		if err := db.Notify(ctx, ch, "p"); err == nil {
			t.Errorf("Notify on channel %q accepted", ch)
		}
		if c, err := db.Listen(ctx, ch); err == nil || c != nil {
			t.Errorf("Listen on channel %q accepted", ch)
		}
	}
}

// TestListenReconnects kills the listening connection: the subscriber is told it may have missed
// notifications, and receives new ones afterwards.
func TestListenReconnects(t *testing.T) {
	app := "pdtest-" + pgtest.RandHex(6)
	u := pgtest.WithParam(t, pgtest.FreshSchema(t), "application_name", app)
	db := open(t, u)
	ctx := t.Context()
	ch, err := db.Listen(ctx, "keys")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := pgx.Connect(ctx, pgtest.BaseURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	var killed int
	if err := admin.QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = $1) k`, app+" (listener)").Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("terminated %d listener connections, %v; want 1", killed, err)
	}
	if got := recv(t, ch); !got.Missed || got.Channel != "keys" || got.Payload != "" {
		t.Fatalf("after the connection was killed: %+v, want Missed", got)
	}
	must(t, db.Notify(ctx, "keys", "after"))
	if got := recv(t, ch); got.Payload != "after" || got.Missed {
		t.Errorf("after reconnecting: %+v", got)
	}

	// Ending the subscription closes its channel; other subscriptions go on.
	subCtx, cancel := context.WithCancel(ctx)
	sub, err := db.Listen(subCtx, "keys")
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	for range sub {
	}
	must(t, db.Notify(ctx, "keys", "still"))
	if got := recv(t, ch); got.Payload != "still" {
		t.Errorf("remaining subscription got %+v", got)
	}

	// Close ends every subscription.
	db.Close()
	for range ch {
	}
	if _, err := db.Listen(ctx, "keys"); err == nil {
		t.Error("Listen after Close succeeded")
	}
}

// TestListenCancelled: a Listen whose context is already done fails and subscribes to nothing.
func TestListenCancelled(t *testing.T) {
	db := open(t, pgtest.FreshSchema(t))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := db.Listen(ctx, "keys"); !errors.Is(err, context.Canceled) {
		t.Errorf("Listen with a cancelled context: %v", err)
	}
}

// TestListenChurn subscribes and unsubscribes repeatedly (each change interrupts the listening
// connection's wait) while notifications flow: none is lost, duplicated or reordered, and the connection
// is not re-established.
func TestListenChurn(t *testing.T) {
	u := pgtest.FreshSchema(t)
	a, b := open(t, u), open(t, u)
	ctx := t.Context()
	ch, err := b.Listen(ctx, "jobs")
	if err != nil {
		t.Fatal(err)
	}
	const many = 500
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range many {
			if err := a.Notify(ctx, "jobs", strconv.Itoa(i)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	churnDone := make(chan struct{})
	go func() {
		defer close(churnDone)
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			sctx, cancel := context.WithCancel(ctx)
			if _, err := b.Listen(sctx, "churn"+strconv.Itoa(i%3)); err != nil {
				t.Error(err)
				cancel()
				return
			}
			cancel()
		}
	}()
	for i := range many {
		if got := recv(t, ch); got.Payload != strconv.Itoa(i) || got.Missed {
			t.Fatalf("notification %d = %+v", i, got)
		}
	}
	<-churnDone
}
