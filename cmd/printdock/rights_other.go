//go:build !windows

package main

import "os"

// hasServiceRights reports whether the app runs as root, which installing and starting a systemd
// service needs.
func hasServiceRights() bool { return os.Geteuid() == 0 }
