package agent

import (
	"context"
	"sync"
)

// scheduler owns the per-printer workers: each prints its printer's jobs one at a time, in arrival
// order, by calling run (the executor) for each.
type scheduler struct {
	run func(ctx context.Context, id string) // drives one job until it is finished or ctx ends
	wg  sync.WaitGroup

	mu      sync.Mutex // protects the following
	ctx     context.Context
	workers map[string]*worker
}

type worker struct {
	printerID string
	queue     []string // job IDs, in arrival order
	queued    map[string]bool
	wake      chan struct{}
}

func newScheduler(run func(ctx context.Context, id string)) *scheduler {
	return &scheduler{run: run, workers: map[string]*worker{}}
}

// start lets enqueue start workers that live until ctx ends.
func (s *scheduler) start(ctx context.Context) {
	s.mu.Lock()
	s.ctx = ctx
	s.mu.Unlock()
}

// wait waits for the workers after ctx ended.
func (s *scheduler) wait() { s.wg.Wait() }

// enqueue hands job id to printerID's worker (a no-op when it has it already).
func (s *scheduler) enqueue(printerID, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx == nil || s.ctx.Err() != nil {
		return
	}
	w := s.workers[printerID]
	if w == nil {
		w = &worker{printerID: printerID, queued: map[string]bool{}, wake: make(chan struct{}, 1)}
		s.workers[printerID] = w
		ctx := s.ctx
		s.wg.Go(func() { s.work(ctx, w) })
	}
	if w.queued[id] {
		return
	}
	w.queued[id] = true
	w.queue = append(w.queue, id)
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// hasNext reports whether printerID's worker has another job queued after the one it is running.
func (s *scheduler) hasNext(printerID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.workers[printerID]
	return w != nil && len(w.queue) > 1
}

// work prints the printer's jobs one at a time, in order, until ctx ends.
func (s *scheduler) work(ctx context.Context, w *worker) {
	for {
		s.mu.Lock()
		var id string
		if len(w.queue) > 0 {
			id = w.queue[0]
		}
		s.mu.Unlock()
		if id == "" {
			select {
			case <-ctx.Done():
				return
			case <-w.wake:
				continue
			}
		}
		s.run(ctx, id)
		if ctx.Err() != nil {
			return // the job stays open in the spool and resumes after the restart
		}
		s.mu.Lock()
		w.queue = w.queue[1:]
		delete(w.queued, id)
		s.mu.Unlock()
	}
}
