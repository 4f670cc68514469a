//go:build windows

package localapi

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/windows"
)

// pipeConn is one end of a connected named pipe, with overlapped I/O of its own rather than an
// *os.File: net/http needs a read pending while it writes, and read deadlines that wake that read
// (it ends its background read with a deadline in the past). Each operation waits on its event in
// short slices, rechecking the deadline and Close.
type pipeConn struct {
	h      windows.Handle
	addr   pipeAddr
	server bool

	rmu, wmu sync.Mutex // one read and one write at a time; Close takes both
	dmu      sync.Mutex // protects the deadlines
	rdl, wdl time.Time
	closed   atomic.Bool
	once     sync.Once
}

func newPipeConn(h windows.Handle, name string, server bool) *pipeConn {
	return &pipeConn{h: h, addr: pipeAddr(name), server: server}
}

// handle is the pipe's handle (PeerCred reads the client's process from it).
func (c *pipeConn) handle() windows.Handle { return c.h }

const pipeWaitSlice = 50 // ms

func (c *pipeConn) Read(b []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	n, err := c.io(b, false)
	if errors.Is(err, windows.ERROR_BROKEN_PIPE) || errors.Is(err, windows.ERROR_PIPE_NOT_CONNECTED) ||
		err == nil && n == 0 && len(b) > 0 {
		return 0, io.EOF
	}
	return n, err
}

func (c *pipeConn) Write(b []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	done := 0
	for done < len(b) {
		n, err := c.io(b[done:], true)
		done += n
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

func (c *pipeConn) deadline(write bool) time.Time {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	if write {
		return c.wdl
	}
	return c.rdl
}

// io runs one overlapped ReadFile or WriteFile to completion, deadline or Close.
func (c *pipeConn) io(b []byte, write bool) (int, error) {
	if c.closed.Load() {
		return 0, net.ErrClosed
	}
	if dl := c.deadline(write); !dl.IsZero() && !time.Now().Before(dl) {
		return 0, os.ErrDeadlineExceeded
	}
	ev, err := windows.CreateEvent(nil, 1, 0, nil)
	if err != nil {
		return 0, err
	}
	defer windows.CloseHandle(ev)
	ov := &windows.Overlapped{HEvent: ev}
	var n uint32
	if write {
		err = windows.WriteFile(c.h, b, &n, ov)
	} else {
		err = windows.ReadFile(c.h, b, &n, ov)
	}
	if err != nil && !errors.Is(err, windows.ERROR_IO_PENDING) {
		return int(n), err
	}
	for {
		r, werr := windows.WaitForSingleObject(ev, pipeWaitSlice)
		if werr != nil {
			return 0, werr
		}
		if r == windows.WAIT_OBJECT_0 {
			err := windows.GetOverlappedResult(c.h, ov, &n, false)
			return int(n), err
		}
		var stop error
		if dl := c.deadline(write); !dl.IsZero() && !time.Now().Before(dl) {
			stop = os.ErrDeadlineExceeded
		}
		if c.closed.Load() {
			stop = net.ErrClosed
		}
		if stop != nil {
			_ = windows.CancelIoEx(c.h, ov)
			_ = windows.GetOverlappedResult(c.h, ov, &n, true)
			return int(n), stop
		}
	}
}

func (c *pipeConn) Close() error {
	c.once.Do(func() {
		c.closed.Store(true)
		_ = windows.CancelIoEx(c.h, nil)
		c.rmu.Lock()
		c.wmu.Lock()
		if c.server {
			_ = windows.FlushFileBuffers(c.h)
			_ = windows.DisconnectNamedPipe(c.h)
		}
		windows.CloseHandle(c.h)
		c.wmu.Unlock()
		c.rmu.Unlock()
	})
	return nil
}

func (c *pipeConn) LocalAddr() net.Addr  { return c.addr }
func (c *pipeConn) RemoteAddr() net.Addr { return c.addr }

func (c *pipeConn) SetDeadline(t time.Time) error {
	c.dmu.Lock()
	c.rdl, c.wdl = t, t
	c.dmu.Unlock()
	return nil
}

func (c *pipeConn) SetReadDeadline(t time.Time) error {
	c.dmu.Lock()
	c.rdl = t
	c.dmu.Unlock()
	return nil
}

func (c *pipeConn) SetWriteDeadline(t time.Time) error {
	c.dmu.Lock()
	c.wdl = t
	c.dmu.Unlock()
	return nil
}
