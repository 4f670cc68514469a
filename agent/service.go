package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/kardianos/service"

	"printdock/agent/localapi"
)

// ServiceName is the OS service's name (systemd unit printdock-agent.service, Windows service
// "printdock-agent").
const ServiceName = "printdock-agent"

// ServiceOptions say how the service runs the agent.
type ServiceOptions struct {
	// Executable is the agent binary (default: this executable).
	Executable string
	// Args are global flags given to `printdock-agent run` (e.g. --state-dir, --printer).
	Args []string
}

func (o ServiceOptions) executable() (string, error) {
	if o.Executable != "" {
		return o.Executable, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("agent: service: %w", err)
	}
	return exe, nil
}

// ServiceConfig is the kardianos/service configuration: on Linux systemd our own unit (SystemdUnit)
// with Restart=on-failure, StateDirectory and RuntimeDirectory; on Windows an automatic (delayed)
// service restarted 5 s after a failure.
func ServiceConfig(o ServiceOptions) (*service.Config, error) {
	exe, err := o.executable()
	if err != nil {
		return nil, err
	}
	unit, err := SystemdUnit(exe, o.Args)
	if err != nil {
		return nil, err
	}
	return &service.Config{
		Name:        ServiceName,
		DisplayName: "printdock agent",
		Description: "Receives label print jobs from printdock-server and prints them on this computer's printers.",
		Executable:  exe,
		Arguments:   append([]string{"run"}, o.Args...),
		Option: service.KeyValue{
			// Linux (systemd): our unit, rendered in full; the template engine sees no actions in it.
			"SystemdScript": unit,
			"Restart":       "on-failure",
			// Windows service manager.
			"StartType":              "automatic",
			"DelayedAutoStart":       true,
			"OnFailure":              "restart",
			"OnFailureDelayDuration": "5s",
			"OnFailureResetPeriod":   60,
		},
	}, nil
}

// SystemdUnit renders the systemd unit for the agent binary exe run with args. It is also shipped as
// packaging/systemd/printdock-agent.service (for exe /usr/bin/printdock-agent and no args).
func SystemdUnit(exe string, args []string) (string, error) {
	cmd := []string{systemdQuote(exe), "run"}
	for _, a := range args {
		cmd = append(cmd, systemdQuote(a))
	}
	unit := `[Unit]
Description=printdock agent (label printing for printdock-server)
Documentation=file:///usr/share/doc/printdock-agent/packaging.md
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
# Its own system user (made by the package's postinst), in group printdock: the group the udev rule
# (60-printdock.rules) gives the USB label printers to. Never root.
User=printdock-agent
Group=printdock
ExecStart=` + strings.Join(cmd, " ") + `
Restart=on-failure
RestartSec=5s
# /var/lib/printdock: state.json, installation-id, agent.secret (file keystore, 0600), logs/.
# systemd hands the directory to the service user at start (also what "sudo printdock-agent login" wrote).
StateDirectory=printdock
StateDirectoryMode=0700
# /run/printdock/agent.sock: the local API (mode 0660, group printdock; login, logout and logs only
# for root, this user and group printdock-admin, see docs/agent.md)
RuntimeDirectory=printdock
RuntimeDirectoryMode=0755
# /etc/printdock/agent.json: server URL, printers, log level (never the secret); read-only here.
ConfigurationDirectory=printdock
UMask=0077

# Hardening: the agent needs its state directory, the network (server, TCP 9100 printers), USB printer
# device nodes (libusb opens /dev/bus/usb/BBB/DDD; it watches hotplug over netlink) and nothing else.
NoNewPrivileges=yes
CapabilityBoundingSet=
AmbientCapabilities=
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
DevicePolicy=closed
DeviceAllow=char-usb_device rw
ProtectHostname=yes
ProtectClock=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectProc=invisible
ProcSubset=pid
KeyringMode=private
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
RemoveIPC=yes
PrivateMounts=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @resources
SystemCallErrorNumber=EPERM

[Install]
WantedBy=multi-user.target
`
	if strings.Contains(unit, "{{") || strings.Contains(unit, "}}") {
		return "", fmt.Errorf("agent: service: an argument contains {{ or }}")
	}
	return unit, nil
}

// systemdQuote quotes one ExecStart word: specifiers (%) and variables ($) are escaped, and a word
// with spaces, quotes or backslashes is double-quoted.
func systemdQuote(s string) string {
	s = strings.ReplaceAll(s, "%", "%%")
	s = strings.ReplaceAll(s, "$", "$$")
	if s != "" && !strings.ContainsAny(s, " \t\"'\\;") {
		return s
	}
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, `"`, `\"`)
	return `"` + s + `"`
}

// program adapts an Agent to service.Interface.
type program struct {
	a      *Agent
	onFail func(error)
	cancel context.CancelFunc
}

func (p *program) Start(service.Service) error {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	if err := p.a.Start(ctx); err != nil {
		cancel()
		return err
	}
	go func() {
		if err := p.a.Wait(); err != nil && ctx.Err() == nil && p.onFail != nil {
			p.onFail(err)
		}
	}()
	return nil
}

func (p *program) Stop(service.Service) error {
	if p.cancel != nil {
		p.cancel()
	}
	p.a.Stop()
	return nil
}

// NewService returns the OS service for a (a may be nil for install/uninstall/start/stop/status).
// onFail is called when a started agent fails on its own (the caller exits non-zero so that the
// service manager restarts it).
func NewService(a *Agent, o ServiceOptions, onFail func(error)) (service.Service, error) {
	c, err := ServiceConfig(o)
	if err != nil {
		return nil, err
	}
	s, err := service.New(&program{a: a, onFail: onFail}, c)
	if err != nil {
		return nil, fmt.Errorf("agent: service: %w", err)
	}
	return accountInstaller{s}, nil
}

// accountInstaller makes sure the service's account exists before the service is installed (the
// systemd unit runs as User=printdock-agent, Group=printdock; see ensureServiceAccount).
type accountInstaller struct{ service.Service }

func (s accountInstaller) Install() error {
	if err := ensureServiceAccount(); err != nil {
		return err
	}
	return s.Service.Install()
}

// ServiceState asks the service manager whether the service is installed and running.
func ServiceState(o ServiceOptions) localapi.Service {
	out := localapi.Service{Platform: servicePlatform()}
	s, err := NewService(nil, o, nil)
	if err != nil {
		return out
	}
	out.Platform = s.Platform()
	st, err := s.Status()
	switch {
	case errors.Is(err, service.ErrNotInstalled):
	case err != nil:
		out.Installed = true // known to the manager but in an odd state (e.g. failed)
	case st == service.StatusRunning:
		out.Installed, out.Running = true, true
	case st == service.StatusStopped:
		out.Installed = true
	}
	return out
}

func servicePlatform() string { return service.Platform() }

func isInteractive() bool { return service.Interactive() }

func osName() string { return runtime.GOOS + "/" + runtime.GOARCH }

// ServiceEventLog is the OS service's system logger (the Windows Application event log, source
// printdock-agent; syslog on Unix), for Config.EventLog when the agent runs as a service.
func ServiceEventLog() (EventLog, error) {
	s, err := service.New(nopProgram{}, &service.Config{Name: ServiceName})
	if err != nil {
		return nil, fmt.Errorf("agent: service logger: %w", err)
	}
	l, err := s.Logger(nil)
	if err != nil {
		return nil, fmt.Errorf("agent: service logger: %w", err)
	}
	return l, nil
}

type nopProgram struct{}

func (nopProgram) Start(service.Service) error { return nil }
func (nopProgram) Stop(service.Service) error  { return nil }
