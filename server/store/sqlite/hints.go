package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
)

// hints are what this process knows of the database without asking it. SQLite is written by this
// process alone (the single writer), so a fact set at Open stays true until the store itself changes it.
type hints struct {
	// noWebhooks: no webhook is enabled, so no delivery can be claimed (sqlq.DueDeliveries takes enabled
	// webhooks only). Set at Open when none is; cleared, for good, by any webhook write (even one that
	// is rolled back or disables it).
	noWebhooks atomic.Bool
}

func (h *hints) load(ctx context.Context, w *sql.DB) error {
	var n int
	if err := w.QueryRowContext(ctx, `SELECT COUNT(*) FROM webhooks WHERE enabled <> 0`).Scan(&n); err != nil {
		return fmt.Errorf("sqlite: open: count webhooks: %w", err)
	}
	h.noWebhooks.Store(n == 0)
	return nil
}
