package main

import (
	"bytes"
	"encoding/json"
	"testing"
)

// A short run with a few agents keeps the benchmark working; its numbers mean nothing here.
// With --agent-procs the agents run in child processes (this test binary, see TestMain).
func TestBenchSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and agents")
	}
	for _, procs := range []string{"0", "2"} {
		t.Run("agent-procs="+procs, func(t *testing.T) { benchSmoke(t, procs) })
	}
}

func benchSmoke(t *testing.T, procs string) {
	var out bytes.Buffer
	if err := run([]string{"--agents", "3", "--agent-procs", procs, "--rates", "30", "--duration", "300ms", "--json",
		"--data-dir", t.TempDir()}, &out); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Results []Result `json:"results"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if len(got.Results) != 1 {
		t.Fatalf("%s", out.String())
	}
	r := got.Results[0]
	if r.Jobs != 9 || r.Lost != 0 || r.Duplicates != 0 || r.JobP50 <= 0 || r.WSP50 <= 0 {
		t.Fatalf("%+v", r)
	}
}
