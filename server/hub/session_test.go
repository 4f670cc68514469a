package hub_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"printdock/internal/testenv"
	"printdock/protocol"
	"printdock/server/hub"
	"printdock/server/jobs"
	"printdock/server/keys"
)

// ctxJobs records the context of the job queue's printers updates.
type ctxJobs struct {
	*jobs.Service
	mu  sync.Mutex
	ctx context.Context
}

func (c *ctxJobs) UpdatePrinters(ctx context.Context, clientID string, ps []protocol.Printer) error {
	c.mu.Lock()
	c.ctx = ctx
	c.mu.Unlock()
	return c.Service.UpdatePrinters(ctx, clientID, ps)
}

func (c *ctxJobs) last() context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ctx
}

// TestSessionContextCause: the store calls made for a session run on the session context, which is
// cancelled when the session is logged out, with a cause that says so.
func TestSessionContextCause(t *testing.T) {
	var cj *ctxJobs
	e := newEnv(t, hub.Options{}, func(js *jobs.Service) hub.Jobs {
		cj = &ctxJobs{Service: js}
		return cj
	})
	c, w := e.connect(t)
	send(t, c, protocol.Printers{Printers: []protocol.Printer{{ID: "sim://p", Name: "p", Status: "ready"}}})
	testenv.WaitFor(t, "the printers recorded", func() bool { return cj.last() != nil })
	ctx := cj.last()
	if ctx.Err() != nil {
		t.Fatalf("session context ended while the session lives: %v", context.Cause(ctx))
	}
	if n := e.hub.Apply(keys.Event{CredentialIDs: []string{w.KeyID}, Reason: protocol.ReasonRevoked}); n != 1 {
		t.Fatalf("Apply logged out %d sessions", n)
	}
	select {
	case <-ctx.Done():
	case <-ctx10(t).Done():
		t.Fatal("the session context was not cancelled by the logout")
	}
	cause := context.Cause(ctx)
	if !errors.Is(cause, hub.ErrSessionClosed) || !strings.Contains(cause.Error(), protocol.ReasonRevoked) {
		t.Fatalf("cause %v, want a session closed by the revoked logout", cause)
	}
	if m, err := read(ctx10(t), c); err != nil || m.(protocol.Logout).Reason != protocol.ReasonRevoked {
		t.Fatalf("after Apply: %#v %v, want logout", m, err)
	}
}
