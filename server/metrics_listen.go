package server

// The separate metrics listener (Config.MetricsListen, --metrics-listen).
import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"
)

// metricsServer is the listener of Config.MetricsListen; its zero value (no separate listener) is usable.
type metricsServer struct {
	hs   *http.Server
	addr net.Addr
}

// listenMetrics starts serving GET /metrics on Config.MetricsListen, when set.
func (s *Server) listenMetrics(ctx context.Context) (*metricsServer, error) {
	if s.metrics == "" {
		return &metricsServer{}, nil
	}
	ln, err := net.Listen("tcp", s.metrics)
	if err != nil {
		return nil, fmt.Errorf("server: listen for metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.Metrics.Handler())
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		IdleTimeout: 2 * time.Minute, MaxHeaderBytes: MaxHeaderBytes,
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) }}
	a := ln.Addr().String()
	s.metricsAddr.Store(&a)
	s.log.Info("serving metrics", "addr", a)
	go func() {
		if err := hs.Serve(ln); err != nil && err != http.ErrServerClosed {
			s.log.Error("metrics listener", "err", err)
		}
	}()
	return &metricsServer{hs: hs, addr: ln.Addr()}, nil
}

// MetricsAddr is the address the metrics listener is bound to while Serve runs with
// Config.MetricsListen ("" otherwise).
func (s *Server) MetricsAddr() string {
	if a := s.metricsAddr.Load(); a != nil {
		return *a
	}
	return ""
}

func (m *metricsServer) shutdown(ctx context.Context) error {
	if m.hs == nil {
		return nil
	}
	return m.hs.Shutdown(ctx)
}
