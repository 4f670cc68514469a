package keys_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"printdock/protocol"
	"printdock/server/events"
	"printdock/server/keys"
	"printdock/server/store"
)

// TestExpiry: a key works until its expiry, then fails like a revoked one; the sweep logs its agents out
// with reason expired and announces key.expiring 14 and 3 days before.
func TestExpiry(t *testing.T) {
	var mu sync.Mutex
	var changes []keys.Change
	e := newEnv(t, keys.WithChangeHook(func(_ context.Context, c keys.Change) {
		mu.Lock()
		changes = append(changes, c)
		mu.Unlock()
	}))
	actions := func() []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for _, c := range changes {
			out = append(out, c.Action)
		}
		changes = nil
		return out
	}
	k := e.createKey(keys.NewClientKey{Description: "Dock 3"})
	oc, csecret, err := e.svc.CreateOAuthClientWith(e.ctx, e.admin, keys.NewOAuthClient{Description: "WMS", Active: new(true)})
	if err != nil {
		t.Fatal(err)
	}
	p := e.actor(k.Secret).Principal
	start := e.clock.Now()
	at := start.Add(20 * 24 * time.Hour)
	for _, id := range []string{k.Key.ID, oc.ID} {
		if err := e.svc.SetExpiry(e.ctx, e.admin, id, &at); err != nil {
			t.Fatal(err)
		}
		// A future expiry logs nobody out (Reason ""), but caches drop the key (authcache.go).
		if ev := e.nextEvent(); ev.Reason != "" || len(ev.CredentialIDs) != 1 || ev.CredentialIDs[0] != id {
			t.Errorf("set expiry event %+v", ev)
		}
	}
	got, _ := e.svc.GetClientKey(e.ctx, e.admin, k.Key.ID)
	if got.ExpiresAt == nil || !got.ExpiresAt.Equal(at) || keys.ExpiresSoon(got.ExpiresAt, start) {
		t.Fatalf("expiry %v", got.ExpiresAt)
	}
	actions()
	sweep := func(d time.Duration) []string {
		before := e.clock.Now()
		e.clock.Advance(d)
		if err := e.svc.SweepExpiry(e.ctx, before, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		return actions()
	}
	if a := sweep(5 * 24 * time.Hour); len(a) != 0 { // 15 days left
		t.Errorf("15 days before: %v", a)
	}
	if a := sweep(24 * time.Hour); !slices.Equal(a, []string{keys.ActionKeyExpiring, keys.ActionKeyExpiring}) {
		t.Errorf("14 days before: %v", a)
	}
	if !keys.ExpiresSoon(&at, e.clock.Now()) {
		t.Error("not soon 14 days before")
	}
	// Integrations hear of it: one key.expiring event per key in the event log (webhooks, the stream).
	evs, err := e.st.ListEvents(e.ctx, store.EventFilter{PortalID: e.admin.PortalID, Types: []string{events.KeyExpiring}})
	if err != nil || len(evs) != 2 {
		t.Fatalf("key.expiring events: %d, %v", len(evs), err)
	}
	for _, ev := range evs {
		if !strings.Contains(ev.Data, `"expires_at"`) || !strings.Contains(ev.Data, `"kind"`) {
			t.Errorf("key.expiring data %s", ev.Data)
		}
	}
	if a := sweep(11 * 24 * time.Hour); len(a) != 2 { // 3 days left
		t.Errorf("3 days before: %v", a)
	}
	e.wantAuth("before expiry", k.Secret, "", nil)
	if a := sweep(3 * 24 * time.Hour); !slices.Equal(a, []string{keys.ActionKeyExpired, keys.ActionKeyExpired}) {
		t.Errorf("at expiry: %v", a)
	}
	for range 2 {
		if ev := e.nextEvent(); ev.Reason != protocol.ReasonExpired {
			t.Errorf("event %+v", ev)
		}
	}
	e.wantAuth("after expiry", k.Secret, "", keys.ErrExpired)
	if err := e.svc.StillValid(e.ctx, p); !errors.Is(err, keys.ErrExpired) {
		t.Errorf("still valid after expiry: %v", err)
	}
	if _, _, err := e.svc.IssueToken(e.ctx, oc.ID, csecret, "192.0.2.1"); !errors.Is(err, keys.ErrExpired) {
		t.Errorf("token of an expired client: %v", err)
	}
	// Clearing the expiry revives the key; a past expiry logs out at once.
	if err := e.svc.SetExpiry(e.ctx, e.admin, k.Key.ID, nil); err != nil {
		t.Fatal(err)
	}
	if ev := e.nextEvent(); ev.Reason != "" {
		t.Errorf("cleared expiry event %+v", ev)
	}
	e.wantAuth("expiry cleared", k.Secret, "", nil)
	past := e.clock.Now().Add(-time.Minute)
	if err := e.svc.SetExpiry(e.ctx, e.admin, k.Key.ID, &past); err != nil {
		t.Fatal(err)
	}
	if ev := e.nextEvent(); ev.Reason != protocol.ReasonExpired {
		t.Errorf("past expiry event %+v", ev)
	}
	other := e.newPortal("B", "b@example.com")
	if err := e.svc.SetExpiry(e.ctx, other, k.Key.ID, nil); !errors.Is(err, keys.ErrNotFound) {
		t.Errorf("other portal: %v", err)
	}
	user, _ := e.createUser(e.admin, "u@example.com", keys.RoleUser)
	if err := e.svc.SetExpiry(e.ctx, user, k.Key.ID, nil); !errors.Is(err, keys.ErrForbidden) {
		t.Errorf("user: %v", err)
	}
}
