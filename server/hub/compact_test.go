package hub

import (
	"reflect"
	"testing"

	"printdock/protocol"
)

func TestCompact(t *testing.T) {
	hellos := []protocol.Hello{
		{},
		{Type: protocol.TypeHello, ProtocolVersion: 1, AgentVersion: "1.2.3", Hostname: "host-ä", OS: "linux",
			InstallationID: "inst-1", Features: []string{protocol.FeatureCancel, "x"}},
		{Hostname: "only"},
	}
	for _, h := range hellos {
		if got := compactHello(h); !reflect.DeepEqual(got, h) {
			t.Errorf("compactHello(%+v) = %+v", h, got)
		}
	}
	for _, ps := range [][]protocol.Printer{
		{{ID: "sim://a", Name: "A", Status: "ready", Language: "zpl", DPI: 203, StatusMode: "auto"}},
		{{ID: "usb://1/2/3", Name: "B", Make: "Zebra", Model: "ZD421", Status: "media_out", Reason: "out of labels"}, {}},
	} {
		got := compactPrinters(ps)
		if !reflect.DeepEqual(got, ps) {
			t.Errorf("compactPrinters(%+v) = %+v", ps, got)
		}
		got[0].Name = "changed"
		if ps[0].Name == "changed" {
			t.Error("compactPrinters shares the caller's array")
		}
	}
	if got := compactPrinters([]protocol.Printer{}); got != nil {
		t.Errorf("compactPrinters(empty) = %#v, want nil", got)
	}
}
