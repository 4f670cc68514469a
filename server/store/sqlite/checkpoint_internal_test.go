package sqlite

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"printdock/internal/testenv"
	"printdock/server/store"
)

// The writer does not checkpoint by itself (checkpoint.go): under a stream of commits the checkpointer and
// the writer's finishing checkpoints must still restart the WAL, or it would grow without end.
func TestWALRestartsUnderLoad(t *testing.T) {
	db, path := openWithPortal(t)
	// The WAL header's checkpoint sequence number (bytes 12–15, big-endian) grows at every restart.
	restarts := func() uint32 {
		b := make([]byte, 16)
		f, err := os.Open(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := io.ReadFull(f, b); err != nil {
			t.Fatal(err)
		}
		return binary.BigEndian.Uint32(b[12:])
	}
	first := restarts()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := appendEvent(t, db, fmt.Sprint(g, "/", i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	testenv.WaitFor(t, "two WAL restarts under a stream of commits", func() bool { return restarts()-first >= 2 })
	close(stop)
	wg.Wait()
	// The writer's pauses are counted (the printdock_sqlite_wal_restart* metrics).
	if st := db.Stats(); st.WALRestarts < 2 || st.WALRestartTime <= 0 {
		t.Fatalf("after two restarts: %d finishing checkpoints counted, %v", st.WALRestarts, st.WALRestartTime)
	}
}

// catchUp leaves the writer's finishing checkpoint nothing more than catchUpFrames to copy: here, with
// no other writer, it copies the whole WAL, which the checkpointer had left uncopied.
func TestCatchUpCopiesWhatIsLeft(t *testing.T) {
	db, path := openWithPortal(t)
	// Holding the checkpointer's one connection keeps the background checkpoints from running.
	c, err := db.c.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range 200 {
		if err := appendEvent(t, db, fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	// The WAL index (the -shm file): the WAL's last frame at byte 16 of its header, and how many frames are
	// in the database file at byte 96 (nBackfill), both in the machine's byte order.
	walIndex := func() (frames, copied int64) {
		b, err := os.ReadFile(path + "-shm")
		if err != nil {
			t.Fatal(err)
		}
		return int64(binary.NativeEndian.Uint32(b[16:])), int64(binary.NativeEndian.Uint32(b[96:]))
	}
	frames, copied := walIndex()
	if frames-copied <= catchUpFrames {
		t.Fatalf("before: %d of %d frames copied; the test needs more left", copied, frames)
	}
	if err := db.catchUp(t.Context(), c, frames, copied); err != nil {
		t.Fatal(err)
	}
	if f, cp := walIndex(); f != frames || cp != frames {
		t.Fatalf("after catchUp: %d of %d frames copied (before: %d of %d)", cp, f, copied, frames)
	}
}

// openWithPortal opens a store in a temporary directory (closed at the test's end) holding portal p1, and
// returns it with its file's path.
func openWithPortal(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "printdock.db")
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.CreatePortal(t.Context(), store.Portal{ID: "p1", Name: "p1", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return db, path
}

// appendEvent commits one event of portal p1 about subject, in a write transaction of its own.
func appendEvent(t *testing.T, db *DB, subject string) error {
	return db.InTx(t.Context(), func(tx store.Store) error {
		_, err := tx.AppendEvent(context.Background(), store.Event{PortalID: "p1", Type: "x", At: time.Now(),
			Subject: subject, Data: `{}`})
		return err
	})
}
