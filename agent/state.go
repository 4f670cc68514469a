package agent

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Files in the state directory.
const (
	installationIDFile = "installation-id"
	stateFile          = "state.json"
	logDirName         = "logs"
)

// persisted is what the agent remembers across restarts (state.json). Never a secret.
type persisted struct {
	ServerURL    string     `json:"server_url,omitempty"`
	DeviceID     string     `json:"device_id,omitempty"`
	KeyKind      string     `json:"key_kind,omitempty"`
	KeyDesc      string     `json:"key_description,omitempty"`
	KeyPrefix    string     `json:"key_prefix,omitempty"`
	Portal       string     `json:"portal,omitempty"`
	ClientID     string     `json:"client_id,omitempty"`
	LoggedInAt   *time.Time `json:"logged_in_at,omitempty"`
	LogoutReason string     `json:"logout_reason,omitempty"`
	LogoutMsg    string     `json:"logout_message,omitempty"`
	LogoutAt     *time.Time `json:"logout_at,omitempty"`
}

func loadPersisted(dir string) (persisted, error) {
	var p persisted
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return p, fmt.Errorf("agent: read state: %w", err)
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return persisted{}, fmt.Errorf("agent: parse %s: %w", stateFile, err)
	}
	return p, nil
}

func savePersisted(dir string, p persisted) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("agent: encode state: %w", err)
	}
	return writeFileAtomic(filepath.Join(dir, stateFile), append(b, '\n'), 0o600)
}

// installationID returns the ID stored in dir, creating it once when create is true.
func installationID(dir string, create bool) (string, error) {
	path := filepath.Join(dir, installationIDFile)
	b, err := os.ReadFile(path)
	if err == nil {
		if id := strings.TrimSpace(string(b)); id != "" {
			return id, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("agent: read installation id: %w", err)
	}
	if !create {
		return "", nil
	}
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("agent: installation id: %w", err)
	}
	id := hex.EncodeToString(raw[:])
	if err := writeFileAtomic(path, []byte(id+"\n"), 0o644); err != nil {
		return "", err
	}
	return id, nil
}

// writeFileAtomic writes data to path through a temporary file and a rename, creating the directory
// (0700) when missing.
func writeFileAtomic(path string, data []byte, mode os.FileMode) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("agent: state dir: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("agent: write %s: %w", filepath.Base(path), err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(mode); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return fmt.Errorf("agent: write %s: %w", filepath.Base(path), err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("agent: write %s: %w", filepath.Base(path), err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("agent: write %s: %w", filepath.Base(path), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("agent: write %s: %w", filepath.Base(path), err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("agent: write %s: %w", filepath.Base(path), err)
	}
	return nil
}

// learnedFile keeps what the agent learnt about printers across restarts.
const learnedFile = "printers.json"

// learned is the agent's learned printer facts (<StateDir>/printers.json): which printers answered a
// ZPL status request once. It is written when a printer answers for the first time.
type learned struct {
	path string

	mu  sync.Mutex // protects the following; never held across I/O
	zpl []string   // printer IDs that answered ~HS
	// ioMu orders the file's writers (lock order: ioMu before mu).
	ioMu sync.Mutex
}

type learnedJSON struct {
	AnsweredStatus []string `json:"answered_status,omitempty"`
}

func loadLearned(dir string) (*learned, error) {
	l := &learned{}
	if dir == "" {
		return l, nil
	}
	l.path = filepath.Join(dir, learnedFile)
	b, err := os.ReadFile(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		return l, nil
	}
	if err != nil {
		return l, fmt.Errorf("agent: read %s: %w", learnedFile, err)
	}
	var lj learnedJSON
	if err := json.Unmarshal(b, &lj); err != nil {
		return l, fmt.Errorf("agent: parse %s: %w", learnedFile, err)
	}
	l.zpl = lj.AnsweredStatus
	return l, nil
}

func (l *learned) answered(id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Contains(l.zpl, id)
}

// learnAnswered records that printer id answered ~HS; it reports whether that is new. The file is
// written outside mu.
func (l *learned) learnAnswered(id string) (bool, error) {
	l.ioMu.Lock()
	defer l.ioMu.Unlock()
	l.mu.Lock()
	if slices.Contains(l.zpl, id) {
		l.mu.Unlock()
		return false, nil
	}
	l.zpl = append(l.zpl, id)
	slices.Sort(l.zpl)
	lj := learnedJSON{AnsweredStatus: slices.Clone(l.zpl)}
	l.mu.Unlock()
	if l.path == "" {
		return true, nil
	}
	b, err := json.MarshalIndent(lj, "", "  ")
	if err != nil {
		return true, fmt.Errorf("agent: encode %s: %w", learnedFile, err)
	}
	return true, writeFileAtomic(l.path, append(b, '\n'), 0o600)
}
