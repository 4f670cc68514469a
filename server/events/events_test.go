package events_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"printdock/server/events"
	"printdock/server/store"
	"printdock/server/store/sqlite"
)

func openStore(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "printdock.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.CreatePortal(t.Context(), store.Portal{ID: "p1", Name: "P", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestRecordAndBus: an event recorded in a transaction is readable once the Bus says so, with its data;
// a rolled-back one never appears; unknown types are refused.
func TestRecordAndBus(t *testing.T) {
	db := openStore(t)
	bus := events.NewBus(db, nil)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go bus.Run(ctx)

	changed := bus.Changed()
	at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	err := db.InTx(ctx, func(tx store.Store) error {
		return events.Record(ctx, tx, events.Job("p1", at, events.JobData{JobID: "job_1", PrinterID: "prn_1", From: "queued", To: "sent", Actor: "server"}))
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-changed:
	case <-time.After(10 * time.Second):
		t.Fatal("the bus did not wake readers")
	}
	es, err := bus.Read(ctx, store.EventFilter{PortalID: "p1"})
	if err != nil || len(es) != 1 {
		t.Fatalf("read %v, %v", es, err)
	}
	var d events.JobData
	if err := json.Unmarshal(es[0].Data, &d); err != nil || d.JobID != "job_1" || d.To != "sent" || es[0].Type != events.JobStateChanged || !es[0].At.Equal(at) {
		t.Errorf("event %+v data %+v %v", es[0], d, err)
	}
	b, _ := json.Marshal(es[0])
	var shape map[string]any
	json.Unmarshal(b, &shape)
	if len(shape) != 4 || shape["type"] != "job.state_changed" || shape["timestamp"] == nil || shape["id"] == nil {
		t.Errorf("payload %s", b)
	}

	_ = db.InTx(ctx, func(tx store.Store) error {
		if err := events.Record(ctx, tx, events.Key("p1", events.KeyRevoked, at, events.KeyData{CredentialID: "k", Kind: "print_client_secret"})); err != nil {
			t.Fatal(err)
		}
		return context.Canceled // roll back
	})
	if last, err := bus.Last(ctx, "p1"); err != nil || last != es[0].ID {
		t.Errorf("last %d, %v; want %d (the rolled-back event is gone)", last, err, es[0].ID)
	}
	if err := events.Record(ctx, db, events.New{PortalID: "p1", Type: "no.such", At: at}); err == nil {
		t.Error("unknown type recorded")
	}
}
