package registry

import (
	"context"
	"errors"
	"strings"
	"testing"

	"printdock/printer"
	"printdock/printer/sim"
)

func TestParseURISettings(t *testing.T) {
	tests := []struct {
		in      string
		id      string
		want    Settings
		wantErr string // a part of the error; "" for none
	}{
		{in: "tcp://10.0.0.5:9100?status=none&lang=epl&dpi=203", id: "tcp://10.0.0.5:9100",
			want: Settings{Language: printer.LangEPL, DPI: 203, StatusMode: printer.StatusNone}},
		{in: "tcp://10.0.0.5?lang=TSPL", id: "tcp://10.0.0.5:9100", want: Settings{Language: printer.LangTSPL}},
		{in: "tcp://10.0.0.5?status=auto", id: "tcp://10.0.0.5:9100", want: Settings{StatusMode: printer.StatusAuto}},
		{in: "tcp://10.0.0.5?", id: "tcp://10.0.0.5:9100"},
		{in: "usb://0a5f:0181/XXQ1?status=zpl&dpi=300", id: "usb://0a5f:0181/XXQ1",
			want: Settings{StatusMode: printer.StatusZPL, DPI: 300}},
		{in: "winspool://TSC%20TE210?lang=tspl", id: "winspool://TSC%20TE210", want: Settings{Language: printer.LangTSPL}},
		{in: "sim://x?dialect=epl", id: "sim://x", want: Settings{Dialect: sim.DialectEPL}},
		{in: "sim://x?dialect=silent&status=none", id: "sim://x",
			want: Settings{Dialect: sim.DialectSilent, StatusMode: printer.StatusNone}},
		{in: "tcp://10.0.0.5?lang=pcl", wantErr: `"tcp://10.0.0.5?lang=pcl": lang=pcl: want one of zpl, epl, tspl, dpl, escpos, unknown`},
		{in: "tcp://10.0.0.5?lang=", wantErr: "lang is empty (want one of zpl, epl"},
		{in: "tcp://10.0.0.5?dpi=2o3", wantErr: `"tcp://10.0.0.5?dpi=2o3": dpi=2o3: want a whole number from 100 to 1200`},
		{in: "tcp://10.0.0.5?dpi=5000", wantErr: "dpi=5000: want a whole number from 100 to 1200"},
		{in: "tcp://10.0.0.5?status=never", wantErr: `"tcp://10.0.0.5?status=never": status=never: want auto, zpl or none`},
		{in: "tcp://10.0.0.5?status=", wantErr: "status=: want auto, zpl or none"},
		{in: "tcp://10.0.0.5?colour=red", wantErr: `unknown option "colour" (want lang, dpi, status)`},
		{in: "tcp://10.0.0.5?dialect=epl", wantErr: `unknown option "dialect" (want lang, dpi, status)`},
		{in: "sim://x?dialect=pcl", wantErr: "dialect=pcl: want zpl, silent, epl or tspl"},
		{in: "tcp://10.0.0.5?dpi=203&dpi=300", wantErr: `option "dpi" given 2 times`},
		{in: "tcp://10.0.0.5?lang=%zz", wantErr: "unreadable query"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			u, err := ParseURI(tt.in)
			if tt.wantErr != "" {
				if !errors.Is(err, ErrBadURI) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want ErrBadURI containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || u.String() != tt.id || u.Settings != tt.want || u.Original != tt.in {
				t.Fatalf("%+v (ID %s), %v; want ID %s, %+v", u, u, err, tt.id, tt.want)
			}
		})
	}
}

func TestDescribeAndOpenApplySettings(t *testing.T) {
	tests := []struct {
		uri  string
		want printer.Info // ID, Language, DPI, StatusMode checked
	}{
		{"tcp://127.0.0.1:9", printer.Info{ID: "tcp://127.0.0.1:9", Language: printer.LangUnknown}},
		{"tcp://127.0.0.1:9?status=none&lang=epl&dpi=203",
			printer.Info{ID: "tcp://127.0.0.1:9", Language: printer.LangEPL, DPI: 203, StatusMode: printer.StatusNone}},
		{"sim://settings-tspl?dialect=tspl&dpi=300",
			printer.Info{ID: "sim://settings-tspl", Language: printer.LangTSPL, DPI: 300}},
		{"sim://settings-silent?dialect=silent&lang=zpl",
			printer.Info{ID: "sim://settings-silent", Language: printer.LangZPL}},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			d, err := Describe(tt.uri)
			if err != nil {
				t.Fatal(err)
			}
			p, err := Open(t.Context(), tt.uri)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			for what, got := range map[string]printer.Info{"Describe": d, "Open": p.Info()} {
				if got.ID != tt.want.ID || got.Language != tt.want.Language || got.DPI != tt.want.DPI ||
					got.StatusMode != tt.want.StatusMode {
					t.Errorf("%s: %+v, want %+v", what, got, tt.want)
				}
			}
		})
	}
	if d := sim.Named("settings-tspl").Dialect(); d != sim.DialectTSPL {
		t.Fatalf("sim dialect %q after Open", d)
	}
}

// TestSettingsKeepIDAndOverlayDiscovery: a configured URI's query does not change the printer's ID,
// reaches Open whole, and stays laid over what discovery reports.
func TestSettingsKeepIDAndOverlayDiscovery(t *testing.T) {
	src := &fakeSource{name: "fake"}
	rec := newRecorder()
	var opened []string
	r := New(Options{Sources: []Source{src}, OnChange: rec.on, Open: func(ctx context.Context, uri string) (printer.Printer, error) {
		opened = append(opened, uri)
		return sim.New("x"), nil
	}})
	defer r.Close()
	src.set(nil, printer.Info{ID: usbA, Name: "TSC TE210", Language: printer.LangTSPL})
	if err := r.Scan(t.Context()); err != nil {
		t.Fatal(err)
	}
	info, err := r.Add(usbA + "?status=none&dpi=203")
	if err != nil {
		t.Fatal(err)
	}
	if info.ID != usbA || info.StatusMode != printer.StatusNone || info.DPI != 203 || info.Language != printer.LangTSPL ||
		info.Name != "TSC TE210" {
		t.Fatalf("Add: %+v", info)
	}
	src.set(nil, printer.Info{ID: usbA, Name: "TSC TE210 (renamed)", Language: printer.LangTSPL})
	if err := r.Scan(t.Context()); err != nil {
		t.Fatal(err)
	}
	got, _ := r.Lookup(usbA)
	if got.Name != "TSC TE210 (renamed)" || got.StatusMode != printer.StatusNone || got.DPI != 203 {
		t.Fatalf("after a scan: %+v", got)
	}
	if got := rec.take(); !sameEvents(got, []Event{ev(Added, usbA), ev(Changed, usbA), ev(Changed, usbA)}) {
		t.Fatalf("events %+v", got)
	}
	if _, err := r.Printer(t.Context(), usbA); err != nil {
		t.Fatal(err)
	}
	if len(opened) != 1 || opened[0] != usbA+"?status=none&dpi=203" {
		t.Fatalf("opened %q, want the configured URI with its query", opened)
	}
	// Configuration removed: the discovered printer stays, without the settings.
	if err := r.Remove(usbA); err != nil {
		t.Fatal(err)
	}
	if err := r.Scan(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got, ok := r.Lookup(usbA); !ok || got.StatusMode != "" || got.DPI != 0 {
		t.Fatalf("after Remove: %+v, %v", got, ok)
	}
}
