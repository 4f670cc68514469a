package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"printdock/internal/clip"
	"printdock/server/events"
	"printdock/server/store"
)

// Retry schedules the attempts of a delivery: the n-th retry waits First·2^(n-1), at most Max, with
// jitter (a random wait between half and all of that); after For since the event, a failed attempt marks
// the delivery failed.
type Retry struct {
	First time.Duration // 5 s
	Max   time.Duration // 1 h
	For   time.Duration // 24 h
}

// Defaults.
const (
	DefaultTimeout   = 10 * time.Second
	DefaultPollEvery = time.Second
	DefaultWorkers   = 8
	claimBatch       = 64
)

func (r Retry) withDefaults() Retry {
	if r.First <= 0 {
		r.First = 5 * time.Second
	}
	if r.Max <= 0 {
		r.Max = time.Hour
	}
	if r.For <= 0 {
		r.For = 24 * time.Hour
	}
	return r
}

// backoff is the wait before the attempt after the attempts-th.
func (r Retry) backoff(attempts int) time.Duration {
	d := r.Max
	if attempts < 40 {
		d = min(r.First<<max(attempts-1, 0), r.Max)
	}
	return d/2 + rand.N(d/2+1)
}

// SenderOptions configure a Sender.
type SenderOptions struct {
	Retry     Retry
	Timeout   time.Duration // per attempt (10 s)
	PollEvery time.Duration // how often due retries are looked for without a new event (1 s)
	Workers   int           // concurrent attempts (8)
}

// Sender delivers the outbox. Several replicas may each run one: a delivery is claimed (leased) by one.
type Sender struct {
	svc    *Service
	bus    *events.Bus
	o      SenderOptions
	client *http.Client
	lease  time.Duration
}

// NewSender returns a Sender for svc's webhooks, woken by bus when events commit.
func NewSender(svc *Service, bus *events.Bus, o SenderOptions) *Sender {
	o.Retry = o.Retry.withDefaults()
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.PollEvery <= 0 {
		o.PollEvery = DefaultPollEvery
	}
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	return &Sender{svc: svc, bus: bus, o: o, client: newClient(svc.o.AllowPrivate, o.Timeout),
		lease: o.Timeout + time.Minute}
}

// Run delivers until ctx is done.
func (s *Sender) Run(ctx context.Context) {
	t := time.NewTimer(s.o.PollEvery)
	defer t.Stop()
	for {
		changed := s.bus.Changed()
		n, err := s.round(ctx)
		if err != nil && ctx.Err() == nil {
			s.svc.log.Warn("webhooks: claim deliveries", "err", err)
		}
		if n > 0 && err == nil {
			continue // more may be due, or released by what was just delivered
		}
		t.Reset(s.o.PollEvery)
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-t.C:
		}
	}
}

// round claims due deliveries and attempts them; it returns how many it claimed.
func (s *Sender) round(ctx context.Context) (int, error) {
	now := s.svc.now()
	ds, err := s.svc.st.ClaimDeliveries(ctx, now, now.Add(s.lease), claimBatch)
	if err != nil || len(ds) == 0 {
		return 0, err
	}
	sem := make(chan struct{}, s.o.Workers)
	var wg sync.WaitGroup
	for _, d := range ds {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			s.attempt(ctx, d)
		}()
	}
	wg.Wait()
	return len(ds), nil
}

// attempt sends one claimed delivery and records the outcome.
func (s *Sender) attempt(ctx context.Context, d store.WebhookDelivery) {
	status, err := s.send(ctx, d)
	if ctx.Err() != nil {
		return // shutting down: the lease runs out and the delivery is claimed again
	}
	now := s.svc.now()
	r := store.DeliveryResult{ID: d.ID, At: now, Status: status, NextAttemptAt: now, State: store.DeliveryDelivered}
	if err != nil {
		r.Error = clip.String(err.Error(), 500)
		r.State, r.NextAttemptAt = store.DeliveryPending, now.Add(s.o.Retry.backoff(d.Attempts))
		if now.Sub(d.CreatedAt) >= s.o.Retry.For {
			r.State = store.DeliveryFailed
		}
		s.svc.log.Info("webhook delivery failed", "webhook_id", d.WebhookID, "delivery_id", d.ID,
			"attempts", d.Attempts, "state", r.State, "err", r.Error)
	}
	if err := s.svc.st.FinishDelivery(context.WithoutCancel(ctx), r); err != nil {
		s.svc.log.Error("webhooks: record delivery", "delivery_id", d.ID, "err", err)
	}
}

// send POSTs the delivery's event, signed; a 2xx answer is success.
func (s *Sender) send(ctx context.Context, d store.WebhookDelivery) (int, error) {
	w, err := s.svc.st.GetWebhook(ctx, d.WebhookID)
	if err != nil {
		return 0, fmt.Errorf("webhook: %w", err)
	}
	es, err := s.svc.st.ListEvents(ctx, store.EventFilter{PortalID: w.PortalID, After: d.EventID - 1, Limit: 1})
	if err != nil || len(es) == 0 || es[0].ID != d.EventID {
		return 0, fmt.Errorf("event %d not found: %v", d.EventID, err)
	}
	body, err := json.Marshal(events.Of(es[0]))
	if err != nil {
		return 0, err
	}
	raw, err := s.svc.open(w.Secret)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	if err := Sign(req.Header, raw, MessageID(d.EventID), s.svc.now(), body); err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "printdock-webhooks")
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxResponse))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			return resp.StatusCode, fmt.Errorf("HTTP %d: redirects are not followed", resp.StatusCode)
		}
		return resp.StatusCode, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}

// Sign sets the Standard Webhooks headers of a message: webhook-id, webhook-timestamp and
// webhook-signature ("v1," + base64 HMAC-SHA256 of "id.timestamp.body" with the raw secret).
func Sign(h http.Header, secret []byte, msgID string, at time.Time, body []byte) error {
	wh, err := standardwebhooks.NewWebhookRaw(secret)
	if err != nil {
		return fmt.Errorf("webhooks: sign: %w", err)
	}
	sig, err := wh.Sign(msgID, at, body)
	if err != nil {
		return fmt.Errorf("webhooks: sign: %w", err)
	}
	h.Set(standardwebhooks.HeaderWebhookID, msgID)
	h.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(at.Unix(), 10))
	h.Set(standardwebhooks.HeaderWebhookSignature, sig)
	return nil
}
