package raster

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Start starts the PDF engine in the background, if it has not started yet, and waits until it is ready
// or ctx is done. A server calls it at boot so that the first PDF label does not wait seconds for the
// engine (WebAssembly compilation). Waiting is optional: the engine keeps starting after ctx is done.
func (c *Converter) Start(ctx context.Context) error {
	_, err := c.engine(ctx)
	return err
}

// engine returns the PDF engine, starting it on first use. A failed start is retried on the next call;
// a start outlives the caller that began it, so a timed-out first job does not waste it.
func (c *Converter) engine(ctx context.Context) (*pdfEngine, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, fmt.Errorf("raster: converter closed: %w", ErrUnavailable)
	}
	if c.pdf != nil {
		e := c.pdf
		c.mu.Unlock()
		return e, nil
	}
	if c.starting == nil {
		done := make(chan struct{})
		c.starting = done
		go c.start(done)
	}
	done := c.starting
	c.mu.Unlock()

	select {
	case <-done:
	case <-ctx.Done():
		return nil, fmt.Errorf("raster: pdf engine still starting: %w", ctxErr(ctx))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pdf == nil {
		return nil, fmt.Errorf("raster: start pdf engine: %v: %w", c.startErr, ErrUnavailable)
	}
	return c.pdf, nil
}

func (c *Converter) start(done chan struct{}) {
	defer close(done)
	t0 := time.Now()
	e, err := startPDFEngine(c.lim)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.starting = nil
	switch {
	case err != nil:
		c.startErr = err
		slog.Error("raster: pdf engine did not start", "err", err)
	case c.closed:
		e.close()
	default:
		c.pdf = e
		slog.Info("raster: pdf engine started", "took", time.Since(t0).Round(time.Millisecond), "workers", c.lim.Workers)
	}
}

// Close stops the PDF engine, if it was started; an engine still starting is stopped when it is ready.
// Conversions in progress fail. The Converter cannot be used afterwards.
func (c *Converter) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	if c.pdf == nil {
		return nil
	}
	err := c.pdf.close()
	c.pdf = nil
	return err
}
