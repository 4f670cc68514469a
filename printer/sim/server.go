package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"
)

// Server serves a simulated printer as a raw TCP 9100 printer: each connection's bytes are one job,
// received when the client closes its side. A Zebra (DialectZPL) removes the ~HS commands and answers them
// on the same connection; the other dialects keep every byte and answer nothing, and a connection that
// carried only ~HS commands counts as a status request instead of a job. The server then closes the connection, so a client that half-closes and waits for EOF knows the
// job arrived.
type Server struct {
	p    *Printer
	ln   net.Listener
	stop func() bool

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	once   sync.Once
	wg     sync.WaitGroup
}

// Listen starts a new simulated printer, named after the listening address, serving raw TCP on addr
// (e.g. "127.0.0.1:0") until ctx ends or Close is called.
func Listen(ctx context.Context, addr string) (*Server, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sim: listen: %w", err)
	}
	return New(ln.Addr().String()).serve(ctx, ln), nil
}

// Listen serves p as a raw TCP printer on addr until ctx ends or Close is called.
func (p *Printer) Listen(ctx context.Context, addr string) (*Server, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sim %s: listen: %w", p.name, err)
	}
	return p.serve(ctx, ln), nil
}

func (p *Printer) serve(ctx context.Context, ln net.Listener) *Server {
	s := &Server{p: p, ln: ln, conns: map[net.Conn]struct{}{}}
	p.mu.Lock()
	p.servers[s] = struct{}{}
	p.mu.Unlock()
	s.wg.Add(1)
	go s.acceptLoop()
	s.stop = context.AfterFunc(ctx, func() { s.Close() })
	return s
}

// Printer returns the simulated printer behind the server.
func (s *Server) Printer() *Printer { return s.p }

// Addr returns the listening address, host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URI returns the printer's raw TCP URI, tcp://host:port.
func (s *Server) URI() string { return "tcp://" + s.Addr() }

// Close stops listening, resets open connections and waits for their handlers.
func (s *Server) Close() error {
	var err error
	s.once.Do(func() {
		s.stop()
		s.mu.Lock()
		s.closed = true
		err = s.ln.Close()
		for c := range s.conns {
			reset(c)
		}
		s.mu.Unlock()
		s.wg.Wait()
		s.p.mu.Lock()
		delete(s.p.servers, s)
		s.p.mu.Unlock()
	})
	return err
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if !closed && !errors.Is(err, net.ErrClosed) {
				slog.Warn("sim: accept", "addr", s.Addr(), "err", err)
			}
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			reset(c)
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.handle(c)
	}
}

// dropAll resets every open connection (the printer was unplugged).
func (s *Server) dropAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		reset(c)
	}
}

// reset closes c with a TCP RST, as a printer losing its link would look to the client.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

func (s *Server) handle(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
	p := s.p
	if !p.Plugged() {
		reset(c)
		return
	}
	var (
		f   hsFilter
		job []byte
		buf = make([]byte, 32<<10)
		zpl = p.Dialect().answersHS()
	)
	// accept adds job data, unplugging the printer when it must; it reports whether to go on.
	accept := func(d []byte) bool {
		if len(d) == 0 {
			return true
		}
		n, drop := p.take(len(d))
		job = append(job, d[:n]...)
		if drop {
			if len(job) > 0 {
				p.enqueue(job, "tcp", true)
			}
			p.Unplug()
			reset(c)
			return false
		}
		return true
	}
	for {
		n, err := c.Read(buf)
		if n > 0 {
			d, hs := buf[:n], 0
			if zpl {
				d, hs = f.feed(d)
			}
			if !accept(d) {
				return
			}
			for range hs {
				reply, herr := p.hsReply()
				if herr != nil {
					continue // silent, as a Zebra out of media or with its head open
				}
				_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
				if _, werr := c.Write(reply); werr != nil {
					break
				}
			}
		}
		if err == nil {
			continue
		}
		if errors.Is(err, io.EOF) {
			if !accept(f.flush()) {
				return
			}
			switch {
			case !zpl && onlyPolls(job):
				_, _ = p.hsReply() // counted; never answered
			case len(job) > 0:
				p.enqueue(job, "tcp", false)
			}
			_ = c.Close()
			return
		}
		// Reset by us (unplugged, server closed) or by the client: what arrived is an interrupted job.
		if len(job) > 0 {
			p.enqueue(job, "tcp", true)
		}
		reset(c)
		return
	}
}
