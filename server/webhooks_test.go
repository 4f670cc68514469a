package server_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"printdock/server"
	"printdock/server/jobs"
	"printdock/server/servertest"
	"printdock/server/webhooks"
)

// Webhooks end to end: a real server (SQLite) records job events, signs and POSTs them to a receiver on
// loopback (--webhooks-allow-private), which verifies every signature.

func fastWebhooks(cfg *server.Config) {
	cfg.WebhooksAllowPrivate = true
	cfg.WebhookSender = webhooks.SenderOptions{Retry: webhooks.Retry{First: 20 * time.Millisecond, Max: 200 * time.Millisecond},
		PollEvery: 20 * time.Millisecond}
}

func createWebhook(t *testing.T, s *servertest.Server, url string, evs ...string) webhooks.Webhook {
	t.Helper()
	var wh webhooks.Webhook
	s.JSON(t, http.MethodPost, "/api/v1/webhooks", s.AdminKey, map[string]any{"url": url, "events": evs,
		"description": "shipping system"}, http.StatusCreated, &wh)
	if len(wh.Secret) < len(webhooks.SecretPrefix)+40 || wh.Secret[:len(webhooks.SecretPrefix)] != webhooks.SecretPrefix {
		t.Fatalf("created webhook's secret %q does not look like whsec_<base64>", wh.Secret)
	}
	return wh
}

func deliveries(t *testing.T, s *servertest.Server, id string) []webhooks.Delivery {
	t.Helper()
	var out struct{ Items []webhooks.Delivery }
	s.JSON(t, http.MethodGet, "/api/v1/webhooks/"+id+"/deliveries?limit=500", s.AdminKey, nil, http.StatusOK, &out)
	return out.Items
}

// printJobs submits n jobs to the agent's printer and has the agent print them (queued, sent, done).
func printJobs(t *testing.T, s *servertest.Server, a *servertest.Agent, printerID string, n int) []string {
	t.Helper()
	var ids []string
	for i := range n {
		j := s.SubmitJob(t, printerID, label(fmt.Sprint("hook ", i)), servertest.JobOptions{})
		expectJobID(t, a, j.ID)
		a.Ack(t, j.ID, "done")
		s.WaitJob(t, j.ID, jobs.Done)
		ids = append(ids, j.ID)
	}
	return ids
}

// TestWebhookReceiverDownAndBack: a receiver that is down for a while gets every event exactly once
// (by webhook-id) after it comes back, each job's events in order; the delivery log shows the failures.
func TestWebhookReceiverDownAndBack(t *testing.T) {
	s := servertest.New(t, servertest.Options{Config: fastWebhooks})
	rcv := newReceiver(t)
	wh := createWebhook(t, s, rcv.URL(), "job.state_changed")
	rcv.setSecret(wh.Secret)
	key := s.CreatePrintClient(t, "warehouse")
	a, printers := connectWith(t, s, key.Secret, servertest.DialOptions{}, servertest.SimPrinter("one"))

	first := printJobs(t, s, a, printers[0], 1)
	servertest.WaitFor(t, "the first job's three events delivered", func() bool {
		ds := deliveries(t, s, wh.ID)
		return len(ds) == 3 && !slices.ContainsFunc(ds, func(d webhooks.Delivery) bool { return d.State != "delivered" })
	})
	rcv.stop()
	later := printJobs(t, s, a, printers[0], 3)
	servertest.WaitFor(t, "failed attempts while the receiver is down", func() bool {
		for _, d := range deliveries(t, s, wh.ID) {
			if d.State == "pending" && d.Attempts >= 2 && d.LastError != "" {
				return true
			}
		}
		return false
	})
	rcv.restart()
	all := append(first, later...)
	servertest.WaitFor(t, "every event delivered", func() bool {
		got, _ := rcv.received()
		return len(got) >= 3*len(all)
	})
	servertest.WaitFor(t, "the delivery log shows every delivery delivered", func() bool {
		for _, d := range deliveries(t, s, wh.ID) {
			if d.State != "delivered" {
				return false
			}
		}
		return true
	})
	got, count := rcv.received()
	for id, n := range count {
		if n != 1 {
			t.Errorf("message %s received %d times", id, n)
		}
	}
	if len(got) != 3*len(all) {
		t.Errorf("received %d events, want %d", len(got), 3*len(all))
	}
	states := jobStates(got)
	for _, id := range all {
		if want := []string{"queued", "sent", "done"}; !slices.Equal(states[id], want) {
			t.Errorf("job %s: events %v, want %v in order", id, states[id], want)
		}
	}
	if rcv.forged != 0 {
		t.Errorf("%d deliveries had a bad signature", rcv.forged)
	}
}
