package server_test

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"testing"
	"time"

	"printdock/internal/testenv"
	"printdock/protocol"
	"printdock/server"
	"printdock/server/keys"
	"printdock/server/servertest"
	"printdock/server/store/postgres/pgtest"
)

// TestReplicaAuthCache: a key whose verification replica B has cached (keys' verified-credential cache)
// fails on B once a change made on A reaches B: B drops the cached entry before it logs the key's agents
// out, so from the logout on, B never accepts the key again. A role changed on A is seen on B too.
func TestReplicaAuthCache(t *testing.T) {
	c := newCluster(t, nil)
	a := c.A
	b := c.replica(t, nil)
	onB := func(secret string) (keys.Principal, error) {
		return b.S.Keys.Authenticate(context.Background(), secret, "", "192.0.2.1:1")
	}
	for _, tc := range []struct {
		action, reason string
		want           error
	}{
		{"rotate", protocol.ReasonRotated, keys.ErrUnauthenticated},
		{"revoke", protocol.ReasonRevoked, keys.ErrRevoked},
		{"deactivate", protocol.ReasonDeactivated, keys.ErrInactive},
		{"delete", protocol.ReasonDeleted, keys.ErrUnauthenticated},
	} {
		t.Run(tc.action, func(t *testing.T) {
			k := a.CreatePrintClient(t, "cached on B "+tc.action)
			agent := b.Connect(t, k.Secret, servertest.DialOptions{})
			agent.ExpectAlive(t) // past the hub's own re-check at connect: only the notification logs it out
			// Fill B's cache: later checks are hits.
			for range 3 {
				if _, err := onB(k.Secret); err != nil {
					t.Fatal(err)
				}
			}
			if tc.action == "delete" {
				a.DeleteKey(t, k.ID)
			} else {
				a.KeyAction(t, k.ID, tc.action)
			}
			agent.ExpectLogout(t, tc.reason) // B has processed the notification
			for i := range 100 {
				if _, err := onB(k.Secret); !errors.Is(err, tc.want) {
					t.Fatalf("check %d on B after the logout: %v, want %v", i, err, tc.want)
				}
			}
		})
	}
	t.Run("revoke without an agent", func(t *testing.T) {
		k := a.CreatePrintClient(t, "no agent")
		if _, err := onB(k.Secret); err != nil {
			t.Fatal(err)
		}
		a.KeyAction(t, k.ID, "revoke")
		testenv.WaitFor(t, "B refuses the key revoked on A", func() bool {
			_, err := onB(k.Secret)
			return errors.Is(err, keys.ErrRevoked)
		})
		if _, err := onB(k.Secret); !errors.Is(err, keys.ErrRevoked) {
			t.Fatalf("after the refusal B answers %v", err)
		}
	})
	t.Run("role change", func(t *testing.T) {
		u := a.CreateUser(t, "cached@example.com", keys.RoleUser)
		if p, err := onB(u.APIKey); err != nil || p.Role != keys.RoleUser {
			t.Fatalf("on B: %+v, %v", p, err)
		}
		a.JSON(t, http.MethodPatch, "/api/v1/users/"+u.ID, a.AdminKey, map[string]any{"role": keys.RoleAdmin}, http.StatusOK, nil)
		testenv.WaitFor(t, "B sees the promotion", func() bool {
			p, err := onB(u.APIKey)
			return err == nil && p.Role == keys.RoleAdmin
		})
	})
}

// listenerCluster is a cluster whose replica A's listener terminateListener can kill (application name
// app), without periodic re-checks.
func listenerCluster(t *testing.T) (*cluster, string) {
	app := "pdt_" + pgtest.RandHex(6)
	return newCluster(t, func(cfg *server.Config) {
		cfg.DatabaseURL = pgtest.WithParam(t, cfg.DatabaseURL, "application_name", app)
		cfg.RevalidateEvery = -1
	}), app
}

// TestReplicaAuthCacheMissed: a revoke no notification announced (a tool on the database) is forgotten
// by the cache once the replica's listener reconnects (Missed), with the sessions' re-check.
func TestReplicaAuthCacheMissed(t *testing.T) {
	c, app := listenerCluster(t)
	ks, _, admin := bareServices(t, c)
	k := c.A.CreatePrintClient(t, "missed")
	agent := c.A.Connect(t, k.Secret, servertest.DialOptions{})
	agent.ExpectAlive(t)
	onA := func() error {
		_, err := c.A.S.Keys.Authenticate(context.Background(), k.Secret, "", "192.0.2.1:1")
		return err
	}
	if err := onA(); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.RevokeClientKey(context.Background(), admin, k.ID); err != nil {
		t.Fatal(err)
	}
	if err := onA(); err != nil { // cached, and nothing announced the revoke: the TTL would end it
		t.Fatalf("before the listener reconnects: %v", err)
	}
	terminateListener(t, c.url, app)
	agent.ExpectLogout(t, protocol.ReasonRevoked) // the re-check after Missed, which empties the cache first
	if err := onA(); !errors.Is(err, keys.ErrRevoked) {
		t.Fatalf("after the missed notification: %v, want %v", err, keys.ErrRevoked)
	}
}

// BenchmarkRevokePropagation: a key cached on replica B, with an agent connected to B, is revoked through
// A's REST API; how long until B refuses the key, and until the agent reads its logout, measured from the
// revoke call (and from its answer). Needs PRINTDOCK_TEST_POSTGRES_URL.
func BenchmarkRevokePropagation(b *testing.B) {
	c := newCluster(b, nil)
	rb := c.replica(b, nil)
	ctx := context.Background()
	var fromCall, fromReturn, logout []time.Duration
	for b.Loop() {
		b.StopTimer()
		k := c.A.CreatePrintClient(b, "propagation")
		agent := rb.Connect(b, k.Secret, servertest.DialOptions{})
		agent.ExpectAlive(b)
		loggedOut := make(chan time.Time, 1)
		go func() {
			lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			_ = agent.WaitLogout(lctx, protocol.ReasonRevoked)
			loggedOut <- time.Now()
		}()
		b.StartTimer()
		start := time.Now()
		c.A.KeyAction(b, k.ID, "revoke")
		returned := time.Now()
		for {
			if _, err := rb.S.Keys.Authenticate(ctx, k.Secret, "", "192.0.2.1:1"); err != nil {
				break
			}
			if time.Since(start) > 10*time.Second {
				b.Fatal("B still accepts the key 10 s after the revoke")
			}
			runtime.Gosched() // two cores: leave B's notification loop room to run
		}
		end := time.Now()
		fromCall, fromReturn = append(fromCall, end.Sub(start)), append(fromReturn, end.Sub(returned))
		logout = append(logout, (<-loggedOut).Sub(start))
	}
	ms := func(d []time.Duration, p float64) float64 {
		return float64(percentile(d, p)) / float64(time.Millisecond)
	}
	b.ReportMetric(ms(fromCall, 0.50), "p50-ms-from-call")
	b.ReportMetric(ms(fromCall, 0.99), "p99-ms-from-call")
	b.ReportMetric(ms(fromReturn, 0.99), "p99-ms-after-return")
	b.ReportMetric(ms(logout, 0.50), "logout-p50-ms-from-call")
	b.ReportMetric(ms(logout, 0.99), "logout-p99-ms-from-call")
}
