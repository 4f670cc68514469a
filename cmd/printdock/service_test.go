package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestFindAgent(t *testing.T) {
	name := "printdock-agent"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	dir := t.TempDir()
	app := filepath.Join(dir, "printdock")
	self := func() (string, error) { return app, nil }
	inPath := filepath.Join(t.TempDir(), name)
	lookPath := func(string) (string, error) { return inPath, nil }
	noPath := func(string) (string, error) { return "", errors.New("not found") }

	if p, where := findAgent(self, noPath); p != "" || where != "" {
		t.Errorf("nothing installed: got %q %q", p, where)
	}
	if p, where := findAgent(self, lookPath); p != inPath || where != "in PATH" {
		t.Errorf("in PATH: got %q %q", p, where)
	}
	next := filepath.Join(dir, name)
	if err := os.WriteFile(next, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if p, where := findAgent(self, lookPath); p != next || where != "next to this app" {
		t.Errorf("next to the app: got %q %q", p, where)
	}
}

func TestServiceControlWithoutRightsOrAgent(t *testing.T) {
	stopped := 0
	b := &backend{serviceStarted: func() { stopped++ }}
	b.access.Allowed = true
	if err := b.InstallService(t.Context()); err == nil {
		t.Error("install without an agent binary must fail")
	}
	b.access.Agent, b.access.Allowed = "/usr/bin/printdock-agent", false
	if err := b.StartService(t.Context()); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("start without rights: %v", err)
	}
	if stopped != 0 {
		t.Error("a failed start must leave the agent inside the app running")
	}
}
