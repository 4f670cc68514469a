package localapi

import (
	"context"
	"errors"
	"net"
	"sync"
)

// MemListener is an in-memory net.Listener: an in-process agent serves the local API on it so that a
// desktop app running the agent inside itself uses the same Client, without a socket.
type MemListener struct {
	conns chan net.Conn
	once  sync.Once
	done  chan struct{}
}

// NewMemListener returns an open MemListener.
func NewMemListener() *MemListener {
	return &MemListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

var errMemClosed = errors.New("localapi: in-memory listener closed")

// Accept waits for the next Dial.
func (l *MemListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops the listener; pending and later Dials fail.
func (l *MemListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

// Addr returns a placeholder address.
func (l *MemListener) Addr() net.Addr { return memAddr{} }

// Dial connects to the listener.
func (l *MemListener) Dial(ctx context.Context) (net.Conn, error) {
	server, client := net.Pipe()
	select {
	case l.conns <- memConn{server}:
		return client, nil
	case <-l.done:
		return nil, &net.OpError{Op: "dial", Net: "mem", Err: errMemClosed}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// memConn is the server side of an in-memory connection: only this process can make one, so it is
// trusted with every route (see Access).
type memConn struct{ net.Conn }

type memAddr struct{}

func (memAddr) Network() string { return "mem" }
func (memAddr) String() string  { return Host }
