package client

import (
	"context"
	"iter"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

func esc(id string) string { return url.PathEscape(id) }

// listAll GETs every page of path (pages of MaxPageLimit).
func listAll[T any](ctx context.Context, c *Client, path string) ([]T, error) {
	all := []T{}
	for v, err := range walk[T](ctx, c, path, url.Values{"limit": {strconv.Itoa(MaxPageLimit)}}) {
		if err != nil {
			return nil, err
		}
		all = append(all, v)
	}
	return all, nil
}

// walk yields every row of the list at path with query q (its filters and limit), page by page following
// next_cursor (after=); a failed request yields its error and ends the walk.
func walk[T any](ctx context.Context, c *Client, path string, q url.Values) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		q := maps.Clone(q)
		if q == nil {
			q = url.Values{}
		}
		for after := ""; ; {
			if after != "" {
				q.Set("after", after)
			}
			p := path
			if len(q) > 0 {
				p += "?" + q.Encode()
			}
			var pg page[T]
			if _, err := c.do(ctx, request{method: http.MethodGet, path: p, out: &pg}); err != nil {
				yield(zero, err)
				return
			}
			for _, v := range pg.Items {
				if !yield(v, nil) {
					return
				}
			}
			if pg.NextCursor == "" || pg.NextCursor == after {
				return
			}
			after = pg.NextCursor
		}
	}
}

func (c *Client) get(ctx context.Context, path string, out any) error {
	_, err := c.do(ctx, request{method: http.MethodGet, path: path, out: out})
	return err
}

func (c *Client) send(ctx context.Context, method, path string, in, out any) error {
	_, err := c.do(ctx, request{method: method, path: path, in: in, out: out})
	return err
}

const keysPath = "/api/v1/print-client-secrets"

// CreateKey creates a print client secret (administrators); the answer's Secret is shown only now.
func (c *Client) CreateKey(ctx context.Context, k NewKey) (Key, error) {
	var out Key
	return out, c.send(ctx, http.MethodPost, keysPath, k, &out)
}

// ListKeys lists the portal's print client secrets.
func (c *Client) ListKeys(ctx context.Context) ([]Key, error) { return listAll[Key](ctx, c, keysPath) }

// GetKey returns one print client secret.
func (c *Client) GetKey(ctx context.Context, id string) (Key, error) {
	var out Key
	return out, c.get(ctx, keysPath+"/"+esc(id), &out)
}

// RotateKey issues a new secret for the key (in the answer's Secret); the old one stops working.
func (c *Client) RotateKey(ctx context.Context, id string) (Key, error) {
	return c.keyAction(ctx, id, "rotate")
}

// ActivateKey lets the key connect again.
func (c *Client) ActivateKey(ctx context.Context, id string) (Key, error) {
	return c.keyAction(ctx, id, "activate")
}

// DeactivateKey refuses the key until it is activated; its agents are disconnected.
func (c *Client) DeactivateKey(ctx context.Context, id string) (Key, error) {
	return c.keyAction(ctx, id, "deactivate")
}

// RevokeKey revokes the key for good; its agents are logged out.
func (c *Client) RevokeKey(ctx context.Context, id string) (Key, error) {
	return c.keyAction(ctx, id, "revoke")
}

func (c *Client) keyAction(ctx context.Context, id, action string) (Key, error) {
	var out Key
	return out, c.send(ctx, http.MethodPost, keysPath+"/"+esc(id)+"/"+action, nil, &out)
}

// DeleteKey deletes the key.
func (c *Client) DeleteKey(ctx context.Context, id string) error {
	return c.send(ctx, http.MethodDelete, keysPath+"/"+esc(id), nil, nil)
}

// SubmitJob submits a job to a printer. created is false when the server answered an existing job for
// the same idempotency key (200). With an idempotency key the submission is retried on transient
// failures; without one it is sent once.
func (c *Client) SubmitJob(ctx context.Context, printerID string, req JobRequest) (job Job, created bool, err error) {
	resp, err := c.do(ctx, request{method: http.MethodPost, path: "/api/v1/printers/" + esc(printerID) + "/jobs",
		in: req, out: &job, repeatable: req.IdempotencyKey != ""})
	return job, resp.status == http.StatusCreated, err
}

// GetJob returns a job.
func (c *Client) GetJob(ctx context.Context, id string) (Job, error) {
	var out Job
	return out, c.get(ctx, "/api/v1/jobs/"+esc(id), &out)
}

// JobEvents returns a job's transitions, oldest first.
func (c *Client) JobEvents(ctx context.Context, id string) ([]JobEvent, error) {
	var out page[JobEvent]
	return out.Items, c.get(ctx, "/api/v1/jobs/"+esc(id)+"/events", &out)
}

// ListJobs returns one page of the portal's jobs, newest first: f.After is the NextCursor of the
// previous page. AllJobs walks every page.
func (c *Client) ListJobs(ctx context.Context, f JobFilter) (JobPage, error) {
	q := f.query()
	if f.After != "" {
		q.Set("after", f.After)
	}
	p := "/api/v1/jobs"
	if len(q) > 0 {
		p += "?" + q.Encode()
	}
	var out JobPage
	err := c.get(ctx, p, &out)
	if out.Items == nil {
		out.Items = []Job{}
	}
	return out, err
}

// AllJobs yields every job f selects, newest first, reading pages of f.Limit (server default when 0)
// from f.After on; it stops at the first error, which it yields:
//
//	for j, err := range c.AllJobs(ctx, client.JobFilter{State: "failed"}) { … }
func (c *Client) AllJobs(ctx context.Context, f JobFilter) iter.Seq2[Job, error] {
	q := f.query()
	if f.After != "" {
		q.Set("after", f.After)
	}
	return walk[Job](ctx, c, "/api/v1/jobs", q)
}

// query is f's filters and limit as query parameters (without after).
func (f JobFilter) query() url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("printer", f.Printer)
	set("state", f.State)
	set("idempotency_key", f.IdempotencyKey)
	if !f.CreatedAfter.IsZero() {
		q.Set("created_after", f.CreatedAfter.Format(time.RFC3339Nano))
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	return q
}

// CancelJob cancels a job that has not started printing (409 ErrConflict once printing or finished).
func (c *Client) CancelJob(ctx context.Context, id string) (Job, error) {
	var out Job
	return out, c.send(ctx, http.MethodDelete, "/api/v1/jobs/"+esc(id), nil, &out)
}

// ListPrinters lists every printer of the portal, online or not.
func (c *Client) ListPrinters(ctx context.Context) ([]Printer, error) {
	return listAll[Printer](ctx, c, "/api/v1/printers")
}

// GetPrinter returns one printer.
func (c *Client) GetPrinter(ctx context.Context, id string) (Printer, error) {
	var out Printer
	return out, c.get(ctx, "/api/v1/printers/"+esc(id), &out)
}

// ListClients lists every agent the server has seen (administrators).
func (c *Client) ListClients(ctx context.Context) ([]AgentClient, error) {
	return listAll[AgentClient](ctx, c, "/api/v1/clients")
}
