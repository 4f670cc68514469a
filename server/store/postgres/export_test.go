package postgres

import "context"

// BeatOnce runs one replica heartbeat (refresh and sweep) now.
func BeatOnce(ctx context.Context, db *DB) error { return db.beatOnce(ctx) }

// Crash stops db the way a killed process does: the connections close, but the replica's row and the
// sessions it counts stay behind.
func Crash(db *DB) {
	db.once.Do(func() {
		db.lis.close()
		db.beat.stop()
		db.closePools()
	})
}
