package gadget

import (
	"errors"
	"os"
	"testing"
	"time"
)

// TestProfileTSC: as the TSC profile the printer re-plugs with the TSPL identity, keeps every byte it
// gets (a ~HS included) and never answers.
func TestProfileTSC(t *testing.T) {
	ctx := t.Context()
	_, port, c := startPrinter(t)
	_ = hostEnd(t, port)
	if _, err := c.WaitFor(ctx, func(s State) bool { return s.Plugged }); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetProfile(ctx, "nope"); err == nil {
		t.Fatal("unknown profile accepted")
	}
	done := make(chan error, 1)
	go func() { _, err := c.SetProfile(ctx, "tsc"); done <- err }()
	host := hostEnd(t, port) // plugged in again
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	port.mu.Lock()
	id := port.id
	port.mu.Unlock()
	if id != TSC {
		t.Fatalf("identity %+v, want TSC", id)
	}
	job := "SIZE 100 mm, 150 mm\r\nCLS\r\n~HS\r\nPRINT 1,1\r\n"
	if _, err := host.Write([]byte(job[:25])); err != nil {
		t.Fatal(err)
	}
	if _, err := host.Write([]byte(job[25:])); err != nil {
		t.Fatal(err)
	}
	s, err := c.WaitFor(ctx, func(s State) bool { return s.Received == int64(len(job)) })
	if err != nil || s.HSIgnored != 1 || s.HSAnswered != 0 {
		t.Fatalf("state %+v, %v", s, err)
	}
	_ = host.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, err := host.Read(make([]byte, 64)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read %d bytes, %v; want silence", n, err)
	}
	if data, err := c.Take(ctx); err != nil || string(data) != job {
		t.Fatalf("take = %q, %v; want the job byte-exact", data, err)
	}
}
