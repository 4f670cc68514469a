package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"printdock/printer"
)

// ConfigKeys are the agent.json settings UpdateFileConfig may set (what an installer presets: the
// MSI's SERVER_URL, CA_FILE and STATUS_MODE properties, through `printdock-agent configure`).
var ConfigKeys = []string{"server_url", "ca_file", "status_mode"}

// UpdateFileConfig sets the given agent.json keys (of ConfigKeys) in the file at path, keeping every
// other setting as it is, and writes it back atomically (created, with its directory, when missing).
// A value "" leaves its key unchanged; "-" removes it. The result must be a valid config file.
func UpdateFileConfig(path string, set map[string]string) (FileConfig, error) {
	fields := map[string]json.RawMessage{}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return FileConfig{}, fmt.Errorf("agent: read config: %w", err)
	default:
		if err := json.Unmarshal(b, &fields); err != nil {
			return FileConfig{}, fmt.Errorf("agent: %w %s: %v", ErrConfig, path, err)
		}
	}
	for k, v := range set {
		if !slices.Contains(ConfigKeys, k) {
			return FileConfig{}, fmt.Errorf("agent: %w: %q cannot be set (want one of %v)", ErrConfig, k, ConfigKeys)
		}
		if err := checkConfigValue(k, v); err != nil {
			return FileConfig{}, err
		}
		switch v = strings.TrimSpace(v); v {
		case "":
		case "-":
			delete(fields, k)
		default:
			fields[k], _ = json.Marshal(v)
		}
	}
	out, err := json.MarshalIndent(fields, "", "  ")
	if err != nil {
		return FileConfig{}, fmt.Errorf("agent: config: %w", err)
	}
	out = append(out, '\n')
	var fc FileConfig
	if err := json.Unmarshal(out, &fc); err != nil {
		return FileConfig{}, fmt.Errorf("agent: %w %s: %v", ErrConfig, path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return FileConfig{}, fmt.Errorf("agent: write config: %w", err)
	}
	if err := writeFileAtomic(path, out, 0o644); err != nil {
		return FileConfig{}, fmt.Errorf("agent: write config: %w", err)
	}
	return fc, nil
}

func checkConfigValue(k, v string) error {
	v = strings.TrimSpace(v)
	if v == "" || v == "-" {
		return nil
	}
	switch k {
	case "server_url":
		if !strings.Contains(v, "://") {
			return fmt.Errorf("agent: %w: server_url %q is not a URL (https://…)", ErrConfig, v)
		}
	case "status_mode":
		if _, err := printer.ParseStatusMode(v); err != nil {
			return fmt.Errorf("agent: %w: status_mode: %v", ErrConfig, err)
		}
	}
	return nil
}
