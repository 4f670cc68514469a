// Command notices writes the third-party notices of printdock's binaries: for every Go module compiled
// into them (the build information `go version -m` shows, read with debug/buildinfo, so it works on
// binaries of any GOOS/GOARCH) and for the Go standard library, the module's license files from the
// module cache, the licenses they hold (classify.go) and their full text. It owns that list and its two
// renderings (render.go): a plain-text THIRD-PARTY-NOTICES.txt shipped in every package, and a Debian
// machine-readable copyright file. scripts/package.sh runs it (docs/packaging.md):
//
//	go run ./internal/notices -format notices -package printdock-agent -o NOTICES.txt dist/bin/printdock-agent
//	go run ./internal/notices -format copyright -package printdock-agent -o copyright dist/bin/printdock-agent
//
// A module that carries non-Go code inside itself (go-pdfium's PDFium WebAssembly module) also gets
// the license texts of those components (embedded.go, embedded/).
//
// A module without a license file, or whose LICENSE/COPYING holds no license it recognises, is an
// error: extend classify.go rather than ship an unnamed license.
package main

import (
	"debug/buildinfo"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("notices: ")
	if err := run(os.Args[1:]); err != nil {
		log.Fatal(err)
	}
}

// A binary and what it was built from.
type binary struct {
	name              string // base name
	goVersion, target string // go1.26.8, linux/amd64
	cgo               bool
}

// A module compiled into one or more of the binaries, with its license files.
type module struct {
	path, version string
	usedBy        []string
	files         []licenseFile
	licenses      []license // union over its license files (not NOTICE files), in classify order
}

type licenseFile struct {
	name, text string
	notice     bool      // a NOTICE file: reproduced, not a license
	licenses   []license // what it counts for in the module's licenses (none for an index of several)
}

// options are the command's flags.
type options struct {
	format, pkg, out, modcache, goroot string
}

func run(args []string) error {
	var o options
	fs := flag.NewFlagSet("notices", flag.ContinueOnError)
	for _, f := range []struct {
		p                *string
		name, def, usage string
	}{
		{&o.format, "format", "notices", "notices (THIRD-PARTY-NOTICES.txt) or copyright (Debian machine-readable)"},
		{&o.pkg, "package", "printdock", "the package the file is for (named in its header)"},
		{&o.out, "o", "", "output file (default stdout)"},
		{&o.modcache, "modcache", "", "the module cache (default: go env GOMODCACHE)"},
		{&o.goroot, "goroot", "", "the Go root whose LICENSE covers the standard library (default: go env GOROOT)"},
	} {
		fs.StringVar(f.p, f.name, f.def, f.usage)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("name at least one binary")
	}
	var err error
	for _, v := range []struct {
		p    *string
		name string
	}{{&o.modcache, "GOMODCACHE"}, {&o.goroot, "GOROOT"}} {
		if *v.p == "" {
			if *v.p, err = goEnv(v.name); err != nil {
				return err
			}
		}
	}
	bins, mods, err := collect(fs.Args(), o.modcache, o.goroot)
	if err != nil {
		return err
	}
	var text string
	switch o.format {
	case "notices":
		text = renderNotices(o.pkg, bins, mods)
	case "copyright":
		text = renderCopyright(o.pkg, bins, mods)
	default:
		return fmt.Errorf("unknown -format %q (notices, copyright)", o.format)
	}
	w := os.Stdout
	if o.out != "" {
		if w, err = os.Create(o.out); err != nil {
			return fmt.Errorf("create notices file: %w", err)
		}
	}
	if _, err := w.WriteString(text); err != nil {
		return fmt.Errorf("write notices: %w", err)
	}
	return w.Close()
}

func goEnv(name string) (string, error) {
	b, err := exec.Command("go", "env", name).Output()
	if err != nil {
		return "", fmt.Errorf("go env %s: %w", name, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// collect reads the binaries' build information and the license files of every module they hold. The
// first module is the Go standard library (path "std"), from goroot.
func collect(paths []string, modcache, goroot string) ([]binary, []*module, error) {
	var bins []binary
	byKey := map[string]*module{}
	std := &module{path: "std"}
	for _, p := range paths {
		info, err := buildinfo.ReadFile(p)
		if err != nil {
			return nil, nil, fmt.Errorf("read build information of %s: %w", p, err)
		}
		b := binary{name: filepath.Base(p), goVersion: info.GoVersion}
		var goos, goarch string
		for _, s := range info.Settings {
			switch s.Key {
			case "GOOS":
				goos = s.Value
			case "GOARCH":
				goarch = s.Value
			case "CGO_ENABLED":
				b.cgo = s.Value == "1"
			}
		}
		b.target = goos + "/" + goarch
		bins = append(bins, b)
		if std.version == "" {
			std.version = info.GoVersion
		}
		std.usedBy = appendOnce(std.usedBy, b.name)
		for _, d := range info.Deps {
			path, version := d.Path, d.Version
			if d.Replace != nil {
				path, version = d.Replace.Path, d.Replace.Version
			}
			key := path + "@" + version
			m := byKey[key]
			if m == nil {
				m = &module{path: path, version: version}
				byKey[key] = m
			}
			m.usedBy = appendOnce(m.usedBy, b.name)
		}
	}
	mods := []*module{std}
	for _, m := range byKey {
		mods = append(mods, m)
	}
	sort.Slice(mods[1:], func(i, j int) bool { return mods[1+i].path < mods[1+j].path })
	for _, m := range mods {
		dir := filepath.Join(modcache, escapePath(m.path)+"@"+escapePath(m.version))
		if m.path == "std" {
			dir = goroot
		} else if m.version == "" { // a replacement by a local directory
			dir = m.path
		}
		if err := readLicenses(m, dir); err != nil {
			return nil, nil, err
		}
		if err := addEmbedded(m); err != nil {
			return nil, nil, err
		}
	}
	return bins, mods, nil
}

var (
	primaryName = regexp.MustCompile(`(?i)^(licen[cs]e|copying|unlicense)(\.(txt|md))?$`)
	licenseName = regexp.MustCompile(`(?i)^(licen[cs]e|copying|unlicense|notice)([._-].*)?$`)
)

// readLicenses reads the license and NOTICE files at the top of a module's directory and names the
// licenses; a module must have a LICENSE or COPYING file whose license is recognised.
func readLicenses(m *module, dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("module %s@%s: %w (run go mod download)", m.path, m.version, err)
	}
	primary := false
	for _, e := range entries {
		if e.IsDir() || !licenseName.MatchString(e.Name()) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return fmt.Errorf("module %s: %w", m.path, err)
		}
		f := licenseFile{name: e.Name(), text: strings.TrimRightFunc(string(b), unicode.IsSpace) + "\n",
			notice: strings.HasPrefix(strings.ToLower(e.Name()), "notice")}
		if f.notice {
			m.files = append(m.files, f)
			continue
		}
		found := classify(f.text)
		if !primaryName.MatchString(e.Name()) && len(found) > 1 {
			// A secondary file naming several licenses is an index of other components (often
			// test-only ones, modernc.org/sqlite's LICENSE-3RD-PARTY.md): reproduced, not counted.
			found = nil
		}
		if primaryName.MatchString(e.Name()) {
			if len(found) == 0 {
				return fmt.Errorf("module %s@%s: %s holds no license internal/notices recognises (extend classify.go)", m.path, m.version, e.Name())
			}
			primary = true
		}
		f.licenses = found
		m.files = append(m.files, f)
		for _, l := range found {
			m.licenses = appendLicense(m.licenses, l)
		}
	}
	if !primary {
		return fmt.Errorf("module %s@%s has no LICENSE or COPYING file in %s", m.path, m.version, dir)
	}
	return nil
}

func appendLicense(ls []license, l license) []license {
	for _, x := range ls {
		if x.spdx == l.spdx {
			return ls
		}
	}
	return append(ls, l)
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// escapePath is the module cache's case encoding: an upper-case letter becomes "!" and its lower case.
func escapePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
