// Package client is a typed Go client for printdock-server's REST API (docs/server.md, docs/jobs.md,
// docs/keys.md): print client keys, print jobs, printers and the agents ("clients") a portal has seen.
//
// Errors the server answers are *Error values carrying its {"error":{"code","message"}}. Requests that
// are safe to repeat — every GET, and a job submission carrying an idempotency key — are retried on
// connection errors, 429 and 5xx, with exponential backoff and jitter, honouring Retry-After; nothing
// else is ever sent twice.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxResponseSize bounds a response body the client reads.
const maxResponseSize = 64 << 20

// Client calls one printdock-server with one bearer credential (a personal API key pdu_… or an OAuth
// access token pdt_…). It is safe for concurrent use.
type Client struct {
	base  string
	token string
	hc    *http.Client
	retry RetryPolicy
}

// RetryPolicy says how requests that are safe to repeat are retried.
type RetryPolicy struct {
	Attempts int           // total attempts, including the first (1 = never retry)
	Backoff  time.Duration // wait before the first retry; doubled each time, with jitter
	MaxWait  time.Duration // the longest single wait; a longer Retry-After ends the retries
}

// DefaultRetry is the retry policy of New.
var DefaultRetry = RetryPolicy{Attempts: 4, Backoff: 200 * time.Millisecond, MaxWait: 30 * time.Second}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (transport, TLS, timeouts); http.DefaultClient otherwise.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithRetry sets the retry policy.
func WithRetry(p RetryPolicy) Option { return func(c *Client) { c.retry = p } }

// New returns a client of the server at baseURL (https://print.example.com) authenticating with token.
func New(baseURL, token string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: base URL %q: want http(s)://host[:port]", baseURL)
	}
	c := &Client{base: strings.TrimRight(baseURL, "/"), token: token, hc: http.DefaultClient, retry: DefaultRetry}
	for _, o := range opts {
		o(c)
	}
	if c.retry.Attempts < 1 {
		c.retry.Attempts = 1
	}
	return c, nil
}

// request is one API call.
type request struct {
	method string
	path   string // with the query
	in     any    // JSON body, or nil
	out    any    // decoded from a 2xx answer, or nil
	// repeatable: the request may be sent again (GET, or a submission with an idempotency key).
	repeatable bool
}

// response is what a successful call returns besides its decoded body.
type response struct {
	status int
	header http.Header
}

// do sends r, retrying it when it is repeatable and the failure is transient.
func (c *Client) do(ctx context.Context, r request) (response, error) {
	var body []byte
	if r.in != nil {
		b, err := json.Marshal(r.in)
		if err != nil {
			return response{}, fmt.Errorf("client: %s %s: encode: %w", r.method, r.path, err)
		}
		body = b
	}
	attempts := 1
	if r.repeatable || r.method == http.MethodGet {
		attempts = c.retry.Attempts
	}
	for i := 0; ; i++ {
		resp, err := c.once(ctx, r, body)
		if err == nil || i+1 >= attempts || !transient(err) || ctx.Err() != nil {
			return resp, err
		}
		wait := c.backoff(i)
		var ae *Error
		if errors.As(err, &ae) && ae.RetryAfter > 0 {
			if ae.RetryAfter > c.retry.MaxWait {
				return resp, err
			}
			wait = ae.RetryAfter
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return resp, err
		case <-t.C:
		}
	}
}

// backoff is the wait before retry i+1: Backoff·2^i, ±50 % jitter, at most MaxWait.
func (c *Client) backoff(i int) time.Duration {
	d := c.retry.Backoff << min(i, 16)
	if c.retry.MaxWait > 0 && d > c.retry.MaxWait {
		d = c.retry.MaxWait
	}
	if d <= 0 {
		return 0
	}
	return d/2 + rand.N(d)
}

// transient reports whether err is worth a retry: the connection failed (connErr), or the server
// answered 429 or 5xx.
func transient(err error) bool {
	var ae *Error
	if errors.As(err, &ae) {
		return ae.Status == http.StatusTooManyRequests || ae.Status >= 500
	}
	var ce connErr
	return errors.As(err, &ce) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// connErr is a failure to send a request or to read its answer: worth a retry when the request is
// safe to repeat.
type connErr struct{ error }

func (e connErr) Unwrap() error { return e.error }

// once sends r one time.
func (c *Client) once(ctx context.Context, r request, body []byte) (response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, c.base+r.path, rd)
	if err != nil {
		return response{}, fmt.Errorf("client: %s %s: %w", r.method, r.path, err)
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return response{}, connErr{fmt.Errorf("client: %s %s: %w", r.method, r.path, err)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseSize))
	if err != nil {
		return response{}, connErr{fmt.Errorf("client: %s %s: read the answer: %w", r.method, r.path, err)}
	}
	out := response{status: resp.StatusCode, header: resp.Header}
	if resp.StatusCode/100 != 2 {
		return out, newError(r.method, r.path, resp, b)
	}
	if r.out != nil && resp.StatusCode != http.StatusNoContent {
		if err := json.Unmarshal(b, r.out); err != nil {
			return out, fmt.Errorf("client: %s %s: decode the answer: %w", r.method, r.path, err)
		}
	}
	return out, nil
}

// retryAfter parses a Retry-After header: seconds or an HTTP date; 0 when absent or malformed.
func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(h)); err == nil {
		return time.Duration(max(s, 0)) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}
