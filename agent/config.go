package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"printdock/agent/localapi"
	"printdock/keystore"
	"printdock/printer"
	"printdock/printer/registry"
)

// Config configures an Agent. The zero value of every field has a sensible default.
type Config struct {
	// ServerURL is the server to use when the agent was never logged in through Login (a preset from
	// the config file). A login's URL is remembered in the state directory and wins over this one.
	ServerURL string
	// StateDir holds the installation ID, the agent's state (state.json), the file keystore, the
	// socket (for unprivileged agents) and logs. Default: localapi.DefaultStateDir().
	StateDir string
	// Keystore is keystore.ModeAuto ("" too), ModeKeyring or ModeFile.
	Keystore string
	// Printers are printer URIs the agent cannot discover (tcp://host:9100, sim://name).
	Printers []string
	// Insecure allows ws:// and http:// to a server that is not on loopback. It never disables
	// certificate checks: use CAFile for a private CA.
	Insecure bool
	// CAFile is a PEM file with extra CA certificates trusted for the server (besides the system's).
	CAFile string
	// LogLevel is debug, info (default), warn or error. Ignored when Logger is set.
	LogLevel string
	// Heartbeat is how often the agent pings the server; 3 silent intervals are a dead link. Zero
	// means the server's heartbeat_seconds from welcome, or 30s.
	Heartbeat time.Duration
	// SocketPath is where the local API listens. "" means localapi.DefaultSocketPath(StateDir);
	// "-" means no socket (the in-memory Client still works).
	SocketPath string
	// LogFile, when true, also writes the log to <StateDir>/logs/agent.log (rotated at 5 MiB).
	LogFile bool
	// AdminGroup is the group whose members may sign the agent in or out and read its logs through the
	// local API, besides root and the agent's own user (Linux; "" means localapi.DefaultAdminGroup,
	// "printdock-admin"; "-" none). Other users who can connect get the read-only routes and test-print.
	AdminGroup string

	// PrinterProblem is what a job does when its printer cannot print (out of media, head open,
	// paused, ribbon out, not answering, unplugged): PolicyWait ("wait", the default: keep it, report
	// failed with retry once, print when the printer is ready again) or PolicyFail ("fail").
	PrinterProblem string
	// Interrupted is what happens to a job whose bytes may have reached the printer without the agent
	// learning that the write completed (docs/spool.md): InterruptedFail ("fail", the default: report
	// it failed, "interrupted: may have printed; check the printer") or InterruptedReprint ("reprint").
	Interrupted string
	// SpoolRetention is how long finished jobs stay in the spool (default 7 days); SpoolKeep bounds
	// how many (default 10000; negative: no bound).
	SpoolRetention time.Duration
	SpoolKeep      int
	// PrinterRetryMin and PrinterRetryMax bound the backoff between looks at a printer a job waits
	// for (defaults 250ms and 10s).
	PrinterRetryMin time.Duration
	PrinterRetryMax time.Duration

	// Logger receives the agent's logs (nil: a text logger on stderr at LogLevel).
	Logger *slog.Logger
	// EventLog also receives the important lines (warnings, errors, start, stop, connected, login,
	// logout): the Windows event log when the agent runs as a service (ServiceEventLog).
	EventLog EventLog
	// Backoff is the reconnect policy (zero fields: DefaultBackoff).
	Backoff Backoff
	// PrinterSettings override what the agent knows of printers, by printer URI: command language,
	// status mode (auto, zpl, none) and dpi (the config file's "printers" map). See docs/agent.md.
	PrinterSettings map[string]PrinterSettings
	// StatusMode is the status mode (auto, zpl, none) of printers that neither their settings nor their
	// URI give one ("" means auto).
	StatusMode string
	// OpenPrinter opens a printer by URI (nil: registry.Open: tcp://, sim://, usb://, winspool://).
	OpenPrinter func(ctx context.Context, uri string) (printer.Printer, error)
	// PrinterSources discover printers (nil: registry.DefaultSources(), USB and the Windows spooler,
	// unless NoDiscovery).
	PrinterSources []registry.Source
	NoDiscovery    bool
	// PrinterPoll is how often printers are asked for their status (default 10s).
	PrinterPoll time.Duration
	// Store overrides the keystore (nil: keystore.Open(ctx, Keystore, StateDir)).
	Store keystore.Store
	// InProcess marks an agent that runs inside the desktop app (reported in Status).
	InProcess bool
	// Version is reported in hello and Status (default Version).
	Version string
	// Hostname is reported in hello (default os.Hostname()).
	Hostname string
	// LoginWait bounds how long Login waits for the new session to connect before returning (default
	// 5s); Login returns earlier as soon as the session is connected or failed.
	LoginWait time.Duration
	// PeerCred reads a local API caller's credentials (nil: localapi.PeerCred; tests inject others).
	PeerCred func(net.Conn) (*localapi.Peer, error)
}

// Version is this build's agent version (set with -ldflags "-X printdock/agent.Version=…").
var Version = "dev"

// ConfigFileName is the config file's name.
const ConfigFileName = "agent.json"

// FileConfig is the config file (agent.json): non-secret settings an administrator may preset. The
// secret is never in it (it lives in the keystore).
type FileConfig struct {
	ServerURL        string   `json:"server_url,omitempty"`
	Printers         []string `json:"printers,omitempty"`
	LogLevel         string   `json:"log_level,omitempty"`
	Keystore         string   `json:"keystore,omitempty"`
	Insecure         bool     `json:"insecure,omitempty"`
	CAFile           string   `json:"ca_file,omitempty"`
	HeartbeatSeconds int      `json:"heartbeat_seconds,omitempty"`
	// Job policies (see Config): "wait" or "fail"; "fail" or "reprint"; days.
	PrinterProblem     string `json:"printer_problem,omitempty"`
	Interrupted        string `json:"interrupted,omitempty"`
	SpoolRetentionDays int    `json:"spool_retention_days,omitempty"`
	// AdminGroup: see Config.AdminGroup.
	AdminGroup string `json:"admin_group,omitempty"`
	// StatusMode: see Config.StatusMode (the MSI's STATUS_MODE property writes it).
	StatusMode string `json:"status_mode,omitempty"`

	// PrinterSettings is the object form of "printers": {"tcp://10.0.0.5:9100": {"language": "epl",
	// "status_mode": "none", "dpi": 203}, …}. Each key is also a printer URI the agent uses (except
	// usb:// and winspool://, which are discovered). The list form ["tcp://…", …] sets Printers only.
	PrinterSettings map[string]PrinterSettings `json:"-"`
}

// UnmarshalJSON reads the config file, whose "printers" is a list of URIs or a map of URI to
// PrinterSettings. Unknown fields are errors.
func (fc *FileConfig) UnmarshalJSON(b []byte) error {
	type plain FileConfig
	var aux struct {
		plain
		Printers json.RawMessage `json:"printers,omitempty"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&aux); err != nil {
		return err
	}
	*fc = FileConfig(aux.plain)
	fc.Printers, fc.PrinterSettings = nil, nil
	raw := bytes.TrimSpace(aux.Printers)
	switch {
	case len(raw) == 0 || string(raw) == "null":
	case raw[0] == '{':
		d := json.NewDecoder(bytes.NewReader(raw))
		d.DisallowUnknownFields()
		if err := d.Decode(&fc.PrinterSettings); err != nil {
			return fmt.Errorf("printers: %w", err)
		}
		for uri := range fc.PrinterSettings {
			if s, _, _ := strings.Cut(strings.ToLower(uri), "://"); s != registry.SchemeUSB && s != registry.SchemeWinspool {
				fc.Printers = append(fc.Printers, uri)
			}
		}
		slices.Sort(fc.Printers)
	default:
		if err := json.Unmarshal(raw, &fc.Printers); err != nil {
			return fmt.Errorf("printers: want a list of URIs or a map of URI to settings: %w", err)
		}
	}
	return nil
}

// DefaultConfigFile is where the config file is read from: <stateDir>/agent.json when a state
// directory was given explicitly; else /etc/printdock/agent.json for root on Linux and Unix,
// %ProgramData%\printdock\agent.json on Windows, and <user config dir>/printdock/agent.json for an
// unprivileged user (which is also the default state directory).
func DefaultConfigFile(explicitStateDir string) string {
	if explicitStateDir != "" {
		return filepath.Join(explicitStateDir, ConfigFileName)
	}
	if localapi.Privileged() && runtime.GOOS != "windows" {
		return "/etc/printdock/" + ConfigFileName
	}
	return filepath.Join(localapi.DefaultStateDir(), ConfigFileName)
}

// ErrConfig wraps every problem with the config file.
var ErrConfig = errors.New("bad config file")

// LoadFileConfig reads path. A missing file is an empty config, not an error.
func LoadFileConfig(path string) (FileConfig, error) {
	var fc FileConfig
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return fc, nil
	}
	// Windows: %ProgramData%\printdock\agent.json only when SYSTEM or Administrators own it.
	if err := checkConfigFile(path); err != nil {
		return fc, err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fc, nil
	}
	if err != nil {
		return fc, fmt.Errorf("agent: read config: %w", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fc); err != nil {
		return fc, fmt.Errorf("agent: %w %s: %v", ErrConfig, path, err)
	}
	if strings.Contains(string(b), "pdc_") || strings.Contains(string(b), "pdu_") || strings.Contains(string(b), "pds_") {
		return fc, fmt.Errorf("agent: %w %s: it must not contain a secret (use printdock-agent login)", ErrConfig, path)
	}
	return fc, nil
}

// Apply fills the unset fields of c from fc (flags win over the file).
func (fc FileConfig) Apply(c *Config) {
	if c.ServerURL == "" {
		c.ServerURL = fc.ServerURL
	}
	c.Printers = append(append([]string(nil), fc.Printers...), c.Printers...)
	if c.LogLevel == "" {
		c.LogLevel = fc.LogLevel
	}
	if c.Keystore == "" {
		c.Keystore = fc.Keystore
	}
	c.Insecure = c.Insecure || fc.Insecure
	if c.CAFile == "" {
		c.CAFile = fc.CAFile
	}
	if c.Heartbeat == 0 && fc.HeartbeatSeconds > 0 {
		c.Heartbeat = time.Duration(fc.HeartbeatSeconds) * time.Second
	}
	if c.PrinterProblem == "" {
		c.PrinterProblem = fc.PrinterProblem
	}
	if c.Interrupted == "" {
		c.Interrupted = fc.Interrupted
	}
	if c.SpoolRetention == 0 && fc.SpoolRetentionDays > 0 {
		c.SpoolRetention = time.Duration(fc.SpoolRetentionDays) * 24 * time.Hour
	}
	if c.AdminGroup == "" {
		c.AdminGroup = fc.AdminGroup
	}
	if c.StatusMode == "" {
		c.StatusMode = fc.StatusMode
	}
	if len(fc.PrinterSettings) > 0 {
		m := maps.Clone(fc.PrinterSettings)
		maps.Copy(m, c.PrinterSettings)
		c.PrinterSettings = m
	}
}

// CheckPolicies validates the job policies of c.
func (c Config) CheckPolicies() error {
	switch c.PrinterProblem {
	case "", PolicyWait, PolicyFail:
	default:
		return fmt.Errorf("agent: %w: printer_problem %q (want wait or fail)", ErrConfig, c.PrinterProblem)
	}
	switch c.Interrupted {
	case "", InterruptedFail, InterruptedReprint:
	default:
		return fmt.Errorf("agent: %w: interrupted %q (want fail or reprint)", ErrConfig, c.Interrupted)
	}
	if _, err := printer.ParseStatusMode(c.StatusMode); err != nil {
		return fmt.Errorf("agent: %w: status_mode: %v", ErrConfig, err)
	}
	return nil
}

// ParseLevel maps a log level name to a slog.Level.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "info":
		return slog.LevelInfo, nil
	case "debug":
		return slog.LevelDebug, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("agent: %w: unknown log level %q (want debug, info, warn or error)", ErrConfig, s)
}

// dedupe returns s without repeats, in order.
func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range s {
		v = strings.TrimSpace(v)
		if v == "" || seen[v] {
			continue
		}
		seen[v] = true
		out = append(out, v)
	}
	return out
}
