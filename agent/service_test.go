package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The unit we hand kardianos/service (option SystemdScript) is rendered by us; check what systemd gets.
func TestSystemdUnit(t *testing.T) {
	unit, err := SystemdUnit("/usr/bin/printdock-agent", []string{"--state-dir", "/srv/print dock", "--printer", "tcp://10.0.0.5:9100", "--log-level", "50%"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"\n[Service]\n",
		"\nExecStart=/usr/bin/printdock-agent run --state-dir \"/srv/print dock\" --printer tcp://10.0.0.5:9100 --log-level 50%%\n",
		"\nRestart=on-failure\n",
		"\nRestartSec=5s\n",
		"\nStateDirectory=printdock\n",
		"\nStateDirectoryMode=0700\n",
		"\nRuntimeDirectory=printdock\n",
		"\nConfigurationDirectory=printdock\n",
		"\nAfter=network-online.target\n",
		"\nWantedBy=multi-user.target\n",
		"\nNoNewPrivileges=yes\n",
		"\nProtectSystem=strict\n",
	} {
		if !strings.Contains(unit, want) {
			t.Errorf("unit lacks %q", strings.TrimSpace(want))
		}
	}
	for _, bad := range []string{"{{", "Restart=always", "PrivateDevices", "RestartSec=120"} {
		if strings.Contains(unit, bad) {
			t.Errorf("unit contains %q", bad)
		}
	}
	if _, err := SystemdUnit("/usr/bin/printdock-agent", []string{"{{Path}}"}); err == nil {
		t.Error("an argument with template braces must be refused")
	}
}

// packaging/systemd/printdock-agent.service is the unit for the packaged binary: keep it in sync.
func TestPackagedUnitInSync(t *testing.T) {
	want, err := SystemdUnit("/usr/bin/printdock-agent", nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "packaging", "systemd", "printdock-agent.service")
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("%s is out of date; regenerate it with SystemdUnit(\"/usr/bin/printdock-agent\", nil):\n%s", path, want)
	}
}

func TestServiceConfig(t *testing.T) {
	c, err := ServiceConfig(ServiceOptions{Executable: `C:\Program Files\printdock\printdock-agent.exe`, Args: []string{"--keystore", "keyring"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "printdock-agent" || c.DisplayName == "" || c.Description == "" {
		t.Fatalf("names: %+v", c)
	}
	if strings.Join(c.Arguments, " ") != "run --keystore keyring" {
		t.Fatalf("arguments %v", c.Arguments)
	}
	opt := c.Option
	// Windows service manager: automatic (delayed) start, restart 5 s after a failure.
	checks := map[string]any{
		"StartType":              "automatic",
		"DelayedAutoStart":       true,
		"OnFailure":              "restart",
		"OnFailureDelayDuration": "5s",
		"OnFailureResetPeriod":   60,
		"Restart":                "on-failure",
	}
	for k, v := range checks {
		if opt[k] != v {
			t.Errorf("option %s = %v, want %v", k, opt[k], v)
		}
	}
	unit, _ := opt["SystemdScript"].(string)
	if !strings.Contains(unit, `ExecStart="C:\\Program Files\\printdock\\printdock-agent.exe" run --keystore keyring`) {
		t.Errorf("SystemdScript ExecStart:\n%s", unit)
	}
}

func TestServiceStateNotInstalled(t *testing.T) {
	st := ServiceState(ServiceOptions{Executable: "/nonexistent/printdock-agent"})
	if st.Platform == "" {
		t.Fatal("no platform")
	}
	// This machine never has the agent installed as a service by the tests.
	if st.Running {
		t.Fatalf("service reported running: %+v", st)
	}
}
