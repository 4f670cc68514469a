package main

import (
	"fmt"
	"strings"
)

// spdxOf is a module's license expression ("MIT", "BSD-3-Clause AND MIT").
func spdxOf(m *module) string {
	var ids []string
	for _, l := range m.licenses {
		ids = append(ids, l.spdx)
	}
	return strings.Join(ids, " AND ")
}

func displayName(m *module) string {
	if m.path == "std" {
		return "Go standard library and runtime"
	}
	return m.path
}

// renderNotices is THIRD-PARTY-NOTICES.txt: a summary table, then every module's license files in full.
func renderNotices(pkg string, bins []binary, mods []*module) string {
	var b strings.Builder
	rule := strings.Repeat("=", 100)
	fmt.Fprintf(&b, "%s: third-party software notices\n%s\n\n", pkg, rule)
	b.WriteString("printdock itself is licensed under the Apache License, Version 2.0 (LICENSE; on Debian systems\n" +
		"/usr/share/common-licenses/Apache-2.0).\n")
	b.WriteString("The Go toolchain compiled the following third-party software into these binaries:\n\n")
	cgo := false
	for _, bin := range bins {
		fmt.Fprintf(&b, "  %s (%s, %s)\n", bin.name, bin.goVersion, bin.target)
		cgo = cgo || bin.cgo
	}
	if cgo {
		b.WriteString("\nShared libraries these binaries load from the operating system (the C library, libusb-1.0,\n" +
			"the desktop app's X11 and OpenGL libraries) are not part of this package; their licenses ship\n" +
			"with the operating system's packages.\n")
	}
	b.WriteString("\nSummary (module, version, license):\n\n")
	for _, m := range mods {
		fmt.Fprintf(&b, "  %-50s %-40s %s\n", displayName(m), m.version, spdxOf(m))
	}
	for _, m := range mods {
		fmt.Fprintf(&b, "\n\n%s\n%s %s\nLicense: %s\nCompiled into: %s\n", rule, displayName(m), m.version, spdxOf(m), strings.Join(m.usedBy, ", "))
		for _, f := range m.files {
			fmt.Fprintf(&b, "%s\n--- %s ---\n\n%s", strings.Repeat("-", 100), f.name, f.text)
		}
	}
	return b.String()
}

// renderCopyright is a Debian machine-readable copyright file (copyright-format 1.0): printdock under
// Apache-2.0, then one Files paragraph per compiled-in module ("Files: <module path>/*", as the modules
// are not in the source tree) with its license texts, then stand-alone paragraphs for the licenses in
// /usr/share/common-licenses.
func renderCopyright(pkg string, bins []binary, mods []*module) string {
	var b strings.Builder
	b.WriteString("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n")
	b.WriteString("Upstream-Name: printdock\n")
	var names []string
	for _, bin := range bins {
		names = append(names, bin.name)
	}
	field(&b, "Comment", fmt.Sprintf("%s is built from printdock's source with the Go toolchain, which compiles the Go "+
		"modules below into %s. Each module's paragraph names it by its module path and holds its "+
		"license texts, but those in /usr/share/common-licenses; every text is in "+
		"/usr/share/doc/%s/THIRD-PARTY-NOTICES.txt.",
		pkg, strings.Join(names, ", "), pkg))
	b.WriteString("\nFiles: *\nCopyright: the printdock authors\nLicense: Apache-2.0\n")
	common := map[string]bool{"Apache-2.0": false, "MPL-2.0": false}
	for _, m := range mods {
		b.WriteString("\n")
		files := m.path + "/*"
		if m.path == "std" {
			files = "go/src/*"
		}
		fmt.Fprintf(&b, "Files: %s\n", files)
		holders := []string{}
		for _, f := range m.files {
			holders = append(holders, copyrights(f.text)...)
		}
		holders = dedupe(holders)
		if len(holders) == 0 {
			holders = []string{"the authors of " + displayName(m)}
		}
		field(&b, "Copyright", strings.Join(holders, "\n"))
		var short []string
		for _, l := range m.licenses {
			short = append(short, l.debian)
			if _, ok := common[l.debian]; ok {
				common[l.debian] = true
			}
		}
		// The texts: NOTICE files, and the license files that name a license outside
		// /usr/share/common-licenses (an index of several licenses stays in THIRD-PARTY-NOTICES.txt).
		var texts []string
		for _, f := range m.files {
			if f.notice || !onlyCommon(f.licenses, common) {
				texts = append(texts, "--- "+f.name+" ---\n\n"+f.text)
			}
		}
		lic := strings.Join(short, " and ")
		if len(texts) > 0 {
			lic += "\n" + strings.Join(texts, "\n")
		}
		field(&b, "License", lic)
		field(&b, "Comment", fmt.Sprintf("%s %s, compiled into %s.", displayName(m), m.version, strings.Join(m.usedBy, ", ")))
	}
	common["Apache-2.0"] = true // printdock's own
	for _, name := range []string{"Apache-2.0", "MPL-2.0"} {
		if common[name] {
			fmt.Fprintf(&b, "\nLicense: %s\n On Debian systems, the full text of this license is in\n /usr/share/common-licenses/%s.\n", name, name)
		}
	}
	return b.String()
}

// field writes a deb822 field: the first line after the name, the others indented by a space, an
// empty line as " .".
func field(b *strings.Builder, name, value string) {
	lines := strings.Split(strings.TrimRight(value, "\n"), "\n")
	fmt.Fprintf(b, "%s: %s\n", name, strings.TrimSpace(lines[0]))
	for _, l := range lines[1:] {
		l = strings.TrimRight(strings.ReplaceAll(l, "\t", "    "), " ")
		if l == "" {
			b.WriteString(" .\n")
			continue
		}
		if strings.TrimSpace(l) == "." {
			l = " " + l // a literal "." line must not read as an empty one
		}
		b.WriteString(" " + l + "\n")
	}
}

func dedupe(in []string) []string {
	var out []string
	for _, s := range in {
		out = appendOnce(out, s)
	}
	return out
}

// onlyCommon: every license in ls has its text in /usr/share/common-licenses (an empty ls counts too:
// a file that names no license by itself is not reproduced in the copyright file).
func onlyCommon(ls []license, common map[string]bool) bool {
	for _, l := range ls {
		if _, ok := common[l.debian]; !ok {
			return false
		}
	}
	return true
}
