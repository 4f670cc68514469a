package postgres

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// A small connection pool over pgx.Conn. pgxpool would need github.com/jackc/puddle/v2 (and
// golang.org/x/sync), which go.mod does not pin yet; this pool does the little the store needs: at most
// max connections, reuse of idle ones (most recently used first), a ping before reusing a connection idle
// for more than pingIdle, and retirement of connections older than maxLifetime or left in a bad state.
// Every store operation runs on one connection via pool.acquire / pool.release.

const (
	pingIdle    = time.Second
	maxLifetime = time.Hour
	closeWait   = 5 * time.Second
)

var errPoolClosed = errors.New("postgres: store closed")

type pconn struct {
	*pgx.Conn
	born, idleSince time.Time
}

type pool struct {
	cfg   *pgx.ConnConfig
	slots chan struct{} // one token per connection in use or being dialled

	mu     sync.Mutex
	idle   []*pconn
	closed bool
}

func newPool(cfg *pgx.ConnConfig, max int) *pool {
	return &pool{cfg: cfg, slots: make(chan struct{}, max)}
}

func (p *pool) dial(ctx context.Context) (*pconn, error) {
	c, err := pgx.ConnectConfig(ctx, p.cfg)
	if err != nil {
		return nil, err
	}
	return &pconn{Conn: c, born: time.Now()}, nil
}

// acquire returns a connection for the caller's exclusive use; release must follow.
func (p *pool) acquire(ctx context.Context) (*pconn, error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			<-p.slots
			return nil, errPoolClosed
		}
		var c *pconn
		if n := len(p.idle); n > 0 {
			c = p.idle[n-1]
			p.idle[n-1] = nil
			p.idle = p.idle[:n-1]
		}
		p.mu.Unlock()
		if c == nil {
			c, err := p.dial(ctx)
			if err != nil {
				<-p.slots
				return nil, err
			}
			return c, nil
		}
		if c.IsClosed() || time.Since(c.born) > maxLifetime {
			closeConn(c)
			continue
		}
		if time.Since(c.idleSince) > pingIdle {
			if err := c.Ping(ctx); err != nil {
				closeConn(c)
				if ctx.Err() != nil {
					<-p.slots
					return nil, ctx.Err()
				}
				continue
			}
		}
		return c, nil
	}
}

// release returns c to the pool, or closes it when it is unusable, busy, inside a transaction, too old,
// or the pool is closed.
func (p *pool) release(c *pconn) {
	defer func() { <-p.slots }()
	pc := c.PgConn()
	if c.IsClosed() || pc.IsBusy() || pc.TxStatus() != 'I' || time.Since(c.born) > maxLifetime {
		closeConn(c)
		return
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		closeConn(c)
		return
	}
	c.idleSince = time.Now()
	p.idle = append(p.idle, c)
	p.mu.Unlock()
}

// close closes the idle connections; connections in use are closed when released.
func (p *pool) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, c := range idle {
		closeConn(c)
	}
}

func closeConn(c *pconn) {
	ctx, cancel := context.WithTimeout(context.Background(), closeWait)
	defer cancel()
	_ = c.Close(ctx)
}
