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
	path := filepath.Join(t.TempDir(), "printdock.db")
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.CreatePortal(t.Context(), store.Portal{ID: "p1", Name: "p1", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	append1 := func(subject string) error {
		return db.InTx(t.Context(), func(tx store.Store) error {
			_, err := tx.AppendEvent(context.Background(), store.Event{PortalID: "p1", Type: "x", At: time.Now(),
				Subject: subject, Data: `{}`})
			return err
		})
	}
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
				if err := append1(fmt.Sprint(g, "/", i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	testenv.WaitFor(t, "two WAL restarts under a stream of commits", func() bool { return restarts()-first >= 2 })
	close(stop)
	wg.Wait()
}
