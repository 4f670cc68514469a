package server_test

import (
	"fmt"
	"sync"
	"testing"

	"printdock/server/servertest"
)

// TestReplicaWebhooksOnce: two replicas on one PostgreSQL database both run the webhook sender; every
// delivery is sent once (each webhook-id received exactly once), though both claim from the same outbox,
// and each job's events arrive in order.
func TestReplicaWebhooksOnce(t *testing.T) {
	c := newCluster(t, fastWebhooks)
	b := c.replica(t, fastWebhooks)
	rcv := newReceiver(t)
	wh := createWebhook(t, c.A, rcv.URL())
	rcv.setSecret(wh.Secret)
	key := c.A.CreatePrintClient(t, "warehouse")
	a, printers := connectWith(t, c.A, key.Secret, servertest.DialOptions{}, servertest.SimPrinter("one"))

	// Jobs submitted through both replicas at once; the agent prints them.
	const n = 30
	var wg sync.WaitGroup
	ids := make(chan string, n)
	for i := range n {
		s := c.A
		if i%2 == 1 {
			s = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			j, _, err := s.TrySubmitJob(t.Context(), printers[0], label(fmt.Sprint("replica ", i)), servertest.JobOptions{})
			if err != nil {
				t.Errorf("submit: %v", err)
				return
			}
			ids <- j.ID
		}()
	}
	wg.Wait()
	close(ids)
	for range n {
		m := a.ExpectJob(t)
		a.Ack(t, m.JobID, "done")
	}
	for id := range ids {
		c.A.WaitJob(t, id, "done")
	}
	servertest.WaitFor(t, "every delivery delivered", func() bool {
		ds := deliveries(t, c.A, wh.ID)
		for _, d := range ds {
			if d.State != "delivered" {
				return false
			}
		}
		got, _ := rcv.received()
		return len(ds) > 0 && len(got) >= len(ds)
	})
	ds := deliveries(t, c.A, wh.ID)
	got, count := rcv.received()
	for _, d := range ds {
		if count[d.MessageID] != 1 {
			t.Errorf("%s (delivery %d) received %d times", d.MessageID, d.ID, count[d.MessageID])
		}
	}
	if len(got) != len(ds) {
		t.Errorf("received %d messages for %d deliveries", len(got), len(ds))
	}
	for id, states := range jobStates(got) {
		if want := []string{"queued", "sent", "done"}; fmt.Sprint(states) != fmt.Sprint(want) {
			t.Errorf("job %s: events %v, want %v", id, states, want)
		}
	}
	if len(jobStates(got)) != n {
		t.Errorf("events of %d jobs, want %d", len(jobStates(got)), n)
	}
}
