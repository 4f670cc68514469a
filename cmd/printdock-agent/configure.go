package main

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"

	"printdock/agent"
)

// cmdConfigure presets agent.json (the config file the service reads): the server URL, the CA file
// and the status mode. Installers run it (the MSI's SERVER_URL, CA_FILE, STATUS_MODE); a running
// agent reads the file at its next start.
func cmdConfigure(_ context.Context, c *call) error {
	path := c.g.configFile
	if path == "" {
		path = agent.DefaultConfigFile(c.g.stateDir)
	}
	// The installer runs this first: it also creates the state directory (on Windows with a protected
	// DACL, SYSTEM and Administrators only) when the config file lives there.
	if c.g.configFile == "" && runtime.GOOS == "windows" {
		if err := agent.PrepareStateDir(filepath.Dir(path)); err != nil {
			return err
		}
	}
	fc, err := agent.UpdateFileConfig(path, map[string]string{
		"server_url": c.o.server, "ca_file": c.g.caFile, "status_mode": c.o.statusMode,
	})
	if err != nil {
		return err
	}
	if c.o.asJSON {
		return printJSON(c.e.stdout, map[string]string{"config": path, "server_url": fc.ServerURL,
			"ca_file": fc.CAFile, "status_mode": fc.StatusMode})
	}
	fmt.Fprintf(c.e.stdout, "Wrote %s.\n", path)
	return nil
}
