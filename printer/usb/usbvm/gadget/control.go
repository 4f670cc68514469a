package gadget

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// Control operations (Request.Op).
const (
	OpState       = "state"        // report State
	OpTake        = "take"         // return and forget the job bytes recorded since the last take
	OpMediaOut    = "media-out"    // out of paper
	OpMediaIn     = "media-in"     // media loaded
	OpPause       = "pause"        // paused (~HS says so; port status not selected)
	OpUnpause     = "unpause"      //
	OpStall       = "stall"        // stop reading from the host
	OpResume      = "resume"       // read again
	OpUnplug      = "unplug"       // unbind from the UDC; answers once unplugged
	OpPlug        = "plug"         // bind to the UDC; answers once the device is open
	OpUnplugAfter = "unplug-after" // unplug once N more job bytes have arrived
	OpProfile     = "profile"      // become Profiles[Profile]: unplug, new identity, plug; answers once plugged
)

// Request is one control request: a JSON object per line.
type Request struct {
	Op      string `json:"op"`
	N       int64  `json:"n,omitempty"`
	Profile string `json:"profile,omitempty"` // OpProfile
}

// Response answers a Request with the state after it.
type Response struct {
	State State  `json:"state"`
	Data  []byte `json:"data,omitempty"` // OpTake
	Error string `json:"error,omitempty"`
}

// plugTimeout bounds OpPlug and OpUnplug.
const plugTimeout = 15 * time.Second

// Handle carries out one request.
func (p *Printer) Handle(ctx context.Context, req Request) Response {
	var resp Response
	var err error
	switch req.Op {
	case OpState:
	case OpTake:
		resp.Data = p.Take()
	case OpMediaOut, OpMediaIn:
		err = p.SetMediaOut(req.Op == OpMediaOut)
	case OpPause, OpUnpause:
		err = p.SetPaused(req.Op == OpPause)
	case OpStall, OpResume:
		p.SetStalled(req.Op == OpStall)
	case OpUnplug, OpPlug:
		ctx, cancel := context.WithTimeout(ctx, plugTimeout)
		err = p.SetPlugged(ctx, req.Op == OpPlug)
		cancel()
	case OpUnplugAfter:
		p.UnplugAfter(req.N)
	case OpProfile:
		ctx, cancel := context.WithTimeout(ctx, 2*plugTimeout)
		err = p.SetProfile(ctx, req.Profile)
		cancel()
	default:
		err = fmt.Errorf("gadget: unknown op %q", req.Op)
	}
	if err != nil {
		resp.Error = err.Error()
	}
	resp.State = p.State()
	return resp
}

// Serve answers control requests on l until ctx ends.
func (p *Printer) Serve(ctx context.Context, l net.Listener) error {
	stop := context.AfterFunc(ctx, func() { _ = l.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("gadget: control: %w", err)
		}
		wg.Go(func() {
			defer c.Close()
			stopConn := context.AfterFunc(ctx, func() { _ = c.Close() })
			defer stopConn()
			dec, enc := json.NewDecoder(c), json.NewEncoder(c)
			for {
				var req Request
				if err := dec.Decode(&req); err != nil {
					return
				}
				if err := enc.Encode(p.Handle(ctx, req)); err != nil {
					return
				}
			}
		})
	}
}

// Client talks to a printer's control server.
type Client struct {
	mu  sync.Mutex
	c   net.Conn
	dec *json.Decoder
	enc *json.Encoder
}

// Dial connects to the control socket at path, retrying until ctx ends (the printer may still be
// starting).
func Dial(ctx context.Context, path string) (*Client, error) {
	var d net.Dialer
	for {
		c, err := d.DialContext(ctx, "unix", path)
		if err == nil {
			return &Client{c: c, dec: json.NewDecoder(c), enc: json.NewEncoder(c)}, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("gadget: dial %s: %w (%w)", path, ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Do sends one request and returns the printer's response; a request the printer failed is an error.
func (c *Client) Do(ctx context.Context, op string, n int64) (Response, error) {
	return c.do(ctx, Request{Op: op, N: n})
}

// SetProfile makes the printer the model Profiles[name] (unplug, new identity, plug).
func (c *Client) SetProfile(ctx context.Context, name string) (State, error) {
	r, err := c.do(ctx, Request{Op: OpProfile, Profile: name})
	return r.State, err
}

func (c *Client) do(ctx context.Context, req Request) (Response, error) {
	op := req.Op
	c.mu.Lock()
	defer c.mu.Unlock()
	deadline := time.Now().Add(2*plugTimeout + 5*time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = c.c.SetDeadline(deadline)
	if err := c.enc.Encode(req); err != nil {
		return Response{}, fmt.Errorf("gadget: %s: %w", op, err)
	}
	var resp Response
	if err := c.dec.Decode(&resp); err != nil {
		return Response{}, fmt.Errorf("gadget: %s: %w", op, err)
	}
	if resp.Error != "" {
		return resp, fmt.Errorf("gadget: %s: %w", op, errors.New(resp.Error))
	}
	return resp, nil
}

// State returns the printer's state.
func (c *Client) State(ctx context.Context) (State, error) {
	r, err := c.Do(ctx, OpState, 0)
	return r.State, err
}

// Take returns the job bytes recorded since the last Take.
func (c *Client) Take(ctx context.Context) ([]byte, error) {
	r, err := c.Do(ctx, OpTake, 0)
	return r.Data, err
}

// WaitFor polls the printer's state until cond holds or ctx ends.
func (c *Client) WaitFor(ctx context.Context, cond func(State) bool) (State, error) {
	for {
		s, err := c.State(ctx)
		if err != nil {
			return s, err
		}
		if cond(s) {
			return s, nil
		}
		select {
		case <-ctx.Done():
			return s, fmt.Errorf("gadget: wait: %w (state %+v)", ctx.Err(), s)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Close closes the connection.
func (c *Client) Close() error { return c.c.Close() }
