package postgres

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Replicas and per-replica presence (migration 003). Every DB is one replica: Open registers it in table
// replicas under a random ID, a heartbeat refreshes its seen_at every ReplicaHeartbeat (the database's
// clock, so the replicas' clocks do not matter), and Close removes it. ConnectClient and DisconnectClient
// count an agent's live sessions per replica in client_presence as well as in clients.sessions (what
// "online" reads). A replica not seen for ReplicaTTL is gone (crashed, killed, partitioned): the next
// heartbeat of any replica deletes its presence rows and subtracts them from clients.sessions. So one
// replica starting (ResetClientSessions) never marks agents of the others offline, and a crashed
// replica's agents stop looking online after at most ReplicaTTL + ReplicaHeartbeat.

const (
	// ReplicaHeartbeat is how often a replica refreshes its row and sweeps replicas that are gone.
	ReplicaHeartbeat = 10 * time.Second
	// ReplicaTTL is how long a replica may go unseen before the others forget its agents' sessions.
	ReplicaTTL = 45 * time.Second
)

var replicaIDEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func newReplicaID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "rep_" + replicaIDEncoding.EncodeToString(b[:])
}

// ReplicaID returns this store's replica ID: random, unique per Open, registered in table replicas. Callers
// may use it to recognise their own notifications.
func (db *DB) ReplicaID() string { return db.replica }

func replicaInfo() string {
	host, _ := os.Hostname()
	return strings.TrimSpace(fmt.Sprintf("%s pid %d", host, os.Getpid()))
}

// register inserts this replica's row.
func (db *DB) register(ctx context.Context) error {
	_, err := db.exec(ctx, "register replica", `INSERT INTO replicas (id, info, started_at, seen_at)
		VALUES ($1, $2, now(), now())`, db.replica, replicaInfo())
	return err
}

// sweepGone deletes the presence rows of replicas not seen for ttl (or not registered at all) and
// subtracts their sessions from clients.sessions, then deletes those replicas' rows. It returns how many
// clients it changed.
const sweepGone = `WITH gone AS (
		DELETE FROM client_presence p
		WHERE NOT EXISTS (SELECT 1 FROM replicas r WHERE r.id = p.replica_id AND r.seen_at >= now() - make_interval(secs => $1))
		RETURNING p.client_id, p.sessions
	), sums AS (
		SELECT client_id, SUM(sessions) AS n FROM gone GROUP BY client_id
	)
	UPDATE clients c SET sessions = GREATEST(c.sessions - sums.n, 0),
		last_seen_at = ` + goneSeen + `
	FROM sums WHERE c.id = sums.client_id AND sums.n > 0`

// goneSeen is the last_seen_at of a client c whose sums.n sessions a gone replica held: now (the
// disconnect as noticed; printer alerts count an offline agent's printers from it) when none is left.
const goneSeen = `CASE WHEN c.sessions - sums.n <= 0 THEN GREATEST(c.last_seen_at, now()) ELSE c.last_seen_at END`

// beatOnce refreshes this replica's row and sweeps the replicas that are gone, in one READ COMMITTED
// transaction (a bookkeeping sweep over every presence row would otherwise take SERIALIZABLE predicate
// locks that make agents' connects retry).
func (db *DB) beatOnce(ctx context.Context) error {
	err := db.run(ctx, func(c querier) error {
		pc, ok := c.(*pconn)
		if !ok {
			return fmt.Errorf("heartbeat: unexpected connection %T", c)
		}
		return pgx.BeginTxFunc(ctx, pc.Conn, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO replicas (id, info, started_at, seen_at) VALUES ($1, $2, now(), now())
				ON CONFLICT (id) DO UPDATE SET seen_at = now()`, db.replica, replicaInfo()); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, sweepGone, ReplicaTTL.Seconds()); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `DELETE FROM replicas WHERE seen_at < now() - make_interval(secs => $1) AND id <> $2`,
				ReplicaTTL.Seconds(), db.replica)
			return err
		})
	})
	return mapErr("replica heartbeat", err)
}

// unregister removes this replica's presence (subtracting it from clients.sessions) and its row. It is
// best effort: if it fails, the other replicas sweep the rows after ReplicaTTL.
func (db *DB) unregister() {
	ctx, cancel := context.WithTimeout(context.Background(), closeWait)
	defer cancel()
	_, _ = db.exec(ctx, "unregister replica", `WITH gone AS (
			DELETE FROM client_presence WHERE replica_id = $1 RETURNING client_id, sessions
		), sums AS (
			SELECT client_id, SUM(sessions) AS n FROM gone GROUP BY client_id
		)
		UPDATE clients c SET sessions = GREATEST(c.sessions - sums.n, 0), last_seen_at = `+goneSeen+`
		FROM sums WHERE c.id = sums.client_id AND sums.n > 0`, db.replica)
	_, _ = db.exec(ctx, "unregister replica", `DELETE FROM replicas WHERE id = $1`, db.replica)
}

// heartbeat runs beatOnce every ReplicaHeartbeat until stopped.
type heartbeat struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

func (db *DB) startHeartbeat() *heartbeat {
	ctx, cancel := context.WithCancel(context.Background())
	h := &heartbeat{cancel: cancel}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		t := time.NewTicker(ReplicaHeartbeat)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				// A failure (database unreachable) is retried on the next tick; if it lasts longer than
				// ReplicaTTL the other replicas forget this one's agents until they reconnect.
				_ = db.beatOnce(ctx)
			}
		}
	}()
	return h
}

func (h *heartbeat) stop() {
	if h == nil {
		return
	}
	h.once.Do(func() {
		h.cancel()
		h.wg.Wait()
	})
}

// EnsureSetting stores value under name unless a value is stored there already, and returns the stored
// value: replicas use it to agree on something once (the first writer wins), e.g. a fingerprint of the
// pepper.
func (db *DB) EnsureSetting(ctx context.Context, name, value string) (string, error) {
	if _, err := db.exec(ctx, "ensure setting", `INSERT INTO settings (name, value) VALUES ($1, $2)
		ON CONFLICT (name) DO NOTHING`, name, value); err != nil {
		return "", err
	}
	var got string
	err := db.row(ctx, "ensure setting", `SELECT value FROM settings WHERE name = $1`,
		func(sc scanner) error { return sc.Scan(&got) }, name)
	return got, err
}
