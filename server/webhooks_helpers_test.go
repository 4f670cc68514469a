package server_test

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// receiver is a webhook endpoint that verifies Standard Webhooks signatures and records what it got. The
// test stops and restarts it on the same address to play an endpoint that is down for a while.
type receiver struct {
	t    *testing.T
	addr string

	mu     sync.Mutex
	srv    *http.Server
	wh     *standardwebhooks.Webhook
	got    []received
	count  map[string]int // webhook-id → deliveries
	forged int            // requests refused for a bad signature
}

type received struct {
	MsgID string
	Type  string
	Data  map[string]any
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &receiver{t: t, addr: ln.Addr().String(), count: map[string]int{}}
	r.serve(ln)
	t.Cleanup(r.stop)
	return r
}

func (r *receiver) URL() string { return "http://" + r.addr + "/hook" }

func (r *receiver) setSecret(secret string) {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		r.t.Fatal(err)
	}
	r.mu.Lock()
	r.wh = wh
	r.mu.Unlock()
}

func (r *receiver) serve(ln net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(r.handle)}
	r.mu.Lock()
	r.srv = srv
	r.mu.Unlock()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			r.t.Errorf("receiver: %v", err)
		}
	}()
}

// stop closes the listener and every connection: the endpoint is down.
func (r *receiver) stop() {
	r.mu.Lock()
	srv := r.srv
	r.mu.Unlock()
	_ = srv.Close()
}

// restart listens on the same address again.
func (r *receiver) restart() {
	ln, err := net.Listen("tcp", r.addr)
	if err != nil {
		r.t.Fatalf("receiver restart: %v", err)
	}
	r.serve(ln)
}

func (r *receiver) handle(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.wh == nil {
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return
	}
	if err := r.wh.Verify(body, req.Header); err != nil {
		r.forged++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var ev struct {
		ID   int64          `json:"id"`
		Type string         `json:"type"`
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	id := req.Header.Get("webhook-id")
	r.count[id]++
	r.got = append(r.got, received{MsgID: id, Type: ev.Type, Data: ev.Data})
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) received() ([]received, map[string]int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := make(map[string]int, len(r.count))
	for k, v := range r.count {
		c[k] = v
	}
	return append([]received(nil), r.got...), c
}

// jobStates returns, per job, the states its job.state_changed events reported, in arrival order.
func jobStates(got []received) map[string][]string {
	out := map[string][]string{}
	for _, g := range got {
		if g.Type != "job.state_changed" {
			continue
		}
		id, _ := g.Data["job_id"].(string)
		to, _ := g.Data["to"].(string)
		out[id] = append(out[id], to)
	}
	return out
}
