package jobs

import (
	"errors"
	"fmt"
	"testing"

	"printdock/protocol"
	"printdock/server/store"
)

// TestPrintersPerClientCap: an agent reporting ever new URIs cannot grow its client's printers beyond
// MaxPrintersPerClient; known printers keep being updated, and other clients are not affected.
func TestPrintersPerClientCap(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	client, _ := e.agent("p1", "key1", "inst1")
	list := func(prefix string, n int) []protocol.Printer {
		ps := make([]protocol.Printer, n)
		for i := range ps {
			ps[i] = protocol.Printer{ID: fmt.Sprintf("%s://%d", prefix, i), Name: "p", Status: "ready"}
		}
		return ps
	}
	count := func(clientID string) int {
		t.Helper()
		ps, err := e.st.ListPrinters(ctx, store.PrinterFilter{PortalID: "p1", ClientID: clientID})
		e.must(err)
		return len(ps)
	}
	err := e.svc.UpdatePrinters(ctx, client, list("sim", MaxPrintersPerClient+44))
	if !errors.Is(err, ErrTooManyPrinters) || !errors.Is(err, ErrInvalid) {
		t.Fatalf("first oversized list: %v, want ErrTooManyPrinters", err)
	}
	if n := count(client); n != MaxPrintersPerClient {
		t.Fatalf("printers after the first list = %d, want %d", n, MaxPrintersPerClient)
	}
	// Entirely new URIs: none fits any more.
	if err := e.svc.UpdatePrinters(ctx, client, list("tcp", 300)); !errors.Is(err, ErrTooManyPrinters) {
		t.Fatalf("second list: %v, want ErrTooManyPrinters", err)
	}
	if n := count(client); n != MaxPrintersPerClient {
		t.Fatalf("printers after new URIs = %d, want %d", n, MaxPrintersPerClient)
	}
	// Known printers are still updated, without an error.
	known := list("sim", 3)
	known[0].Status = "media_out"
	e.must(e.svc.UpdatePrinters(ctx, client, known))
	p, err := e.svc.GetPrinter(ctx, "p1", PrinterID("p1", client, "sim://0"))
	if err != nil || p.Status != "media_out" || !p.Present {
		t.Fatalf("known printer after update = %+v, %v", p, err)
	}
	// Another client has its own allowance.
	other, _ := e.agent("p1", "key1", "inst2", "usb://a")
	if n := count(other); n != 1 {
		t.Fatalf("other client printers = %d", n)
	}
}
