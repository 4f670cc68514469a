package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"
)

// Checkpoints off the writer. A checkpoint copies the pages the WAL holds back into the database file and
// fsyncs both; SQLite's automatic checkpoint (every 1000 WAL pages) ran it inside the COMMIT that crossed
// the mark, on the one writer goroutine, which then stalled for the copy and the two fsyncs while every
// InTx call waited. Here the writer's wal_autocheckpoint is 0 and a goroutine with a connection of its own
// (checkpointLoop) runs PASSIVE checkpoints, at most every ckptEvery while the writer commits, concurrently
// with it: the writer goes on appending to the WAL meanwhile (WAL allows one checkpoint beside one writer).
//
// A WAL restarts from its beginning only when a write transaction begins on a WAL whose every frame has
// been copied, which a checkpoint beside a busy writer never leaves (the writer commits while it copies).
// So once the WAL holds walRestartFrames frames or more, the checkpointer asks the writer (db.finish) to
// checkpoint once itself between two groups: that copies only the frames committed since the last
// checkpoint, and the writer's next transaction restarts the WAL. A reader still on an old snapshot at that
// moment can make the restart wait for the next round, as with SQLite's own checkpoints.

// ckptEvery is the least time between two checkpoints of the checkpointer.
const ckptEvery = 100 * time.Millisecond

// walRestartFrames is the WAL size (frames, 16 MiB of 4 KiB pages) from which the writer finishes a
// checkpoint so that the WAL restarts. Each finish costs the writer two fsyncs however few frames it
// copies; at SQLite's default 1000 the writer finished at nearly every round under load.
const walRestartFrames = 4096

// checkpoint runs a PASSIVE checkpoint on c and returns the WAL's size in frames.
func checkpoint(ctx context.Context, c interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (frames int64, err error) {
	var busy, done int64
	if err := c.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &done); err != nil {
		return 0, fmt.Errorf("sqlite: checkpoint: %w", err)
	}
	return frames, nil
}

// committed tells the checkpointer that the writer committed (without blocking the writer).
func (db *DB) committed() {
	select {
	case db.commits <- struct{}{}:
	default:
	}
}

// checkpointLoop is the checkpointer goroutine: after commits, a PASSIVE checkpoint on db.c at most every
// ckptEvery, and the writer's finishing checkpoint once the WAL is long. It returns at Close.
func (db *DB) checkpointLoop() {
	defer close(db.ckptDone)
	ctx := context.Background()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-db.commits:
		case <-db.quit:
			return
		}
		frames, err := checkpoint(ctx, db.c)
		if err != nil {
			slog.Warn("sqlite: background checkpoint failed", "err", err)
		} else if frames >= walRestartFrames {
			select {
			case db.finish <- struct{}{}:
			case <-db.quit:
				return
			}
		}
		t.Reset(ckptEvery)
		select {
		case <-t.C:
		case <-db.quit:
			return
		}
	}
}

// finishCheckpoint is the writer's checkpoint between two groups (see above).
func (db *DB) finishCheckpoint() {
	if _, err := checkpoint(context.Background(), db.w); err != nil {
		slog.Warn("sqlite: checkpoint on the writer failed", "err", err)
	}
}
