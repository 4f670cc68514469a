package events_test

import (
	"context"
	"testing"
	"time"

	"printdock/server/events"
	"printdock/server/store"
)

func recordJob(t *testing.T, db store.Store, printerID string) {
	t.Helper()
	at := time.Now()
	err := db.InTx(t.Context(), func(tx store.Store) error {
		return events.Record(t.Context(), tx, events.Job("p1", at, events.JobData{JobID: "job", PrinterID: printerID, To: "queued", Actor: "t"}))
	})
	if err != nil {
		t.Fatal(err)
	}
}

func next(t *testing.T, s *events.Sub) events.Event {
	t.Helper()
	select {
	case e := <-s.C:
		return e
	case <-s.Lagged():
		t.Fatal("lagged")
	case <-time.After(10 * time.Second):
		t.Fatal("no event")
	}
	return events.Event{}
}

// TestTailFanout: live subscriptions each get the new events they select, once, in order, from one
// tail; a subscription that does not keep up is marked lagged (never a silent gap) and gets nothing more.
func TestTailFanout(t *testing.T) {
	db := openStore(t)
	recordJob(t, db, "prn_old") // before every subscription: not live
	bus := events.NewBus(db, nil)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go bus.Run(ctx)

	all, err := bus.Subscribe(ctx, "p1", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	defer all.Close()
	one, _ := bus.Subscribe(ctx, "p1", []string{events.JobStateChanged}, "prn_1")
	defer one.Close()
	none, _ := bus.Subscribe(ctx, "p1", []string{events.KeyRevoked}, "")
	defer none.Close()
	old := events.SubBuffer
	events.SubBuffer = 2
	slow, _ := bus.Subscribe(ctx, "p1", nil, "")
	events.SubBuffer = old
	defer slow.Close()

	recordJob(t, db, "prn_1")
	recordJob(t, db, "prn_2")
	recordJob(t, db, "prn_1")
	a1, a2, a3 := next(t, all), next(t, all), next(t, all)
	if !(a1.ID < a2.ID && a2.ID < a3.ID) || a1.PrinterID != "prn_1" || a2.PrinterID != "prn_2" {
		t.Errorf("all got %d %d %d", a1.ID, a2.ID, a3.ID)
	}
	if o1, o2 := next(t, one), next(t, one); o1.ID != a1.ID || o2.ID != a3.ID {
		t.Errorf("printer filter got %d %d, want %d %d", o1.ID, o2.ID, a1.ID, a3.ID)
	}
	select {
	case <-slow.Lagged():
	case <-time.After(10 * time.Second):
		t.Fatal("a full subscription was not marked lagged")
	}
	if n := len(slow.C); n != 2 {
		t.Errorf("slow holds %d events, want its buffer (2)", n)
	}
	select {
	case e := <-none.C:
		t.Errorf("type filter let %s through", e.Type)
	default:
	}
	one.Close()
	recordJob(t, db, "prn_1")
	if e := next(t, all); e.ID <= a3.ID {
		t.Errorf("after a close: %d", e.ID)
	}
}
