package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/coder/websocket"

	"printdock/client"
	"printdock/server/keys"
)

// ResetResult is a shared-secret reset (reset_devices) with n devices connected: how long until the
// last one has its `logout`, beside a bare coder/websocket server writing one message to as many idle
// connections (the same child process records the arrivals).
type ResetResult struct {
	Devices              int           `json:"devices"`
	LastLogoutAfterCall  time.Duration `json:"last_logout_after_call_ns"`
	FirstLogoutAfterCall time.Duration `json:"first_logout_after_call_ns"`
	APICall              time.Duration `json:"api_call_ns"`
	BroadcastLast        time.Duration `json:"broadcast_last_ns"` // baseline: last arrival of a bare broadcast
}

func runReset(ctx context.Context, o options, dir string) (ResetResult, error) {
	n := o.agents
	res := ResetResult{Devices: n}
	r, err := startServer(ctx, dir)
	if err != nil {
		return res, err
	}
	defer r.close()
	first, err := r.api.CreateKey(ctx, client.NewKey{Description: "device 0", UseSharedSecret: true})
	if err != nil {
		return res, err
	}
	p, err := r.srv.Keys.Authenticate(ctx, r.adminKey, "", "127.0.0.1")
	if err != nil {
		return res, err
	}
	admin := keys.Actor{Principal: p, RemoteAddr: "127.0.0.1"}
	devices := []string{first.ID}
	for i := 1; i < n; i++ {
		c, err := r.srv.Keys.CreateClientKey(ctx, admin, keys.NewClientKey{Description: fmt.Sprintf("device %d", i), UseSharedSecret: true})
		if err != nil {
			return res, err
		}
		devices = append(devices, c.Key.ID)
	}
	ch, err := startChild(ctx, childConfig{URL: agentURL(r.base), Secrets: repeatTo([]string{first.Secret}, n), Devices: devices,
		Sources: idleSources(n), Idle: true})
	if err != nil {
		return res, err
	}
	defer ch.stop()
	if err := waitUntil(time.Minute, func() bool { return r.srv.Hub.Count() == n }); err != nil {
		return res, fmt.Errorf("%d of %d devices connected: %w", r.srv.Hub.Count(), n, err)
	}
	body, _ := json.Marshal(map[string]any{"confirmation": keys.SharedResetConfirmation, "reset_devices": true})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, r.base+"/api/v1/shared-secret/reset", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+r.adminKey)
	req.Header.Set("Content-Type", "application/json")
	stopProfile, err := startCPUProfile(o.cpuProfile)
	if err != nil {
		return res, err
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return res, err
	}
	resp.Body.Close()
	res.APICall = time.Since(start)
	if resp.StatusCode != http.StatusOK {
		return res, fmt.Errorf("shared secret reset: HTTP %d", resp.StatusCode)
	}
	if err := waitUntil(time.Minute, func() bool { return ch.logouts() == n }); err != nil {
		return res, fmt.Errorf("%d of %d devices got logout: %w", ch.logouts(), n, err)
	}
	res.LastLogoutAfterCall = ch.lastLogout().Sub(start)
	res.FirstLogoutAfterCall = ch.firstLogout().Sub(start)
	stopProfile()
	res.BroadcastLast, err = broadcastBaseline(ctx, n)
	return res, err
}

// broadcastBaseline: a bare coder/websocket server with n idle connections (another process) writes one
// message to each; the time until the last arrives.
func broadcastBaseline(ctx context.Context, n int) (time.Duration, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	var mu sync.Mutex
	var conns []*websocket.Conn
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		c, err := websocket.Accept(w, req, nil)
		if err != nil {
			return
		}
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
		<-req.Context().Done()
	})}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	ch, err := startChild(ctx, childConfig{URL: "ws://" + ln.Addr().String() + "/", Secrets: make([]string, n), Sources: idleSources(n), Idle: true, Echo: true})
	if err != nil {
		return 0, err
	}
	defer ch.stop()
	if err := waitUntil(time.Minute, func() bool { mu.Lock(); defer mu.Unlock(); return len(conns) == n }); err != nil {
		return 0, err
	}
	start := time.Now()
	mu.Lock()
	var wg sync.WaitGroup
	for _, c := range slices.Clone(conns) {
		wg.Go(func() { _ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"logout","reason":"rotated"}`)) })
	}
	mu.Unlock()
	wg.Wait()
	if err := waitUntil(time.Minute, func() bool { return ch.logouts() == n }); err != nil {
		return 0, err
	}
	return ch.lastLogout().Sub(start), nil
}

// startCPUProfile profiles the CPU into path until the returned func is called (nothing when path is
// empty).
func startCPUProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	return startProfile(path)
}
