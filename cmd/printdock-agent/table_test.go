package main

import (
	"encoding/json"
	"strings"
	"testing"

	"printdock/agent"
)

// Every command answers -h (and `help COMMAND`) with its own help on stdout and exit 0, and every
// command that prints data takes --json.
func TestCommandHelp(t *testing.T) {
	top := runCLI(t, "", "--help")
	if top.code != exitOK || top.stderr != "" {
		t.Fatalf("--help: %+v", top)
	}
	for _, c := range commands {
		if !strings.Contains(top.stdout, "\n  "+c.Name) {
			t.Errorf("usage lacks %s", c.Name)
		}
		for _, args := range [][]string{{c.Name, "-h"}, {c.Name, "--help"}, {"help", c.Name}} {
			r := runCLI(t, "", args...)
			if r.code != exitOK || r.stderr != "" || !strings.HasPrefix(r.stdout, "Usage: printdock-agent [global flags] "+c.Name) ||
				!strings.Contains(r.stdout, "Exit codes:") || strings.Contains(r.stdout, "flag: help requested") {
				t.Errorf("%v: %+v", args, r)
			}
			if c.JSON && !strings.Contains(r.stdout, "-json") {
				t.Errorf("%v: no --json in the help", args)
			}
		}
	}
	for _, name := range []string{"status", "printers", "jobs", "preview", "logs", "version", "login", "logout", "test-print"} {
		if c := lookup(name); c == nil || !c.JSON {
			t.Errorf("%s must take --json", name)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"status", "--frob"}, "flag provided but not defined"},
		{[]string{"preview"}, "--job ID is required"},
		{[]string{"logs", "-n", "x"}, "invalid value"},
		{[]string{"version", "extra"}, "unexpected argument"},
		{[]string{}, "Usage:"},
	} {
		r := runCLI(t, "", tc.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: %+v, want exit %d and %q", tc.args, r, exitUsage, tc.want)
		}
	}
}

func TestVersion(t *testing.T) {
	r := runCLI(t, "", "version")
	if r.code != exitOK || r.stdout != "printdock-agent "+agent.Version+"\n" {
		t.Fatalf("version: %+v", r)
	}
	r = runCLI(t, "", "version", "--json")
	var v map[string]string
	if r.code != exitOK || json.Unmarshal([]byte(r.stdout), &v) != nil || v["version"] != agent.Version {
		t.Fatalf("version --json: %+v", r)
	}
}

// logs needs a running agent; without one it fails (exit 1) and opens nothing.
func TestLogsOffline(t *testing.T) {
	dir := shortDir(t)
	r := runCLI(t, "", "--state-dir", dir, "logs", "--json")
	if r.code != exitError || !strings.Contains(r.stderr, "not running") {
		t.Fatalf("logs: %+v", r)
	}
}
