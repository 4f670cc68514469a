// Package xvfbtest owns the real-window run of the desktop app: with the build tag xvfb, its test starts a
// real server (server/servertest), a real agent service with simulated printers (printer/sim) and the real
// cgo printdock binary under an X server, captures each screen with xwd, checks that no capture is blank
// and reports the app's idle memory. scripts/test.d/50-gui-xvfb.sh runs it under xvfb-run and
// dbus-run-session; see docs/gui.md.
package xvfbtest
