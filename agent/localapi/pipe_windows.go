//go:build windows

package localapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// The local API on Windows is a named pipe, not an AF_UNIX socket (which Wine does not have, and whose
// access Windows decides by the ACL of a directory only). The system agent's pipe is
// \\.\pipe\printdock-agent; an agent with another state directory listens on a pipe named after it.

// SystemPipe is the system agent's named pipe.
const SystemPipe = `\\.\pipe\printdock-agent`

// PipeSDDL is the pipe's security descriptor: SYSTEM and Administrators full control, authenticated
// users read and write (they need to write to send a request; which routes they may use the agent
// decides from their token, see PeerCred), network logons denied, nothing inherited.
const PipeSDDL = "D:P(D;;GA;;;NU)(A;;GA;;;SY)(A;;GA;;;BA)(A;;GRGW;;;AU)"

// pipeName maps a socket path to its named pipe: a pipe path stays, another path (a state
// directory's agent.sock) gets \\.\pipe\printdock-agent-<hash of the path>.
func pipeName(path string) string {
	if strings.HasPrefix(path, `\\.\pipe\`) {
		return path
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	sum := sha256.Sum256([]byte(strings.ToLower(filepath.Clean(abs))))
	return SystemPipe + "-" + hex.EncodeToString(sum[:8])
}

// pipeAddr is a named pipe's net.Addr.
type pipeAddr string

func (a pipeAddr) Network() string { return "pipe" }
func (a pipeAddr) String() string  { return string(a) }

// pipeListener accepts connections on a named pipe: one pipe instance per Accept.
type pipeListener struct {
	name string
	sa   *windows.SecurityAttributes

	mu      sync.Mutex
	closed  bool
	pending windows.Handle // the instance Accept waits on (closed by Close to end the wait)
	done    chan struct{}
	first   bool
}

func listenPipe(name string) (*pipeListener, error) {
	sd, err := windows.SecurityDescriptorFromString(PipeSDDL)
	if err != nil {
		return nil, fmt.Errorf("localapi: pipe security descriptor: %w", err)
	}
	l := &pipeListener{name: name, done: make(chan struct{}), first: true,
		sa: &windows.SecurityAttributes{Length: uint32(sizeofSA), SecurityDescriptor: sd}}
	// The first instance now, so that a second agent on the same pipe fails here, not in Accept.
	h, err := l.create()
	if err != nil {
		return nil, fmt.Errorf("localapi: listen %s: %w", name, err)
	}
	l.pending = h
	return l, nil
}

var sizeofSA = unsafe.Sizeof(windows.SecurityAttributes{})

func (l *pipeListener) create() (windows.Handle, error) {
	mode := uint32(windows.PIPE_ACCESS_DUPLEX | windows.FILE_FLAG_OVERLAPPED)
	l.mu.Lock()
	if l.first {
		mode |= windows.FILE_FLAG_FIRST_PIPE_INSTANCE
		l.first = false
	}
	l.mu.Unlock()
	name, err := windows.UTF16PtrFromString(l.name)
	if err != nil {
		return 0, err
	}
	return windows.CreateNamedPipe(name, mode,
		windows.PIPE_TYPE_BYTE|windows.PIPE_READMODE_BYTE|windows.PIPE_WAIT|windows.PIPE_REJECT_REMOTE_CLIENTS,
		windows.PIPE_UNLIMITED_INSTANCES, 64<<10, 64<<10, 0, l.sa)
}

func (l *pipeListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil, net.ErrClosed
	}
	h := l.pending
	l.pending = 0
	l.mu.Unlock()
	if h == 0 {
		var err error
		if h, err = l.create(); err != nil {
			return nil, fmt.Errorf("localapi: pipe: %w", err)
		}
	}
	l.mu.Lock()
	l.pending = h
	l.mu.Unlock()
	if err := connectPipe(h, l.done); err != nil {
		l.mu.Lock()
		if l.pending == h {
			l.pending = 0
			windows.CloseHandle(h)
		}
		closed := l.closed
		l.mu.Unlock()
		if closed {
			return nil, net.ErrClosed
		}
		return nil, fmt.Errorf("localapi: pipe connect: %w", err)
	}
	l.mu.Lock()
	l.pending = 0
	l.mu.Unlock()
	return newPipeConn(h, l.name, true), nil
}

// connectPipe waits for a client on instance h (an overlapped ConnectNamedPipe), or until done closes.
func connectPipe(h windows.Handle, done <-chan struct{}) error {
	ev, err := windows.CreateEvent(nil, 1, 0, nil)
	if err != nil {
		return err
	}
	defer windows.CloseHandle(ev)
	ov := &windows.Overlapped{HEvent: ev}
	err = windows.ConnectNamedPipe(h, ov)
	switch {
	case err == nil, errors.Is(err, windows.ERROR_PIPE_CONNECTED):
		return nil
	case !errors.Is(err, windows.ERROR_IO_PENDING):
		return err
	}
	for {
		ev, err := windows.WaitForSingleObject(ev, 200)
		if err != nil {
			return err
		}
		if ev == windows.WAIT_OBJECT_0 {
			var n uint32
			return windows.GetOverlappedResult(h, ov, &n, false)
		}
		select {
		case <-done:
			_ = windows.CancelIoEx(h, ov)
			var n uint32
			_ = windows.GetOverlappedResult(h, ov, &n, true)
			return net.ErrClosed
		default:
		}
	}
}

func (l *pipeListener) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	close(l.done)
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr(l.name) }

// dialSocket connects to the named pipe of path, waiting while every instance is busy.
func dialSocket(ctx context.Context, path string) (net.Conn, error) {
	name := pipeName(path)
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return nil, err
	}
	for {
		h, err := windows.CreateFile(p, windows.GENERIC_READ|windows.GENERIC_WRITE, 0, nil,
			windows.OPEN_EXISTING, windows.FILE_FLAG_OVERLAPPED|windows.SECURITY_SQOS_PRESENT|windows.SECURITY_IDENTIFICATION, 0)
		if err == nil {
			return newPipeConn(h, name, false), nil
		}
		if !errors.Is(err, windows.ERROR_PIPE_BUSY) {
			return nil, &net.OpError{Op: "dial", Net: "pipe", Addr: pipeAddr(name), Err: err}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
