package gui

import (
	"fmt"
	"io/fs"
	"runtime"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"printdock/agent/localapi"
)

func TestSettingsShowsServiceAndCommands(t *testing.T) {
	f := newFake(localapi.Status{State: localapi.StateConnected, InProcess: true, Keystore: "file",
		LogDir: "/var/log/printdock", Version: "1.2.3", Service: localapi.Service{Installed: false}})
	u, a := startUI(t, f, Options{Version: "1.2.3", InProcessNote: "The agent runs inside this app."})
	a.waitFor(t, "status", func() bool { _, ok := u.Status(); return ok })
	s := u.settings
	if s.installed.Text != "No" {
		t.Errorf("installed = %q", s.installed.Text)
	}
	if !strings.Contains(s.running.Text, "inside this app") {
		t.Errorf("running = %q", s.running.Text)
	}
	if !strings.Contains(s.command.Text, "printdock-agent install") {
		t.Errorf("command = %q", s.command.Text)
	}
	if s.install.Visible() {
		t.Error("Install shown for a backend that cannot install")
	}
	if s.openLogs.Disabled() {
		t.Error("Open log folder disabled with a log folder")
	}
	if s.version.Text != "printdock 1.2.3" {
		t.Errorf("version = %q", s.version.Text)
	}
	if !u.status.inProc.Visible() {
		t.Error("the in-process note is not shown on the status screen")
	}
}

func TestSettingsServiceControl(t *testing.T) {
	inProc := localapi.Status{State: localapi.StateConnected, InProcess: true,
		Service: localapi.Service{Platform: "linux-systemd"}}
	agentBin := ServiceAccess{Allowed: true, Agent: "/usr/bin/printdock-agent", FoundIn: "in PATH"}

	t.Run("with rights: install then start", func(t *testing.T) {
		f := &fakeServiceBackend{fakeBackend: newFake(inProc), access: agentBin}
		u, a := startUI(t, f, Options{})
		a.waitFor(t, "status", func() bool { _, ok := u.Status(); return ok })
		a.settle(t, f.fakeBackend)
		s := u.settings
		if !s.install.Visible() || !s.start.Visible() {
			t.Fatal("Install / Start not shown to a user with the rights")
		}
		if s.install.Disabled() || !s.start.Disabled() {
			t.Errorf("not installed: Install disabled=%v, Start disabled=%v", s.install.Disabled(), s.start.Disabled())
		}
		if !strings.HasPrefix(s.installed.Text, "No") {
			t.Errorf("installed = %q", s.installed.Text)
		}
		if want := "/usr/bin/printdock-agent (found in PATH)"; s.agentBin.Text != want {
			t.Errorf("agent program = %q, want %q", s.agentBin.Text, want)
		}
		u.Show(ScreenSettings)
		test.Tap(findButton(t, u.Window().Content(), "Install service"))
		a.waitFor(t, "installed", func() bool { return strings.HasPrefix(s.installed.Text, "Yes") })
		a.settle(t, f.fakeBackend)
		if n, _ := f.calls(); n != 1 {
			t.Errorf("InstallService called %d times", n)
		}
		if s.installed.Text != "Yes (linux-systemd)" {
			t.Errorf("installed = %q", s.installed.Text)
		}
		if !s.install.Disabled() || s.start.Disabled() {
			t.Errorf("installed: Install disabled=%v, Start disabled=%v", s.install.Disabled(), s.start.Disabled())
		}
		if !s.svcMsg.Visible() || s.svcMsg.Text != "The service is installed." {
			t.Errorf("message = %q", s.svcMsg.Text)
		}
		test.Tap(findButton(t, u.Window().Content(), "Start service"))
		a.waitFor(t, "running", func() bool { return strings.HasPrefix(s.running.Text, "Yes") })
		if _, n := f.calls(); n != 1 {
			t.Errorf("StartService called %d times", n)
		}
		// A later status from the agent does not hide what the service manager said.
		later := inProc
		later.Version = "9.9"
		f.Push(later)
		a.waitFor(t, "the later status", func() bool { return strings.Contains(s.version.Text, "agent 9.9") })
		if !strings.HasPrefix(s.installed.Text, "Yes") || !strings.HasPrefix(s.running.Text, "Yes") {
			t.Errorf("after an agent status: installed %q, running %q", s.installed.Text, s.running.Text)
		}
	})

	t.Run("without rights: commands only", func(t *testing.T) {
		acc := agentBin
		acc.Allowed = false
		f := &fakeServiceBackend{fakeBackend: newFake(inProc), access: acc}
		u, a := startUI(t, f, Options{})
		a.waitFor(t, "status", func() bool { _, ok := u.Status(); return ok })
		a.settle(t, f.fakeBackend)
		s := u.settings
		if s.install.Visible() || s.start.Visible() {
			t.Error("Install / Start shown to a user without the rights")
		}
		if !s.command.Visible() || !strings.Contains(s.command.Text, "administrator rights") ||
			!strings.Contains(s.command.Text, serviceCommands(runtime.GOOS, acc)) {
			t.Errorf("command = %q", s.command.Text)
		}
	})

	t.Run("no agent binary: commands only", func(t *testing.T) {
		f := &fakeServiceBackend{fakeBackend: newFake(inProc), access: ServiceAccess{Allowed: true}}
		u, a := startUI(t, f, Options{})
		a.waitFor(t, "status", func() bool { _, ok := u.Status(); return ok })
		a.settle(t, f.fakeBackend)
		s := u.settings
		if s.install.Visible() {
			t.Error("Install shown without an agent binary")
		}
		if !strings.Contains(s.agentBin.Text, "not found") {
			t.Errorf("agent program = %q", s.agentBin.Text)
		}
	})

	t.Run("install error", func(t *testing.T) {
		f := &fakeServiceBackend{fakeBackend: newFake(inProc), access: agentBin,
			installErr: fmt.Errorf("install the service: %w", fs.ErrPermission)}
		u, a := startUI(t, f, Options{})
		a.waitFor(t, "status", func() bool { _, ok := u.Status(); return ok })
		a.settle(t, f.fakeBackend)
		s := u.settings
		u.Show(ScreenSettings)
		test.Tap(findButton(t, u.Window().Content(), "Install service"))
		a.waitFor(t, "the error", func() bool { return strings.HasPrefix(s.svcMsg.Text, "Could not") })
		a.settle(t, f.fakeBackend)
		want := "Could not install the service: this account is not allowed to (it needs administrator rights). Ask IT to run the commands below."
		if s.svcMsg.Text != want || !s.svcMsg.Visible() {
			t.Errorf("message = %q, want %q", s.svcMsg.Text, want)
		}
		if !strings.HasPrefix(s.installed.Text, "No") || s.install.Disabled() {
			t.Errorf("after the error: installed %q, Install disabled=%v", s.installed.Text, s.install.Disabled())
		}
	})
}

func TestServiceCommands(t *testing.T) {
	tests := []struct {
		goos string
		acc  ServiceAccess
		want string
	}{
		{"linux", ServiceAccess{}, "sudo printdock-agent install && sudo printdock-agent start"},
		{"linux", ServiceAccess{Agent: "/usr/bin/printdock-agent", FoundIn: "in PATH"}, "sudo printdock-agent install && sudo printdock-agent start"},
		{"linux", ServiceAccess{Agent: "/opt/print dock/printdock-agent", FoundIn: "next to this app"},
			"sudo '/opt/print dock/printdock-agent' install && sudo '/opt/print dock/printdock-agent' start"},
		{"windows", ServiceAccess{}, "printdock-agent.exe install; if ($?) { printdock-agent.exe start }"},
		{"windows", ServiceAccess{Agent: `C:\Program Files\printdock\printdock-agent.exe`, FoundIn: "next to this app"},
			`& 'C:\Program Files\printdock\printdock-agent.exe' install; if ($?) { & 'C:\Program Files\printdock\printdock-agent.exe' start }`},
	}
	for _, tt := range tests {
		if got := serviceCommands(tt.goos, tt.acc); !strings.HasSuffix(got, "\n  "+tt.want) {
			t.Errorf("%s %+v:\n got %q\nwant …%q", tt.goos, tt.acc, got, tt.want)
		}
	}
}
