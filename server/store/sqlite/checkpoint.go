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
//
// Every InTx call waits while the writer finishes, so the checkpointer first leaves it as little to do as
// it can (catchUp): it checkpoints again while more than catchUpFrames frames are left (at most
// catchUpRounds times; each round copies what the writer committed during the one before, so the rest
// shrinks fast), and then fsyncs the database file and the WAL itself. A PASSIVE checkpoint beside a
// busy writer copies pages into the database file without syncing it (SQLite syncs the file only when
// a checkpoint reaches the WAL's end), so without that fsync the writer's own would flush every page
// copied since the last restart, megabytes under load. Measured at 1,000 jobs/s on the 2-core bench
// machine: the writer's pause per restart went from 6–8 ms to 2–3.3 ms (docs/jobs.md).

// ckptEvery is the least time between two checkpoints of the checkpointer.
const ckptEvery = 100 * time.Millisecond

// walRestartFrames is the WAL size (frames, 16 MiB of 4 KiB pages) from which the writer finishes a
// checkpoint so that the WAL restarts. Each finish costs the writer two fsyncs however few frames it
// copies; at SQLite's default 1000 the writer finished at nearly every round under load.
const walRestartFrames = 4096

// catchUpFrames and catchUpRounds bound catchUp: the frames it may leave to the writer, and the extra
// checkpoints it runs to get there.
const (
	catchUpFrames = 64
	catchUpRounds = 2
)

// checkpoint runs a PASSIVE checkpoint on c and returns the WAL's size in frames and how many of them
// have been copied into the database file.
func checkpoint(ctx context.Context, c interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (frames, copied int64, err error) {
	var busy int64
	if err := c.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied); err != nil {
		return 0, 0, fmt.Errorf("sqlite: checkpoint: %w", err)
	}
	return frames, copied, nil
}

// catchUp prepares the writer's finishing checkpoint (see above): after a checkpoint on c (the
// checkpointer's connection) that left frames, of which copied are in the database file, it checkpoints
// again while more than catchUpFrames are left, then fsyncs the database file and the WAL.
func (db *DB) catchUp(ctx context.Context, c interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, frames, copied int64) error {
	for range catchUpRounds {
		if frames-copied <= catchUpFrames {
			break
		}
		var err error
		if frames, copied, err = checkpoint(ctx, c); err != nil {
			return err
		}
	}
	for _, p := range []string{db.path, db.path + "-wal"} {
		if err := syncFile(p); err != nil { // fsync writes out the file's dirty pages, whoever wrote them
			return err
		}
	}
	return nil
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
		frames, copied, err := checkpoint(ctx, db.c)
		if err == nil && frames >= walRestartFrames {
			err = db.catchUp(ctx, db.c, frames, copied)
		}
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
// It counts in Stats how often and how long the writer paused for it.
func (db *DB) finishCheckpoint() {
	start := time.Now()
	if _, _, err := checkpoint(context.Background(), db.w); err != nil {
		slog.Warn("sqlite: checkpoint on the writer failed", "err", err)
	}
	db.finishes.Add(1)
	db.finishNanos.Add(int64(time.Since(start)))
}
