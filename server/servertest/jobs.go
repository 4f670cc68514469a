package servertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"printdock/protocol"
	"printdock/server/jobs"
)

// Print jobs: REST helpers for submitting and reading jobs and printers, and the fake agent's side of
// delivery (job messages in, job_status out).

// JobOptions are the optional parts of a job submission.
type JobOptions struct {
	Title            string
	Copies           int // 0: the server's default (1)
	IdempotencyKey   string
	ExpiresInSeconds int64
	ExpiresAt        time.Time // sent as expires_at when set
	ContentType      string    // "" sends "raw"
	Bearer           string    // default the administrator's API key
	// Want is the expected status; 0 accepts 201 (created) and 200 (an idempotent repeat).
	Want int
}

// JobRequest is the JSON body SubmitJob posts.
func JobRequest(content []byte, o JobOptions) map[string]any {
	ct := o.ContentType
	if ct == "" {
		ct = jobs.ContentRaw
	}
	req := map[string]any{"content_type": ct, "content_base64": content, "title": o.Title}
	if o.Copies != 0 {
		req["copies"] = o.Copies
	}
	if o.IdempotencyKey != "" {
		req["idempotency_key"] = o.IdempotencyKey
	}
	if o.ExpiresInSeconds != 0 {
		req["expires_in_seconds"] = o.ExpiresInSeconds
	}
	if !o.ExpiresAt.IsZero() {
		req["expires_at"] = o.ExpiresAt.Format(time.RFC3339Nano)
	}
	return req
}

// SubmitJob posts a job for printerID (POST /api/v1/printers/{printer_id}/jobs) and returns the job the
// server answered. It fails the test on another status than o.Want (201 or 200 when 0).
func (s *Server) SubmitJob(t testing.TB, printerID string, content []byte, o JobOptions) jobs.Job {
	t.Helper()
	j, code, err := s.TrySubmitJob(context.Background(), printerID, content, o)
	if err != nil {
		t.Fatalf("servertest: submit job: %v", err)
	}
	if o.Want == 0 && code != http.StatusCreated && code != http.StatusOK || o.Want != 0 && code != o.Want {
		t.Fatalf("servertest: submit job: status %d, want %d", code, o.Want)
	}
	return j
}

// TrySubmitJob is SubmitJob returning the status (and the job when it is 200 or 201) instead of failing
// the test, for benchmarks and goroutines. The error describes a transport failure or an error answer.
func (s *Server) TrySubmitJob(ctx context.Context, printerID string, content []byte, o JobOptions) (jobs.Job, int, error) {
	bearer := o.Bearer
	if bearer == "" {
		bearer = s.AdminKey
	}
	code, body, err := s.DoWith(ctx, nil, http.MethodPost, "/api/v1/printers/"+url.PathEscape(printerID)+"/jobs",
		bearer, JobRequest(content, o))
	if err != nil {
		return jobs.Job{}, 0, err
	}
	if code != http.StatusCreated && code != http.StatusOK {
		return jobs.Job{}, code, nil
	}
	var j jobs.Job
	if err := json.Unmarshal(body, &j); err != nil {
		return jobs.Job{}, code, fmt.Errorf("decode job %s: %w", body, err)
	}
	return j, code, nil
}

// GetJob reads a job as the administrator (GET /api/v1/jobs/{id}).
func (s *Server) GetJob(t testing.TB, id string) jobs.Job {
	t.Helper()
	var j jobs.Job
	s.JSON(t, http.MethodGet, "/api/v1/jobs/"+url.PathEscape(id), s.AdminKey, nil, http.StatusOK, &j)
	return j
}

// JobEvents reads a job's history as the administrator (GET /api/v1/jobs/{id}/events).
func (s *Server) JobEvents(t testing.TB, id string) []jobs.Event {
	t.Helper()
	var out struct {
		Items []jobs.Event `json:"items"`
	}
	s.JSON(t, http.MethodGet, "/api/v1/jobs/"+url.PathEscape(id)+"/events", s.AdminKey, nil, http.StatusOK, &out)
	return out.Items
}

// WaitJob polls GET /api/v1/jobs/{id} until the job is in state and returns it.
func (s *Server) WaitJob(t testing.TB, id string, state jobs.State) jobs.Job {
	t.Helper()
	var j jobs.Job
	WaitFor(t, fmt.Sprintf("job %s to be %s", id, state), func() bool {
		j = s.GetJob(t, id)
		return j.State == state
	})
	return j
}

// Printers lists the portal's printers as the administrator (GET /api/v1/printers).
func (s *Server) Printers(t testing.TB) []jobs.Printer {
	t.Helper()
	var out struct {
		Items []jobs.Printer `json:"items"`
	}
	s.JSON(t, http.MethodGet, "/api/v1/printers", s.AdminKey, nil, http.StatusOK, &out)
	return out.Items
}

// WaitPrinter waits until the portal lists the printer uri of the agent's client with the given online
// state and returns it. Its ID is what SubmitJob takes.
func (s *Server) WaitPrinter(t testing.TB, a *Agent, uri string, online bool) jobs.Printer {
	t.Helper()
	var p jobs.Printer
	WaitFor(t, fmt.Sprintf("printer %s of %s online=%v", uri, a.Welcome.ClientID, online), func() bool {
		for _, x := range s.Printers(t) {
			if x.ClientID == a.Welcome.ClientID && x.URI == uri && x.Online == online {
				p = x
				return true
			}
		}
		return false
	})
	return p
}

// SimPrinter returns a printer as an agent reports it: sim://name, ready.
func SimPrinter(name string) protocol.Printer {
	return protocol.Printer{ID: "sim://" + name, Name: "Simulated " + name, Make: "Zebra", Model: "ZD421", Status: "ready"}
}

// SendPrinters reports the agent's full printer list.
func (a *Agent) SendPrinters(ctx context.Context, ps ...protocol.Printer) error {
	if ps == nil {
		ps = []protocol.Printer{}
	}
	return a.Send(ctx, protocol.Printers{Printers: ps})
}

// ReadJob reads until the next `job` message (answering pings). Any other message but a pong is an
// error naming it.
func (a *Agent) ReadJob(ctx context.Context) (protocol.Job, error) {
	for {
		m, err := a.Read(ctx)
		if err != nil {
			return protocol.Job{}, err
		}
		switch m := m.(type) {
		case protocol.Job:
			return m, nil
		case protocol.Pong:
			continue
		case protocol.Error:
			return protocol.Job{}, fmt.Errorf("want a job, got error %s: %s", m.Code, m.Message)
		default:
			return protocol.Job{}, fmt.Errorf("want a job, got %s", m.MessageType())
		}
	}
}

// ExpectJob is ReadJob failing the test (10 s limit).
func (a *Agent) ExpectJob(t testing.TB) protocol.Job {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	j, err := a.ReadJob(ctx)
	if err != nil {
		t.Fatalf("servertest: %v", err)
	}
	return j
}

// SendStatus sends a job_status for jobID.
func (a *Agent) SendStatus(ctx context.Context, jobID, state, reason string, retry bool) error {
	return a.Send(ctx, protocol.JobStatus{JobID: jobID, State: state, Reason: reason, Retry: retry, At: time.Now().UTC()})
}

// Ack sends a job_status (received, printing, done; failed via SendStatus) and fails the test if the
// write fails. The server's answer, if any, is an `error` message (see ExpectError).
func (a *Agent) Ack(t testing.TB, jobID, state string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.SendStatus(ctx, jobID, state, "", false); err != nil {
		t.Fatalf("servertest: send job_status: %v", err)
	}
}

// next reads (answering pings) until the next message that is not a pong, failing the test on a read
// error (10 s limit); want names what the test waits for.
func (a *Agent) next(t testing.TB, want string) protocol.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		m, err := a.Read(ctx)
		if err != nil {
			t.Fatalf("servertest: want %s: %v", want, err)
		}
		if _, pong := m.(protocol.Pong); !pong {
			return m
		}
	}
}

// ExpectError reads until an `error` message (answering pings, skipping pongs) and checks its code.
func (a *Agent) ExpectError(t testing.TB, code string) protocol.Error {
	t.Helper()
	m := a.next(t, "error "+code)
	e, ok := m.(protocol.Error)
	if !ok {
		t.Fatalf("servertest: want error %q, got %s", code, m.MessageType())
	}
	if e.Code != code {
		t.Fatalf("servertest: error %s (%s), want %s", e.Code, e.Message, code)
	}
	return e
}

// ExpectCancel reads until the next message that is not a pong and fails the test unless it is a
// `cancel` for jobID.
func (a *Agent) ExpectCancel(t testing.TB, jobID string) {
	t.Helper()
	m := a.next(t, "cancel for "+jobID)
	if c, ok := m.(protocol.Cancel); !ok || c.JobID != jobID {
		t.Fatalf("servertest: got %s %+v, want cancel for %s", m.MessageType(), m, jobID)
	}
}

// JobHandler decides what a fake agent reports for a job: the job_status states to send, in order.
type JobHandler func(protocol.Job) []string

// AckAll reports every job received, printing, done.
func AckAll(protocol.Job) []string {
	return []string{protocol.JobReceived, protocol.JobPrinting, protocol.JobDone}
}

// RunJobs reads messages until the connection ends or ctx ends, answers pings, and for each job calls
// seen (if not nil, from this goroutine) and sends the statuses handle returns. It returns why it stopped.
// Run it in a goroutine for an agent that prints whatever it gets.
func (a *Agent) RunJobs(ctx context.Context, handle JobHandler, seen func(protocol.Job)) error {
	for {
		m, err := a.Read(ctx)
		if err != nil {
			return err
		}
		j, ok := m.(protocol.Job)
		if !ok {
			continue
		}
		if seen != nil {
			seen(j)
		}
		if handle == nil {
			continue
		}
		for _, st := range handle(j) {
			if err := a.SendStatus(ctx, j.JobID, st, "", false); err != nil {
				return err
			}
		}
	}
}

// DoWith sends one REST request like Do, over client c (nil: the server's client), returning errors
// instead of failing a test (for goroutines and benchmarks with their own transport).
func (s *Server) DoWith(ctx context.Context, c *http.Client, method, path, bearer string, body any) (int, []byte, error) {
	if c == nil {
		c = s.client()
	}
	rd, err := requestBody(body)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, fmt.Errorf("read %s %s: %w", method, path, err)
	}
	return resp.StatusCode, out, nil
}

func requestBody(body any) (io.Reader, error) {
	switch b := body.(type) {
	case nil:
		return nil, nil
	case string:
		return strings.NewReader(b), nil
	case []byte:
		return bytes.NewReader(b), nil
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return nil, fmt.Errorf("servertest: marshal: %w", err)
		}
		return bytes.NewReader(j), nil
	}
}
