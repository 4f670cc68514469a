package main

import (
	"reflect"
	"strings"
	"testing"
)

func TestCommandNames(t *testing.T) {
	for _, tt := range []struct {
		name, help string
		want       []string
	}{
		{"agent", "Usage: a COMMAND\n\nCommands:\n  run                      run it\n  login --server URL [--json]\n                           sign in\n  version [--json]         print\n\nGlobal flags:\n  --state-dir DIR  x\n", []string{"run", "login", "version"}},
		{"subcommands", "Commands:\n  users list --portal ID\n                 list\n  users create --email E\n  keys rotate --id KEY\n", []string{"users list", "users create", "keys rotate"}},
		{"none", "Usage of printdock:\n  -insecure\n    \tlet it\n", nil},
		{"duplicates", "Commands:\n  run  a\n  run  b\n", []string{"run"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := commandNames(tt.help); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("commandNames = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEscape(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"--json", `\-\-json`},
		{`C:\dir`, `C:\edir`},
		{".hidden", `\&.hidden`},
		{"'quote", `\&'quote`},
		{"plain text", "plain text"},
	} {
		if got := escape(tt.in); got != tt.want {
			t.Errorf("escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRender(t *testing.T) {
	p := page{name: "printdock-agent", section: "1", summary: "prints labels", version: "1.2.3", date: "2026-12-05",
		seeAlso:  []string{"printdock-server(8)", "printdock(1)"},
		help:     "Usage: printdock-agent [global flags] COMMAND [flags]\n\n.dot line",
		commands: []command{{name: "run", help: "Usage: printdock-agent run"}}}
	got := render(p)
	for _, want := range []string{
		`.TH "PRINTDOCK\-AGENT" 1 "2026\-12\-05" "printdock 1.2.3" "printdock manual"`,
		".SH NAME\nprintdock\\-agent \\- prints labels\n",
		".B printdock\\-agent\n[global flags] COMMAND [flags]\n",
		"\\&.dot line\n",
		".SS run\n.nf\nUsage: printdock\\-agent run\n.fi\n",
		".BR printdock\\-server (8),\n.BR printdock (1)\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("render lacks %q:\n%s", want, got)
		}
	}
}

func TestCleanHelp(t *testing.T) {
	in := "2026/12/06 00:04:19 Fyne error:  Attempt to access current Fyne app\n2026/12/06 00:04:19   At: app.go:127\nUsage of printdock:\n  -insecure\n    \tlet it\nprintdock: flag: help requested\n"
	want := "Usage of printdock:\n  -insecure\n    \tlet it"
	if got := cleanHelp(in); got != want {
		t.Errorf("cleanHelp = %q, want %q", got, want)
	}
	if !usageLine.MatchString(want) {
		t.Error("usageLine does not match flag's usage header")
	}
}
