package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
)

// runMode runs --mode light, reset, idle or replicas and prints its results.
func runMode(ctx context.Context, o options, dir string, out io.Writer) error {
	raiseNOFILE()
	var v any
	switch o.mode {
	case "light":
		res, best, err := runLight(ctx, o, dir)
		if err != nil {
			return err
		}
		v = map[string]any{"mode": "light", "agents": o.agents, "duration_s": o.duration.Seconds(), "warmup_s": o.warmup.Seconds(), "cpus": runtime.NumCPU(),
			"results": res, "best_rate_p99_under_50ms": best}
		if !o.asJSON {
			fmt.Fprintf(out, "printdock-bench --mode light: the server alone (SQLite), %d light agents in another process, %d CPUs, %s per rate after a %s warm-up\n",
				o.agents, runtime.NumCPU(), o.duration, o.warmup)
			fmt.Fprintf(out, "%6s %6s %9s %6s %5s | %9s %9s %9s | %9s %9s | %12s %10s | %8s\n", "rate/s", "jobs", "achieved", "failed", "lost", "job p50", "job p99", "job max", "ws p50", "ws p99", "WAL restarts", "pause avg", "CPU busy")
			for _, r := range res {
				fmt.Fprintf(out, "%6d %6d %9.1f %6d %5d | %9s %9s %9s | %9s %9s | %12d %10s | %7.0f%%\n", r.Rate, r.Jobs, r.Achieved, r.Failed, r.Lost,
					ms(r.P50), ms(r.P99), ms(r.Max), ms(r.WSP50), ms(r.WSP99), r.WALRestarts, ms(r.WALPauseMean), 100*r.CPUBusy)
			}
			fmt.Fprintln(out, "WAL restarts: the SQLite writer's pauses to finish a checkpoint so that its WAL restarts (every write waits meanwhile); CPU busy: the whole machine's while the rate was offered")
			fmt.Fprintf(out, "highest rate offered with p99 < 50 ms and nothing lost: %d jobs/s\n", best)
			return nil
		}
	case "reset":
		res, err := runReset(ctx, o, dir)
		if err != nil {
			return err
		}
		v = res
		if !o.asJSON {
			fmt.Fprintf(out, "printdock-bench --mode reset: shared-secret reset with %d devices connected (another process)\n", res.Devices)
			fmt.Fprintf(out, "last logout %s after the call (the first %s, the call itself %s) | bare websocket broadcast to as many connections: last arrival %s\n",
				ms(res.LastLogoutAfterCall), ms(res.FirstLogoutAfterCall), ms(res.APICall), ms(res.BroadcastLast))
			return nil
		}
	case "replicas":
		res, err := runReplicaBench(ctx, o, dir)
		if err != nil {
			return err
		}
		res.CPUs = runtime.NumCPU()
		v = res
		if !o.asJSON {
			writeReplicas(out, res)
			return nil
		}
	case "idle":
		res, err := runIdle(ctx, o, dir)
		if err != nil {
			return err
		}
		v = res
		if !o.asJSON {
			fmt.Fprintf(out, "printdock-bench --mode idle: %d idle authenticated agents (another process, %d source addresses)\n", res.Agents, res.Sources)
			fmt.Fprintf(out, "server RSS %.1f KiB/conn, heap+stack %.1f KiB/conn (stack %.1f, heap spans in use %.1f), %.2f goroutines/conn | bare websocket echo: RSS %.1f KiB/conn, heap+stack %.1f KiB/conn (stack %.1f, heap spans in use %.1f)\n",
				res.RSSPerConn/1024, res.HeapStackPerConn/1024, res.StackPerConn/1024, res.HeapInusePerConn/1024, res.GoroutinesPerConn,
				res.EchoRSSPerConn/1024, res.EchoHeapStackPerConn/1024, res.EchoStackPerConn/1024, res.EchoHeapInusePerConn/1024)
			return nil
		}
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
