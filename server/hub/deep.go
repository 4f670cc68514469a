package hub

import "sync"

// onDeep runs f on another goroutine and waits for it (see Serve: the reader's parked stack stays small).
// The goroutines are pooled, not started per call: a goroutine started for each message cost a start and
// an exit, and grew its stack again for decoding (encoding/json needs more than the first stack), on
// every message of every agent. A pooled one keeps the stack it grew. Every call that finds no idle
// goroutine starts one, so a call that blocks (an ack waiting for room, a hello being awaited) never
// holds up another; at most deepIdle of them wait for work, so idle sessions hold none.
func onDeep(f func()) {
	w := deepWorkers.get()
	w.task <- deepTask{f: f, wait: true}
	<-w.done
	deepWorkers.put(w)
}

// goDeep runs f on a pooled goroutine without waiting for it: the session's short runs (a writer, a
// delivery, an ack worker), each of which would otherwise start a goroutine and grow its stack again.
func goDeep(f func()) {
	deepWorkers.get().task <- deepTask{f: f}
}

// deepIdle bounds the pooled goroutines waiting for work (a few KiB of stack each).
const deepIdle = 8

var deepWorkers deepPool

// deepPool is onDeep's and goDeep's pool. A worker belongs to the caller of onDeep between get and put,
// so its done signal always reaches the call that handed it the task; a goDeep task's worker puts itself
// back when the task returns.
type deepPool struct {
	mu   sync.Mutex
	idle []*deepWorker
}

type deepWorker struct {
	task chan deepTask // room for one, so handing a task never blocks (goDeep is called under locks); closed when the pool has no room for the worker: it ends
	done chan struct{}
}

type deepTask struct {
	f    func()
	wait bool // onDeep's: signal done (the caller puts the worker back)
}

func (p *deepPool) get() *deepWorker {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return w
	}
	p.mu.Unlock()
	w := &deepWorker{task: make(chan deepTask, 1), done: make(chan struct{})}
	go w.run()
	return w
}

func (p *deepPool) put(w *deepWorker) {
	p.mu.Lock()
	if len(p.idle) < deepIdle {
		p.idle = append(p.idle, w)
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	close(w.task)
}

func (w *deepWorker) run() {
	for t := range w.task {
		t.f()
		if t.wait {
			w.done <- struct{}{}
		} else {
			deepWorkers.put(w) // ends the goroutine when the pool is full: close, then range ends
		}
	}
}
