package gui

import (
	"context"
	"sync"
	"sync/atomic"

	"printdock/agent/localapi"
)

// fakeBackend is an in-memory agent for the screen tests. Push delivers a Status to every Watch
// stream, as the real agent does on every change.
type fakeBackend struct {
	mu       sync.Mutex
	status   localapi.Status
	watchers map[chan localapi.Status]struct{}
	logins   []localapi.LoginRequest
	prints   []localapi.TestPrintRequest
	jobs     []localapi.Job
	discards []string // DiscardJob calls

	// login answers a Login; nil means "connected at once".
	login func(req localapi.LoginRequest) (localapi.Status, error)
	// testPrint answers a TestPrint; nil means a result without a preview.
	testPrint func(req localapi.TestPrintRequest) (localapi.TestPrintResult, error)

	busy atomic.Int32
}

func newFake(st localapi.Status) *fakeBackend {
	return &fakeBackend{status: st, watchers: map[chan localapi.Status]struct{}{}}
}

func (f *fakeBackend) enter() func() {
	f.busy.Add(1)
	return func() { f.busy.Add(-1) }
}

func (f *fakeBackend) inFlight() int32 { return f.busy.Load() }

func (f *fakeBackend) Status(context.Context) (localapi.Status, error) {
	defer f.enter()()
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status, nil
}

func (f *fakeBackend) Login(_ context.Context, req localapi.LoginRequest) (localapi.Status, error) {
	defer f.enter()()
	f.mu.Lock()
	f.logins = append(f.logins, req)
	login := f.login
	f.mu.Unlock()
	if login != nil {
		return login(req)
	}
	st := localapi.Status{State: localapi.StateConnected, ServerURL: req.ServerURL, Portal: "Acme Logistics",
		KeyKind: "print_client", KeyDesc: "Zebra dock 3"}
	f.Push(st)
	return st, nil
}

func (f *fakeBackend) Logout(context.Context) (localapi.Status, error) {
	defer f.enter()()
	st := localapi.Status{State: localapi.StateNotLoggedIn}
	f.Push(st)
	return st, nil
}

func (f *fakeBackend) Printers(context.Context) ([]localapi.Printer, error) {
	defer f.enter()()
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]localapi.Printer(nil), f.status.Printers...), nil
}

func (f *fakeBackend) TestPrint(_ context.Context, req localapi.TestPrintRequest) (localapi.TestPrintResult, error) {
	defer f.enter()()
	f.mu.Lock()
	f.prints = append(f.prints, req)
	tp := f.testPrint
	f.mu.Unlock()
	if tp != nil {
		return tp(req)
	}
	return localapi.TestPrintResult{PrinterID: req.PrinterID, JobID: "job-1"}, nil
}

func (f *fakeBackend) Jobs(context.Context) ([]localapi.Job, error) {
	defer f.enter()()
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]localapi.Job(nil), f.jobs...), nil
}

func (f *fakeBackend) DiscardJob(_ context.Context, id string) (localapi.Job, error) {
	defer f.enter()()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.discards = append(f.discards, id)
	for i, j := range f.jobs {
		if j.ID == id && j.State == localapi.JobWaiting {
			f.jobs[i].State = localapi.JobCancelled
			return f.jobs[i], nil
		}
	}
	return localapi.Job{}, localapi.NewError(409, localapi.CodeTooLate, "too late", nil)
}

func (f *fakeBackend) Watch(ctx context.Context) <-chan localapi.Status {
	ch := make(chan localapi.Status, 64)
	f.mu.Lock()
	ch <- f.status
	f.watchers[ch] = struct{}{}
	f.mu.Unlock()
	go func() {
		<-ctx.Done()
		f.mu.Lock()
		delete(f.watchers, ch)
		close(ch)
		f.mu.Unlock()
	}()
	return ch
}

// Push makes st the agent's status and sends it to every watcher.
func (f *fakeBackend) Push(st localapi.Status) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status = st
	for ch := range f.watchers {
		select {
		case ch <- st:
		default:
		}
	}
}

func (f *fakeBackend) loginRequests() []localapi.LoginRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]localapi.LoginRequest(nil), f.logins...)
}

func (f *fakeBackend) watcherCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.watchers)
}

// fakeServiceBackend is a fakeBackend that can also install and start the service (ServiceControl);
// nothing is installed for real.
type fakeServiceBackend struct {
	*fakeBackend
	access ServiceAccess

	smu        sync.Mutex
	svc        localapi.Service
	installs   int
	starts     int
	installErr error
}

func (f *fakeServiceBackend) ServiceAccess() ServiceAccess { return f.access }

func (f *fakeServiceBackend) ServiceStatus(context.Context) (localapi.Service, error) {
	defer f.enter()()
	f.smu.Lock()
	defer f.smu.Unlock()
	return f.svc, nil
}

func (f *fakeServiceBackend) InstallService(context.Context) error {
	defer f.enter()()
	f.smu.Lock()
	defer f.smu.Unlock()
	f.installs++
	if f.installErr != nil {
		return f.installErr
	}
	f.svc.Installed = true
	return nil
}

func (f *fakeServiceBackend) StartService(context.Context) error {
	defer f.enter()()
	f.smu.Lock()
	defer f.smu.Unlock()
	f.starts++
	f.svc.Running = true
	return nil
}

func (f *fakeServiceBackend) calls() (installs, starts int) {
	f.smu.Lock()
	defer f.smu.Unlock()
	return f.installs, f.starts
}
