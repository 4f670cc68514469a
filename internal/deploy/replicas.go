package deploy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"printdock/server/keys"
)

// Replicas are printdock-server processes on one PostgreSQL database, sharing the first one's pepper
// (as docs/postgres.md tells operators to).
type Replicas struct {
	Specs   []ServerSpec
	Servers []*Proc
	Key     string // the administrator's API key
}

// ReplicaOptions shape StartReplicas.
type ReplicaOptions struct {
	N         int
	Database  string // the PostgreSQL URL
	Dir       string // data directories and logs: Dir/replica-i, Dir/replica-i.log
	Heartbeat time.Duration
	LogLevel  string
}

// StartReplicas initialises the database and starts o.N replicas on free loopback ports. On an error,
// the replicas already started are stopped.
func StartReplicas(ctx context.Context, b Bins, o ReplicaOptions) (*Replicas, error) {
	r := &Replicas{}
	for i := range o.N {
		port, err := FreePort("127.0.0.1")
		if err != nil {
			return nil, err
		}
		r.Specs = append(r.Specs, ServerSpec{DataDir: filepath.Join(o.Dir, fmt.Sprintf("replica-%d", i)), Database: o.Database,
			Listen: "127.0.0.1:" + strconv.Itoa(port), Heartbeat: o.Heartbeat, LogLevel: o.LogLevel})
	}
	var err error
	if r.Key, err = InitStore(ctx, b, r.Specs[0]); err != nil {
		return nil, err
	}
	pepper, err := os.ReadFile(filepath.Join(r.Specs[0].DataDir, keys.PepperFile))
	if err != nil {
		return nil, err
	}
	for i := range r.Specs {
		if err := r.Start(ctx, b, i, pepper); err != nil {
			r.Stop()
			return nil, err
		}
	}
	return r, nil
}

// Start starts replica i (again), giving its data directory the pepper when not nil.
func (r *Replicas) Start(ctx context.Context, b Bins, i int, pepper []byte) error {
	s := r.Specs[i]
	if pepper != nil {
		if err := os.MkdirAll(s.DataDir, 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(s.DataDir, keys.PepperFile), pepper, 0o600); err != nil {
			return err
		}
	}
	p, err := StartServer(ctx, b, s, s.DataDir+".log")
	if err != nil {
		return err
	}
	for len(r.Servers) <= i {
		r.Servers = append(r.Servers, nil)
	}
	r.Servers[i] = p
	return nil
}

// Upstreams are the replicas' listen addresses.
func (r *Replicas) Upstreams() []string {
	var u []string
	for _, s := range r.Specs {
		u = append(u, s.Listen)
	}
	return u
}

// Stop stops every replica still running.
func (r *Replicas) Stop() {
	for _, s := range r.Servers {
		s.Stop()
	}
}
