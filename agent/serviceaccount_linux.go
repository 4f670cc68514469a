package agent

import (
	"errors"
	"fmt"
	"os/exec"
	"os/user"

	"printdock/agent/localapi"
)

// Service account of the systemd unit: its own system user, in the group the udev rule gives the USB
// label printers to. The Debian package's postinst creates both; `printdock-agent install` (a binary
// installed by hand) does it here.
const (
	ServiceUser  = localapi.ServiceAccount
	PrinterGroup = "printdock"
)

// ensureServiceAccount creates the printdock group and the printdock-agent system user when missing.
func ensureServiceAccount() error {
	if _, err := user.LookupGroup(PrinterGroup); err != nil {
		var unknown user.UnknownGroupError
		if !errors.As(err, &unknown) {
			return fmt.Errorf("agent: look up group %s: %w", PrinterGroup, err)
		}
		if out, err := exec.Command("groupadd", "--system", PrinterGroup).CombinedOutput(); err != nil {
			return fmt.Errorf("agent: create group %s: %w: %s", PrinterGroup, err, out)
		}
	}
	if _, err := user.Lookup(ServiceUser); err != nil {
		var unknown user.UnknownUserError
		if !errors.As(err, &unknown) {
			return fmt.Errorf("agent: look up user %s: %w", ServiceUser, err)
		}
		out, err := exec.Command("useradd", "--system", "--gid", PrinterGroup, "--home-dir", "/var/lib/printdock",
			"--no-create-home", "--shell", "/usr/sbin/nologin", "--comment", "printdock agent", ServiceUser).CombinedOutput()
		if err != nil {
			return fmt.Errorf("agent: create user %s: %w: %s", ServiceUser, err, out)
		}
	}
	return nil
}
