package main

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// TestMain lets this test binary be the light agents' child process, as printdock-bench is.
func TestMain(m *testing.M) {
	if len(os.Args) == 2 && os.Args[1] == "--light-child" {
		runChild()
		return
	}
	os.Exit(m.Run())
}

// Short runs of the light, idle and reset modes keep them working; their numbers mean nothing here.
func TestModesSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and a child process")
	}
	for _, tc := range []struct {
		mode  string
		args  []string
		check func(map[string]any) bool
	}{
		{"light", []string{"--agents", "2", "--rates", "20", "--duration", "500ms"}, func(m map[string]any) bool {
			rs, _ := m["results"].([]any)
			r, _ := rs[0].(map[string]any)
			return len(rs) == 1 && r["jobs"] == 10.0 && r["lost"] == 0.0 && r["failed"] == 0.0
		}},
		{"idle", []string{"--agents", "5"}, func(m map[string]any) bool { return m["agents"] == 5.0 }},
		{"reset", []string{"--agents", "5"}, func(m map[string]any) bool {
			return m["devices"] == 5.0 && m["last_logout_after_call_ns"].(float64) > 0
		}},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			var out bytes.Buffer
			args := append([]string{"--mode", tc.mode, "--json", "--data-dir", t.TempDir()}, tc.args...)
			if err := run(args, &out); err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(out.Bytes(), &got); err != nil || !tc.check(got) {
				t.Fatalf("%v: %s", err, out.String())
			}
		})
	}
}
