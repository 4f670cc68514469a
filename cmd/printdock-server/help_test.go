package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func runOut(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), err
}

// --help lists every command; every command's -h prints its help on stdout and succeeds.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		out, errs, err := runOut(t, args...)
		if err != nil || errs != "" {
			t.Fatalf("%v: %v %q", args, err, errs)
		}
		for _, c := range commands {
			if !strings.Contains(out, "\n  "+c.Name) {
				t.Errorf("%v lacks %s:\n%s", args, c.Name, out)
			}
		}
		if !strings.Contains(out, "Exit codes:") {
			t.Errorf("%v: no exit codes", args)
		}
	}
	for _, c := range commands {
		name := strings.Fields(c.Name)
		for _, args := range [][]string{append(name, "-h"), append(name, "--help"), append([]string{"help"}, name...)} {
			out, errs, err := runOut(t, args...)
			if err != nil || errs != "" || !strings.HasPrefix(out, "Usage: printdock-server "+c.Name) ||
				!strings.Contains(out, "Exit codes:") {
				t.Errorf("%v: %v %q\n%s", args, err, errs, out)
			}
			if c.JSON && !strings.Contains(out, "--json") {
				t.Errorf("%v: no --json", args)
			}
		}
	}
	for _, g := range groups {
		if out, _, err := runOut(t, g, "-h"); err != nil || !strings.Contains(out, "\n  "+g+" list") {
			t.Errorf("%s -h: %v %q", g, err, out)
		}
	}
	if _, _, err := runOut(t, "version", "--frob"); exitCode(err, &bytes.Buffer{}) != exitUsage {
		t.Errorf("bad flag: %v", err)
	}
}

func TestVersionJSON(t *testing.T) {
	out, _, err := runOut(t, "version", "--json")
	var v map[string]string
	if err != nil || json.Unmarshal([]byte(out), &v) != nil || v["version"] != version {
		t.Fatalf("%v %q", err, out)
	}
	if out, _, err := runOut(t, "version"); err != nil || out != "printdock-server "+version+"\n" {
		t.Fatalf("%v %q", err, out)
	}
}
