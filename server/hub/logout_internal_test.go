package hub

import (
	"testing"
	"time"

	"printdock/protocol"
)

// TestLogoutBatchGate: the gate of a mass logout opens once every session of the batch has written its
// logout, counting a session that was already ending for another reason (it writes none), and not before.
func TestLogoutBatchGate(t *testing.T) {
	b := newLogoutBatch(3, protocol.ReasonRotated, time.Hour)
	if m, err := (closeReq{logout: protocol.ReasonRotated, batch: b}).logoutMessage(); err != nil ||
		string(m) != string(b.msg) || len(m) == 0 {
		t.Fatalf("batch logout message %q %v", m, err)
	}
	ending := &Session{end: ender{killed: make(chan struct{}), cancel: func(error) {}}}
	ending.w.finished = true // no writer to wake
	ending.kill(closeReq{abort: true})
	ending.kill(closeReq{code: protocol.CloseLoggedOut, logout: protocol.ReasonRotated, batch: b}) // counted
	wrote := make(chan struct{})
	go func() {
		closeReq{logout: protocol.ReasonRotated, batch: b}.logoutWritten()
		close(wrote)
	}()
	select {
	case <-b.open:
		t.Fatal("the gate opened with one logout of the batch not written")
	case <-wrote:
		t.Fatal("a session went on to its close before the batch's logouts were written")
	default:
	}
	closeReq{logout: protocol.ReasonRotated, batch: b}.logoutWritten() // the last one: opens the gate
	<-wrote
}
