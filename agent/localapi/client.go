package localapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Client talks to a running agent over its local API. The CLI and the desktop app both use it. Its
// methods return an *APIError for every failure: CodeAgentNotRunning (wrapping ErrAgentNotRunning) when
// nothing answers on the socket, else the code and plain-language message the agent sent.
type Client struct {
	hc    *http.Client
	dial  func(ctx context.Context) (net.Conn, error)
	retry time.Duration // Watch's retry interval
}

// NewClient returns a client for the agent listening on the unix socket at socketPath (on Windows the
// named pipe for it, see listen_windows.go). Use DefaultSocketPath or SocketCandidates to find it.
func NewClient(socketPath string) *Client {
	return NewClientDialer(func(ctx context.Context) (net.Conn, error) {
		return dialSocket(ctx, socketPath)
	})
}

// NewClientDialer returns a client that reaches the agent through dial (for example an in-process
// agent's in-memory listener).
func NewClientDialer(dial func(ctx context.Context) (net.Conn, error)) *Client {
	c := &Client{dial: dial, retry: time.Second}
	c.hc = &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dial(ctx)
		},
		DisableCompression:  true,
		MaxIdleConns:        2,
		IdleConnTimeout:     30 * time.Second,
		TLSHandshakeTimeout: time.Second,
	}}
	return c
}

// Close releases idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

func (c *Client) do(ctx context.Context, method, route string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("localapi: encode %s: %w", route, err)
		}
		body = bytes.NewReader(b)
	}
	resp, err := c.request(ctx, method, route, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(out); err != nil {
		return NewError(http.StatusBadGateway, CodeInternal, "the agent sent an answer that could not be read", err)
	}
	return nil
}

// request sends one request and returns a 2xx response; any other answer becomes an *APIError.
func (c *Client) request(ctx context.Context, method, route string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://"+Host+Prefix+route, body)
	if err != nil {
		return nil, fmt.Errorf("localapi: %s: %w", route, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var ne *net.OpError
		if errors.As(err, &ne) && ne.Op == "dial" {
			return nil, NewError(0, CodeAgentNotRunning,
				"the printdock agent is not running (start it with: printdock-agent start, or printdock-agent run)",
				fmt.Errorf("%w: %w", ErrAgentNotRunning, err))
		}
		return nil, NewError(0, CodeInternal, "the local API connection failed: "+err.Error(), err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	var e Error
	if derr := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&e); derr != nil || e.Error.Message == "" {
		return nil, NewError(resp.StatusCode, CodeInternal, "the agent answered "+resp.Status, derr)
	}
	return nil, NewError(resp.StatusCode, e.Error.Code, e.Error.Message, nil)
}

// Status returns the agent's state.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var st Status
	err := c.do(ctx, http.MethodGet, "status", nil, &st)
	return st, err
}

// Login signs the agent in with a secret: the agent checks it locally, verifies it with the server and
// only then stores it. The secret travels only over the local socket.
func (c *Client) Login(ctx context.Context, req LoginRequest) (Status, error) {
	var st Status
	err := c.do(ctx, http.MethodPost, "login", req, &st)
	return st, err
}

// Logout deletes the stored secret and disconnects.
func (c *Client) Logout(ctx context.Context) (Status, error) {
	var st Status
	err := c.do(ctx, http.MethodPost, "logout", struct{}{}, &st)
	return st, err
}

// Printers lists the printers the agent sees, with their current state.
func (c *Client) Printers(ctx context.Context) ([]Printer, error) {
	var ps []Printer
	err := c.do(ctx, http.MethodGet, "printers", nil, &ps)
	return ps, err
}

// TestPrint prints the built-in test label on req.PrinterID ("" = the first printer).
func (c *Client) TestPrint(ctx context.Context, req TestPrintRequest) (TestPrintResult, error) {
	var res TestPrintResult
	err := c.do(ctx, http.MethodPost, "test-print", req, &res)
	return res, err
}

// Jobs lists the agent's recent jobs, newest first.
func (c *Client) Jobs(ctx context.Context) ([]Job, error) {
	var js []Job
	err := c.do(ctx, http.MethodGet, "jobs", nil, &js)
	return js, err
}

// DiscardJob discards the agent's job id while it waits on its printer: it never prints. An error with
// code CodeTooLate when it has started printing or is finished.
func (c *Client) DiscardJob(ctx context.Context, id string) (Job, error) {
	var res Job
	err := c.do(ctx, http.MethodPost, "job-discard", DiscardRequest{JobID: id}, &res)
	return res, err
}

// JobPreview renders the label of the agent's job id (PNG); the agent also writes it to its previews
// directory (PreviewPath).
func (c *Client) JobPreview(ctx context.Context, id string) (JobPreview, error) {
	var res JobPreview
	err := c.do(ctx, http.MethodGet, "job-preview?id="+url.QueryEscape(id), nil, &res)
	return res, err
}

// Logs returns up to n of the agent's most recent log lines, oldest first.
func (c *Client) Logs(ctx context.Context, n int) ([]LogEntry, error) {
	var ls []LogEntry
	err := c.do(ctx, http.MethodGet, "logs?n="+strconv.Itoa(n), nil, &ls)
	return ls, err
}

// WatchStream opens one watch stream: the channel receives the current Status at once and then every
// change, and is closed when ctx is done or the stream breaks (the agent stopped). An error means the
// stream could not be opened.
func (c *Client) WatchStream(ctx context.Context) (<-chan Status, error) {
	resp, err := c.request(ctx, http.MethodGet, "watch", nil)
	if err != nil {
		return nil, err
	}
	ch := make(chan Status, 1)
	go func() {
		defer close(ch)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			line := bytes.TrimSpace(sc.Bytes())
			if len(line) == 0 {
				continue // keepalive
			}
			var st Status
			if err := json.Unmarshal(line, &st); err != nil {
				return
			}
			select {
			case ch <- st:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch, nil
}

// Watch follows the agent's Status until ctx is done, then closes the channel. It survives agent
// restarts: while no agent answers, it sends one Status with AgentRunning false, an empty State and
// LastError saying the agent is not running, and keeps trying every second; when the agent is back the
// stream resumes with its current Status. Every Status the agent sends has AgentRunning true.
func (c *Client) Watch(ctx context.Context) <-chan Status {
	out := make(chan Status, 1)
	go func() {
		defer close(out)
		reported := false
		for ctx.Err() == nil {
			in, err := c.WatchStream(ctx)
			if err == nil {
				reported = false
				for st := range in {
					select {
					case out <- st:
					case <-ctx.Done():
						return
					}
				}
			} else if ctx.Err() == nil && !reported {
				reported = true
				down := Status{LastError: err.Error()}
				select {
				case out <- down:
				case <-ctx.Done():
					return
				}
			}
			t := time.NewTimer(c.retry)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}()
	return out
}
