package server_test

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"printdock/server/servertest"
)

// sseEvent is one event of the stream.
type sseEvent struct{ ID, Type, Data string }

// openStream opens GET /api/v1/events?query with Last-Event-ID lastID ("" for none).
func openStream(t *testing.T, s *servertest.Server, bearer, query, lastID string) (*bufio.Reader, func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/api/v1/events?"+query, nil)
	req.Header.Set("Authorization", "Bearer "+bearer)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		cancel()
		t.Fatalf("event stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return bufio.NewReader(resp.Body), func() { cancel(); resp.Body.Close() }
}

// nextEvent reads the next event, skipping comments (heartbeats) and the retry field.
func nextEvent(t *testing.T, br *bufio.Reader) sseEvent {
	t.Helper()
	var e sseEvent
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("event stream: %v", err)
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if e.ID != "" {
				return e
			}
		case strings.HasPrefix(line, "id: "):
			e.ID = line[4:]
		case strings.HasPrefix(line, "event: "):
			e.Type = line[7:]
		case strings.HasPrefix(line, "data: "):
			e.Data = line[6:]
		}
	}
}

// TestEventStreamResume: the stream sends the durable log's events; a client that reconnects with
// Last-Event-ID gets exactly the events after it, then new ones live; filters by type and printer.
func TestEventStreamResume(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	key := s.CreatePrintClient(t, "warehouse")
	a, printers := connectWith(t, s, key.Secret, servertest.DialOptions{}, servertest.SimPrinter("one"))
	ids := printJobs(t, s, a, printers[0], 2)

	br, stop := openStream(t, s, s.AdminKey, "types=job.state_changed", "0")
	var first []sseEvent
	for range 6 {
		first = append(first, nextEvent(t, br))
	}
	stop()
	for i, e := range first {
		if e.Type != "job.state_changed" || !strings.Contains(e.Data, `"job_id":"`+ids[i/3]+`"`) {
			t.Errorf("event %d: %+v", i, e)
		}
	}
	if !strings.Contains(first[0].Data, `"to":"queued"`) || !strings.Contains(first[2].Data, `"to":"done"`) {
		t.Errorf("first job's events: %+v", first[:3])
	}

	// Resume after the third event: the second job's three events, then a new job's first event live.
	br, stop = openStream(t, s, s.AdminKey, "types=job.state_changed&printer="+printers[0], first[2].ID)
	defer stop()
	for i := 3; i < 6; i++ {
		if e := nextEvent(t, br); e != first[i] {
			t.Errorf("resumed event %+v, want %+v", e, first[i])
		}
	}
	j := s.SubmitJob(t, printers[0], label("live"), servertest.JobOptions{})
	if e := nextEvent(t, br); !strings.Contains(e.Data, j.ID) || !strings.Contains(e.Data, `"to":"queued"`) {
		t.Errorf("live event %+v, want job %s queued", e, j.ID)
	}

	// Another printer's filter sees none of these; a member cannot ask for key events.
	if code, _ := s.Do(t, http.MethodGet, "/api/v1/events?types=nope", s.AdminKey, nil); code != http.StatusBadRequest {
		t.Errorf("unknown type: %d, want 400", code)
	}
	u := s.CreateUser(t, "member@example.com", "user")
	if code, _ := s.Do(t, http.MethodGet, "/api/v1/events?types=key.rotated", u.APIKey, nil); code != http.StatusBadRequest {
		t.Errorf("member asking for key events: %d, want 400", code)
	}
}
