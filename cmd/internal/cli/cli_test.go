package cli

import (
	"flag"
	"strings"
	"testing"
)

func TestHelp(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.String("server", "", "server `URL`")
	fs.Int("n", 50, "print the last `N` lines")
	fs.Bool("json", false, "print JSON")
	fs.Duration("heartbeat", 0, "ping interval")
	c := Command{Name: "login", Synopsis: "--server URL", Summary: "sign in", Help: "More.", JSON: true}
	var b strings.Builder
	c.WriteHelp(&b, "prog [global flags]", fs, "Exit codes: 0\n")
	want := `Usage: prog [global flags] login --server URL [--json]

Sign in.
More.

Flags:
  --heartbeat duration     ping interval
  --json                   print JSON
  -n N                     print the last N lines (default 50)
  --server URL             server URL

Exit codes: 0
`
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
	for _, tc := range []struct {
		c    Command
		want string
	}{
		{Command{Name: "status", Summary: "state", JSON: true}, "  status [--json]          state\n"},
		{Command{Name: "preview", Synopsis: "--job ID [--out FILE]", Summary: "render", JSON: true},
			"  preview --job ID [--out FILE] [--json]\n                           render\n"},
	} {
		var b strings.Builder
		tc.c.WriteEntry(&b)
		if b.String() != tc.want {
			t.Errorf("entry %q, want %q", b.String(), tc.want)
		}
	}
}

func TestFind(t *testing.T) {
	type entry struct {
		Command
		n int
	}
	table := []*entry{{Command{Name: "a"}, 1}, {Command{Name: "b"}, 2}}
	if e := Find(table, "b"); e == nil || e.n != 2 {
		t.Fatalf("b: %v", e)
	}
	if e := Find(table, "c"); e != nil {
		t.Fatalf("c: %v", e)
	}
}
