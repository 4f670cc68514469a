package hub

import (
	"sync"
	"sync/atomic"
	"time"

	"printdock/protocol"
)

// logoutBatch lets the sessions of one mass logout (Apply with thousands of sessions: a shared-secret
// reset) write every `logout` message before any of them starts its close handshake and the session's
// teardown (the job queue's disconnect, a store transaction each): the last device learns it is logged
// out after the logout writes alone, not after thousands of handshakes and transactions competing for
// the CPU. Each session's own order is unchanged: its logout, then its close. The gate opens at the
// latest after one write timeout (Options.WriteTimeout: a peer that does not read holds its own logout
// write that long), so no close waits longer than it would behind its own logout.
type logoutBatch struct {
	msg     []byte // the encoded logout, shared by the batch
	written sync.WaitGroup
	open    chan struct{} // closed when every logout is written, or after gateMax
	n       int
	next    atomic.Int64 // the sessions past the gate so far
}

// closeSpread is how long after its gate opens a mass logout's close handshakes are spread over (the
// i-th of n waits i/n of it): thousands at once would compete for the CPU with the peers still reading
// their logout. A session is out of the index and its slot free since the logout; only its connection
// and memory wait.
const closeSpread = time.Second

// newLogoutBatch returns the gate of n sessions logged out for reason, open at the latest after gateMax;
// its logout message is encoded once for all of them.
func newLogoutBatch(n int, reason string, gateMax time.Duration) *logoutBatch {
	b := &logoutBatch{open: make(chan struct{}), n: n}
	b.msg, _ = protocol.Encode(protocol.Logout{Reason: reason}) // nil on error: each writer encodes its own
	b.written.Add(n)
	go func() {
		done := make(chan struct{})
		go func() { b.written.Wait(); close(done) }()
		t := time.NewTimer(gateMax)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
		}
		close(b.open)
	}()
	return b
}

// logoutMessage is the encoded logout of r.
func (r closeReq) logoutMessage() ([]byte, error) {
	if r.batch != nil && r.batch.msg != nil {
		return r.batch.msg, nil
	}
	return protocol.Encode(protocol.Logout{Reason: r.logout})
}

// logoutWritten tells r's batch that this session's logout was written (or failed), and waits until the
// batch's gate opens and then this session's turn in the spread of the closes.
func (r closeReq) logoutWritten() {
	if r.batch == nil {
		return
	}
	r.batch.written.Done()
	<-r.batch.open
	if d := time.Duration(r.batch.next.Add(1)-1) * closeSpread / time.Duration(r.batch.n); d > 0 {
		t := time.NewTimer(d)
		<-t.C
	}
}
