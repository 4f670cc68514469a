package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"

	"printdock/protocol"
)

// childConfig is what the parent sends a child process (on its stdin): the server's agent endpoint and
// one print client secret per light agent, with a source address for each (127.0.0.x).
type childConfig struct {
	URL     string   `json:"url"`
	Secrets []string `json:"secrets"`
	Sources []string `json:"sources,omitempty"` // source IPs, used round robin (empty: any)
	Idle    bool     `json:"idle"`              // only connect and stay (no printers message, no job output)
	// IdlePrinters: an idle agent still sends its printers message (one printer), as a real idle agent does.
	IdlePrinters bool     `json:"idle_printers,omitempty"`
	Echo         bool     `json:"echo"`              // a bare websocket (the echo baseline): no hello, just stay
	Devices      []string `json:"devices,omitempty"` // the device ID of each agent (shared secret), by index
	// Full runs full agents instead (procs.go): Names[i] logs in to Base with Secrets[i], state in Dir.
	Full  bool     `json:"full,omitempty"`
	Base  string   `json:"base,omitempty"`
	Dir   string   `json:"dir,omitempty"`
	Names []string `json:"names,omitempty"`
	// CPUProfile: write the process's CPU profile here (until stdin closes).
	CPUProfile string `json:"cpu_profile,omitempty"`
}

// lightChild runs light protocol-level agents (no spool, no printer): each says hello, reports one
// printer light://N, and answers every job at once with the statuses a real agent sends once it has
// printed it (lightStatuses); it writes "title
// unix-nanoseconds" to stdout when a job arrives, "ready N" once N agents are welcomed, and exits when
// stdin closes.
func lightChild(ctx context.Context, in io.Reader, out io.Writer) error {
	dec := json.NewDecoder(in)
	var cfg childConfig
	if err := dec.Decode(&cfg); err != nil {
		return fmt.Errorf("light agents: config: %w", err)
	}
	w := bufio.NewWriter(out)
	var mu sync.Mutex
	emit := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		w.WriteString(s)
		w.Flush()
	}
	if cfg.CPUProfile != "" {
		stop, err := startProfile(cfg.CPUProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	if cfg.Full {
		return fullChild(ctx, cfg, emit, in)
	}
	welcomed := make(chan error, len(cfg.Secrets))
	for i, secret := range cfg.Secrets {
		var src string
		if len(cfg.Sources) > 0 {
			src = cfg.Sources[i%len(cfg.Sources)]
		}
		go func() {
			if err := lightAgent(ctx, cfg, i, secret, src, emit, welcomed); err != nil {
				welcomed <- err // only an agent that was never welcomed returns an error
			}
		}()
		if i%200 == 199 {
			time.Sleep(20 * time.Millisecond) // a connection storm would only measure the accept queue
		}
	}
	for range cfg.Secrets {
		if err := <-welcomed; err != nil {
			return err
		}
	}
	emit(fmt.Sprintf("ready %d\n", len(cfg.Secrets)))
	_, _ = io.Copy(io.Discard, in) // until the parent closes stdin
	return nil
}

// lightAgent connects one agent; it sends nil on welcomed once welcomed, and returns (an error) only if
// it never was.
func lightAgent(ctx context.Context, cfg childConfig, i int, secret, src string, emit func(string), welcomed chan<- error) error {
	tr := &http.Transport{}
	if src != "" {
		tr.DialContext = (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}).DialContext
	}
	h := http.Header{}
	if secret != "" {
		h.Set("Authorization", "Bearer "+secret)
	}
	if i < len(cfg.Devices) {
		h.Set(protocol.DeviceHeader, cfg.Devices[i])
	}
	c, _, err := websocket.Dial(ctx, cfg.URL, &websocket.DialOptions{HTTPClient: &http.Client{Transport: tr}, HTTPHeader: h})
	if err != nil {
		return fmt.Errorf("light agent %d: %w", i, err)
	}
	c.SetReadLimit(protocol.MaxMessageSize)
	if cfg.Echo {
		welcomed <- nil
		if _, _, err := c.Read(ctx); err == nil { // the broadcast baseline's one message
			emit(fmt.Sprintf("logout %d %d\n", i, time.Now().UnixNano()))
			_, _, _ = c.Read(ctx)
		}
		return nil
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	send := func(m protocol.Message) error {
		b, err := protocol.Encode(m)
		if err != nil {
			return err
		}
		return c.Write(ctx, websocket.MessageText, b)
	}
	if err := send(protocol.Hello{ProtocolVersion: protocol.Version, AgentVersion: "bench", Hostname: "light-" + strconv.Itoa(i),
		OS: "linux", InstallationID: "inst-" + hex.EncodeToString(id[:])}); err != nil {
		return fmt.Errorf("light agent %d: hello: %w", i, err)
	}
	ok := false
	batch := false // the server takes job_statuses
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			if !ok {
				return fmt.Errorf("light agent %d: %w", i, err)
			}
			return nil
		}
		m, err := protocol.Decode(b)
		if err != nil {
			continue
		}
		switch m := m.(type) {
		case protocol.Welcome:
			batch = m.Has(protocol.FeatureJobStatuses)
			if !cfg.Idle || cfg.IdlePrinters {
				if err := send(protocol.Printers{Printers: []protocol.Printer{{ID: fmt.Sprintf("light://%d", i),
					Name: "light " + strconv.Itoa(i), Status: "ready", Language: "zpl"}}}); err != nil {
					return err
				}
			}
			ok = true
			welcomed <- nil
		case protocol.Ping:
			_ = send(protocol.Pong{Nonce: m.Nonce})
		case protocol.Job:
			at := time.Now()
			emit(m.Title + " " + strconv.FormatInt(at.UnixNano(), 10) + "\n")
			lightStatuses(send, m.JobID, at, batch)
		case protocol.Logout:
			emit(fmt.Sprintf("logout %d %d\n", i, time.Now().UnixNano()))
		}
	}
}

// lightStatuses reports job id, received at `at`, as a real agent (package agent) does once its job is
// printed — at once here, without a printer: to a server that takes job_statuses (batch), received and
// printing in one job_statuses message, then done as a job_status; to an older server, the three as
// job_status messages. Each At is the agent's UTC time in microseconds, as its spool stores it.
func lightStatuses(send func(protocol.Message) error, id string, at time.Time, batch bool) {
	stamp := func(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
	rec := protocol.JobStatus{JobID: id, State: protocol.JobReceived, At: stamp(at)}
	printing := protocol.JobStatus{JobID: id, State: protocol.JobPrinting, At: stamp(time.Now())}
	if batch {
		_ = send(protocol.JobStatuses{Statuses: []protocol.JobStatus{rec, printing}})
	} else {
		_ = send(rec)
		_ = send(printing)
	}
	_ = send(protocol.JobStatus{JobID: id, State: protocol.JobDone, At: stamp(time.Now())})
}

// runChild is the entry point of a child process (printdock-bench --light-child).
func runChild() {
	raiseNOFILE()
	if err := lightChild(context.Background(), os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "printdock-bench (child):", err)
		os.Exit(1)
	}
}
