package keystore

import (
	"context"
	"fmt"
	"os"
	"slices"

	"github.com/godbus/dbus/v5"
)

const secretServiceName = "org.freedesktop.secrets"

// sessionBusAddress finds an existing session bus the way godbus does (DBUS_SESSION_BUS_ADDRESS, else
// /run/user/<uid>/bus), but never falls back to dbus-launch: a bus autolaunched for us would leave
// dbus-daemon (and a D-Bus-activated gnome-keyring-daemon) running after we exit.
func sessionBusAddress() (string, error) {
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
		return a, nil
	}
	p := fmt.Sprintf("/run/user/%d/bus", os.Getuid())
	if _, err := os.Stat(p); err == nil {
		return "unix:path=" + dbus.EscapeBusAddressValue(p), nil
	}
	return "", fmt.Errorf("%w: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset and %s does not exist)",
		ErrKeyringUnavailable, p)
}

// sessionBusPresent guards every go-keyring call: with no session bus address, go-keyring (godbus) would
// run dbus-launch.
func sessionBusPresent() error {
	_, err := sessionBusAddress()
	return err
}

// secretServiceReady connects to the session bus on a private connection and checks that a Secret Service
// is running there (or, with allowActivation, can be D-Bus-activated). It activates nothing itself.
func secretServiceReady(ctx context.Context, allowActivation bool) error {
	addr, err := sessionBusAddress()
	if err != nil {
		return err
	}
	conn, err := dbus.Dial(addr, dbus.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("%w: connect to session bus: %w", ErrKeyringUnavailable, err)
	}
	defer conn.Close()
	if err := conn.Auth(nil); err != nil {
		return fmt.Errorf("%w: authenticate to session bus: %w", ErrKeyringUnavailable, err)
	}
	if err := conn.Hello(); err != nil {
		return fmt.Errorf("%w: session bus hello: %w", ErrKeyringUnavailable, err)
	}
	var owned bool
	if err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, secretServiceName).
		Store(&owned); err != nil {
		return fmt.Errorf("%w: query session bus: %w", ErrKeyringUnavailable, err)
	}
	if owned {
		return nil
	}
	if !allowActivation {
		return fmt.Errorf("%w: no Secret Service (%s) is running on the session bus", ErrKeyringUnavailable, secretServiceName)
	}
	var names []string
	if err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.ListActivatableNames", 0).
		Store(&names); err != nil {
		return fmt.Errorf("%w: query session bus: %w", ErrKeyringUnavailable, err)
	}
	if !slices.Contains(names, secretServiceName) {
		return fmt.Errorf("%w: no Secret Service (%s) on the session bus", ErrKeyringUnavailable, secretServiceName)
	}
	return nil
}
