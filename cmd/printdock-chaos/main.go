// Command printdock-chaos is printdock's chaos suite: real printdock-server and printdock-agent
// binaries (built by it) in separate processes, simulated Zebras served over tcp:// from this process,
// and one fault per scenario while jobs are submitted through the REST API. Every scenario is bounded
// in time and count, and counts, by the marker each label carries, what the printers received: a job
// the server accepted (201) must print exactly once, a job it refused must never print.
//
//	go run ./cmd/printdock-chaos [--short] [--only kill9,pgrestart,linkcut,diskfull,agentdisk,replicas] [--json]
//
// Scenarios (docs/benchmarks.md has the table of a run):
//   - kill9: kill -9 the server (SQLite) during a 500 jobs/s burst, restart it.
//   - pgrestart: PostgreSQL stopped and restarted mid-burst (scripts/pg-throwaway.sh): 503 with
//     Retry-After while it is down, recovery without a restart of the server.
//   - linkcut: an agent in its own network namespace, its veth link cut by 100% loss (tc netem) without
//     a close: both sides notice within three heartbeats, the agent reconnects when the link returns.
//   - diskfull: the server's data directory on a small tmpfs filled up: 507 with a clear error, the store
//     intact, service back when space returns.
//   - agentdisk: the agent's state directory on a full tmpfs: it refuses jobs with a reason the server
//     shows, and recovers.
//   - replicas: three replicas on PostgreSQL behind nginx; kill -9 one under load.
//
// It needs root (network namespaces, tmpfs mounts), iproute2, nginx and PostgreSQL's server binaries;
// a scenario whose part is missing fails (or, with --skip-missing, is skipped).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"printdock/internal/deploy"
)

// Result is one scenario's outcome.
type Result struct {
	Name     string        `json:"name"`
	Fault    string        `json:"fault"`
	Pass     bool          `json:"pass"`
	Skipped  bool          `json:"skipped,omitempty"`
	Tally    tally         `json:"tally"`
	Recovery []Measure     `json:"recovery"`
	Note     string        `json:"note,omitempty"`
	Error    string        `json:"error,omitempty"`
	Elapsed  time.Duration `json:"elapsed_ns"`
}

// Measure is one named recovery time and its bound.
type Measure struct {
	What  string        `json:"what"`
	Took  time.Duration `json:"took_ns"`
	Bound time.Duration `json:"bound_ns,omitempty"`
}

func (m Measure) ok() bool { return m.Bound == 0 || m.Took <= m.Bound }

// env is what every scenario gets.
type env struct {
	bins  bins
	dir   string // a scratch directory of the scenario
	short bool
	repo  string // the module's root (scripts/)
}

type scenario struct {
	name, fault string
	run         func(ctx context.Context, e env, r *Result) error
}

var scenarios = []scenario{
	{"kill9", "kill -9 the server (SQLite) during a 500 jobs/s burst, restart it", runKill9},
	{"pgrestart", "PostgreSQL stopped and restarted mid-burst", runPGRestart},
	{"linkcut", "agent in its own netns, its veth link cut without a close (tc netem 100% loss, or both ends down), then restored", runLinkCut},
	{"diskfull", "server data directory on a full tmpfs; space freed", runDiskFull},
	{"agentdisk", "agent state directory on a full tmpfs; space freed", runAgentDisk},
	{"replicas", "3 replicas on PostgreSQL behind nginx: kill -9 one under load", runReplicas},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	results, err := run(ctx, os.Args[1:], os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "printdock-chaos:", err)
		os.Exit(1)
	}
	for _, r := range results {
		if !r.Pass && !r.Skipped {
			os.Exit(1)
		}
	}
}

func run(ctx context.Context, args []string, out io.Writer) ([]Result, error) {
	fs := flag.NewFlagSet("printdock-chaos", flag.ContinueOnError)
	short := fs.Bool("short", false, "the short form (the test command's): smaller bursts, same faults")
	only := fs.String("only", "", "comma-separated scenarios to run (default: all)")
	asJSON := fs.Bool("json", false, "print JSON")
	binDir := fs.String("bin-dir", "", "use printdock-server and printdock-agent from this directory instead of building them")
	keep := fs.String("keep", "", "keep the scratch directory here (logs, data)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if os.Geteuid() != 0 {
		return nil, errors.New("needs root: network namespaces and tmpfs mounts")
	}
	repo, err := deploy.ModuleRoot()
	if err != nil {
		return nil, err
	}
	dir := *keep
	if dir == "" {
		if dir, err = os.MkdirTemp("", "printdock-chaos-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	_ = os.Chmod(dir, 0o755) // PostgreSQL runs as postgres under it
	var b bins
	if *binDir != "" {
		b = bins{Server: *binDir + "/printdock-server", Agent: *binDir + "/printdock-agent"}
	} else if b, err = deploy.Build(ctx, repo, dir+"/bin"); err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, n := range strings.Split(*only, ",") {
		if n = strings.TrimSpace(n); n != "" {
			want[n] = true
		}
	}
	var results []Result
	for _, s := range scenarios {
		if len(want) > 0 && !want[s.name] {
			continue
		}
		r := Result{Name: s.name, Fault: s.fault}
		sdir := dir + "/" + s.name
		if err := os.MkdirAll(sdir, 0o755); err != nil {
			return nil, err
		}
		t0 := time.Now()
		sctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
		err := s.run(sctx, env{bins: b, dir: sdir, short: *short, repo: repo}, &r)
		cancel()
		r.Elapsed = time.Since(t0).Round(time.Millisecond)
		if err != nil {
			r.Error = err.Error()
		}
		r.Pass = err == nil && r.Tally.Lost == 0 && r.Tally.Duplicated == 0 && r.Tally.Phantom == 0 && r.Tally.Accepted > 0
		for _, m := range r.Recovery {
			r.Pass = r.Pass && m.ok()
		}
		fmt.Fprintf(os.Stderr, "printdock-chaos: %s: pass=%v in %s %s\n", r.Name, r.Pass, r.Elapsed, r.Error)
		results = append(results, r)
	}
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return results, enc.Encode(map[string]any{"short": *short, "cpus": runtime.NumCPU(), "results": results})
	}
	fmt.Fprint(out, Table(results))
	return results, nil
}

// Table renders results as a Markdown table.
func Table(results []Result) string {
	var b strings.Builder
	b.WriteString("| scenario | fault | accepted / refused / no answer | lost | printed twice | refused but printed | recovery | result |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|\n")
	for _, r := range results {
		var rec []string
		for _, m := range r.Recovery {
			s := fmt.Sprintf("%s %s", m.What, fmtDur(m.Took))
			if m.Bound > 0 {
				s += fmt.Sprintf(" (bound %s)", fmtDur(m.Bound))
			}
			rec = append(rec, s)
		}
		res := "pass"
		switch {
		case r.Skipped:
			res = "skipped"
		case !r.Pass:
			res = "FAIL"
		}
		if r.Error != "" {
			res += ": " + strings.ReplaceAll(r.Error, "|", "/")
		}
		if r.Note != "" {
			res += "; " + r.Note
		}
		t := r.Tally
		fmt.Fprintf(&b, "| %s | %s | %d / %d / %d | %d | %d | %d | %s | %s |\n", r.Name, r.Fault, t.Accepted, t.Refused, t.Ambiguous,
			t.Lost, t.Duplicated, t.Phantom, strings.Join(rec, "; "), res)
	}
	return b.String()
}

func fmtDur(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}
