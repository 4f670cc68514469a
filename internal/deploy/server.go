package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"time"
)

// ServerSpec is how one printdock-server process runs.
type ServerSpec struct {
	DataDir, Database, Listen string // Database "": SQLite in DataDir
	Heartbeat                 time.Duration
	LogLevel                  string // "" warn
	Extra                     []string
}

func (s ServerSpec) args(b Bins, sub string) []string {
	a := []string{b.Server, sub, "--data-dir", s.DataDir}
	if s.Database != "" {
		a = append(a, "--database", s.Database)
	}
	return a
}

// InitStore creates the first portal and administrator and returns the administrator's API key.
func InitStore(ctx context.Context, b Bins, s ServerSpec) (string, error) {
	if err := os.MkdirAll(s.DataDir, 0o700); err != nil {
		return "", err
	}
	argv := append(s.args(b, "init"), "--admin-email", "chaos@localhost", "--json")
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("server init: %w: %s", err, ee.Stderr)
		}
		return "", fmt.Errorf("server init: %w", err)
	}
	var res struct {
		Key string `json:"admin_api_key"`
	}
	if err := json.Unmarshal(out, &res); err != nil || res.Key == "" {
		return "", fmt.Errorf("server init: no admin key in its answer (%v)", err)
	}
	return res.Key, nil
}

// StartServer runs printdock-server serve and waits until /healthz answers.
func StartServer(ctx context.Context, b Bins, s ServerSpec, logPath string) (*Proc, error) {
	level := s.LogLevel
	if level == "" {
		level = "warn"
	}
	hb := s.Heartbeat
	if hb == 0 {
		hb = 15 * time.Second
	}
	argv := append(s.args(b, "serve"), "--listen", s.Listen, "--log-level", level, "--heartbeat", hb.String())
	argv = append(argv, s.Extra...)
	p, err := Start("server "+s.Listen, logPath, "", argv...)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Timeout: time.Second}
	err = WaitFor(ctx, 30*time.Second, "the server on "+s.Listen, func() bool {
		if p.Exited() {
			return true
		}
		resp, err := hc.Get("http://" + s.Listen + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if p.Exited() {
		return nil, fmt.Errorf("the server exited: %s", p.Tail())
	}
	if err != nil {
		p.Kill()
		return nil, err
	}
	return p, nil
}
