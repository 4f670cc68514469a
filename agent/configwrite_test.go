package agent

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"printdock/printer"
)

func TestUpdateFileConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", ConfigFileName)
	steps := []struct {
		set     map[string]string
		want    FileConfig
		wantErr bool
	}{
		{set: map[string]string{"server_url": "https://print.example", "status_mode": "none"},
			want: FileConfig{ServerURL: "https://print.example", StatusMode: "none"}},
		// "" keeps, another key is added.
		{set: map[string]string{"server_url": "", "ca_file": `C:\certs\ca.pem`},
			want: FileConfig{ServerURL: "https://print.example", StatusMode: "none", CAFile: `C:\certs\ca.pem`}},
		// "-" removes.
		{set: map[string]string{"status_mode": "-"},
			want: FileConfig{ServerURL: "https://print.example", CAFile: `C:\certs\ca.pem`}},
		{set: map[string]string{"status_mode": "loud"}, wantErr: true},
		{set: map[string]string{"server_url": "print.example"}, wantErr: true},
		{set: map[string]string{"insecure": "true"}, wantErr: true},
	}
	for i, s := range steps {
		got, err := UpdateFileConfig(path, s.set)
		if s.wantErr {
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("step %d: err %v, want ErrConfig", i, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		read, err := LoadFileConfig(path)
		if err != nil {
			t.Fatalf("step %d: reread: %v", i, err)
		}
		if got.ServerURL != s.want.ServerURL || got.CAFile != s.want.CAFile || got.StatusMode != s.want.StatusMode ||
			read.ServerURL != got.ServerURL || read.CAFile != got.CAFile || read.StatusMode != got.StatusMode {
			t.Fatalf("step %d: got %+v, file %+v, want %+v", i, got, read, s.want)
		}
	}
	// Settings it does not set survive.
	if err := os.WriteFile(path, []byte(`{"printers":{"tcp://10.0.0.5:9100":{"language":"epl"}},"log_level":"debug"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := UpdateFileConfig(path, map[string]string{"server_url": "https://b.example"}); err != nil {
		t.Fatal(err)
	}
	fc, err := LoadFileConfig(path)
	if err != nil || fc.LogLevel != "debug" || fc.PrinterSettings["tcp://10.0.0.5:9100"].Language != "epl" || fc.ServerURL != "https://b.example" {
		t.Fatalf("after update: %+v %v", fc, err)
	}
}

func TestStatusModeDefault(t *testing.T) {
	s := &printerSet{settings: map[string]PrinterSettings{"tcp://a:9100": {StatusMode: "zpl"}}, mode: "none", learned: &learned{}}
	for id, want := range map[string]string{"tcp://a:9100": "zpl", "tcp://b:9100": "none"} {
		if got := s.capsLocked(id, printer.Info{}); string(got.Mode) != want {
			t.Errorf("%s: mode %s, want %s", id, got.Mode, want)
		}
	}
}
