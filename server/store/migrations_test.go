package store

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestReadMigrations(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	tests := []struct {
		name    string
		fs      fstest.MapFS
		want    []string // names in order
		wantErr string
	}{
		{"ordered by number", fstest.MapFS{"m/002_b.sql": file("B"), "m/001_a.sql": file("A"), "m/010_j.sql": file("J"),
			"m/003_c.sql": file(""), "m/004_d.sql": file(""), "m/005_e.sql": file(""), "m/006_f.sql": file(""),
			"m/007_g.sql": file(""), "m/008_h.sql": file(""), "m/009_i.sql": file("")},
			[]string{"001_a.sql", "002_b.sql", "003_c.sql", "004_d.sql", "005_e.sql", "006_f.sql", "007_g.sql", "008_h.sql", "009_i.sql", "010_j.sql"}, ""},
		{"gap", fstest.MapFS{"m/001_a.sql": file("A"), "m/003_c.sql": file("C")}, nil, "without gaps"},
		{"bad name", fstest.MapFS{"m/001_a.sql": file("A"), "m/init.sql": file("X")}, nil, "NNN_name.sql"},
		{"zero", fstest.MapFS{"m/000_a.sql": file("A")}, nil, "NNN_name.sql"},
		{"missing dir", fstest.MapFS{}, nil, "read migrations"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := ReadMigrations(tt.fs, "m")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for i, m := range ms {
				got = append(got, m.Name)
				if m.Version != i+1 {
					t.Fatalf("%s has version %d, want %d", m.Name, m.Version, i+1)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("order %v, want %v", got, tt.want)
			}
			if ms[0].SQL != "A" || ms[1].SQL != "B" {
				t.Fatalf("contents not read: %q %q", ms[0].SQL, ms[1].SQL)
			}
		})
	}
}
