package jobs

// Caps on what agents can register: clients per credential and printers per portal (issue 12: one
// credential registered 20 clients and 5,000 printers by varying installation_id). A refusal is audited
// at most once per credential (clients) or portal (printers) per auditEvery, however often the agent
// retries.
import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"printdock/server/keys"
	"printdock/server/store"
)

const (
	// DefaultMaxClientsPerCredential is how many agent installations one credential (print client
	// secret, shared-secret device, personal API key) may register by default.
	DefaultMaxClientsPerCredential = 10
	// DefaultMaxPrintersPerPortal is how many printers a portal keeps by default (present or not).
	DefaultMaxPrintersPerPortal = 1000
	// auditEvery bounds the audit rows a repeated refusal writes.
	auditEvery = time.Hour
)

// Audit actions of the caps.
const (
	ActionClientRefused  = "client.refused"
	ActionPrinterRefused = "printer.refused"
)

// ErrTooManyClients is ClientConnected's refusal of a new installation when its credential already has
// Options.MaxClientsPerCredential clients (wraps keys.ErrInvalid). Installations already known keep
// connecting.
var ErrTooManyClients = fmt.Errorf("%w: too many clients", keys.ErrInvalid)

// limits returns the effective caps (0 = unlimited).
func (o Options) limits() (clients, printers int) {
	clients, printers = o.MaxClientsPerCredential, o.MaxPrintersPerPortal
	if clients == 0 {
		clients = DefaultMaxClientsPerCredential
	}
	if printers == 0 {
		printers = DefaultMaxPrintersPerPortal
	}
	return max(clients, 0), max(printers, 0)
}

// checkNewClient refuses a client ID the store does not know when the credential is at its cap.
func (s *Service) checkNewClient(ctx context.Context, q store.Store, id, portalID, credentialID string) error {
	limit, _ := s.o.limits()
	if limit == 0 {
		return nil
	}
	if _, err := q.GetClient(ctx, id); err == nil || !errors.Is(err, store.ErrNotFound) {
		return err // known (reconnects are never refused), or a store error
	}
	n, err := q.CountClients(ctx, portalID, credentialID)
	if err != nil {
		return err
	}
	if n >= limit {
		return fmt.Errorf("%w: this credential already has %d agent installations, the server's limit "+
			"(--max-clients-per-key): give this installation a credential of its own, or ask the administrator to raise the limit", ErrTooManyClients, n)
	}
	return nil
}

// printerRoom is how many new printers the portal may still record (-1: unlimited).
func (s *Service) printerRoom(ctx context.Context, q store.Store, portalID string) (int, error) {
	_, limit := s.o.limits()
	if limit == 0 {
		return -1, nil
	}
	n, err := q.CountPrinters(ctx, portalID)
	if err != nil {
		return 0, err
	}
	return max(limit-n, 0), nil
}

// auditOnce records a refusal in the audit log unless the same refusal (key) was recorded within
// auditEvery. Failing to record it only logs: the refusal stands.
func (s *Service) auditOnce(ctx context.Context, key string, e store.AuditEntry) {
	now := s.now()
	s.capMu.Lock()
	if last, ok := s.capAudited[key]; ok && now.Sub(last) < auditEvery {
		s.capMu.Unlock()
		return
	}
	if s.capAudited == nil || len(s.capAudited) > 10_000 {
		s.capAudited = map[string]time.Time{}
	}
	s.capAudited[key] = now
	s.capMu.Unlock()
	e.At = now
	err := s.st.InTx(context.WithoutCancel(ctx), func(q store.Store) error {
		_, err := q.AppendAudit(ctx, e)
		return err
	})
	if err != nil {
		s.log.WarnContext(ctx, "audit a refusal", "action", e.Action, "err", err)
	}
}

// capState is the Service's memory of audited refusals.
type capState struct {
	capMu      sync.Mutex
	capAudited map[string]time.Time
}
