package agent

import (
	"log/slog"
	"strings"
	"testing"

	"printdock/internal/testenv"
)

type fakeEventLog struct{ lines []string }

func (f *fakeEventLog) Error(v ...any) error   { f.add("E", v); return nil }
func (f *fakeEventLog) Warning(v ...any) error { f.add("W", v); return nil }
func (f *fakeEventLog) Info(v ...any) error    { f.add("I", v); return nil }
func (f *fakeEventLog) add(l string, v []any) {
	for _, x := range v {
		f.lines = append(f.lines, l+" "+x.(string))
	}
}

func TestEventLog(t *testing.T) {
	ev := &fakeEventLog{}
	h := &ringHandler{next: slog.NewTextHandler(&testenv.SyncBuffer{}, nil), ring: newLogRing(8), ev: ev}
	log := slog.New(h).With("component", "x")
	log.Info("agent: started", "version", "1.2.3")
	log.Info("agent: printer added", "printer", "tcp://a:9100") // not important
	log.Warn("agent: disconnected; reconnecting", "error", "refused")
	log.Error("agent: failed", "error", "boom")
	want := []string{
		`I agent: started component="x" version="1.2.3"`,
		`W agent: disconnected; reconnecting component="x" error="refused"`,
		`E agent: failed component="x" error="boom"`,
	}
	if strings.Join(ev.lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("event log:\n%s\nwant:\n%s", strings.Join(ev.lines, "\n"), strings.Join(want, "\n"))
	}
}
