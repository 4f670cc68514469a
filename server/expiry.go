package server

import (
	"context"
	"log/slog"
	"time"

	"printdock/server/keys"
	"printdock/server/store"
)

// expiryTask is the name under which replicas take turns running the key expiry sweep.
const expiryTask = "key-expiry"

// runExpiry runs the key expiry sweep (keys.Service.RunExpiry) until ctx ends, on one replica at a time:
// on a store shared by replicas (store.Exclusive) the replica holding the task's lock runs the sweep
// loop and the others try to take over every minute, so each key.expiring event is recorded once, not
// once per replica. The sweep's logouts reach the agents of every replica (channel "keys"). A window
// of up to a minute after the sweeping replica dies is not swept: keys that expire in it fail
// authentication all the same, and their live sessions end at the next revalidation.
func runExpiry(ctx context.Context, db store.Store, k *keys.Service, log *slog.Logger) {
	ex, ok := db.(store.Exclusive)
	if !ok {
		k.RunExpiry(ctx, time.Minute)
		return
	}
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		_, err := ex.RunExclusive(ctx, expiryTask, func(ctx context.Context) error {
			k.RunExpiry(ctx, time.Minute)
			return nil
		})
		if err != nil && ctx.Err() == nil {
			log.Warn("key expiry: take the sweep", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
