package main

import (
	"embed"
	"fmt"
	"strings"
)

// A component compiled into a Go module as a non-Go artefact, which the build information cannot
// list: go-pdfium carries PDFium and PDFium's third-party libraries as one WebAssembly module
// (internal/pdfium_wasm/pdfium.wasm, run by wazero inside printdock-server). Its license texts are
// kept in embedded/ because neither the module nor the .wasm ships them. The list was read off the
// .wasm (its strings name libjpeg-turbo 3.1.0, OpenJPEG, FreeType, ICU 78, Brotli and abseil-cpp; Debian's
// lintian finds FreeType, Little CMS, libjpeg and OpenJPEG) and PDFium's own third_party directory.
type component struct {
	name, copyright string
	licenses        []license
	statement       string   // a sentence the license requires in the documentation
	files           []string // in embedded/
}

//go:embed embedded/*.txt
var embeddedTexts embed.FS

var (
	ftl        = license{spdx: "FTL", debian: "FTL"}
	ijg        = license{spdx: "IJG", debian: "IJG"}
	unicode3   = license{spdx: "Unicode-3.0", debian: "Unicode-3.0"}
	aggLicense = license{spdx: "LicenseRef-AGG-2.3", debian: "AGG-2.3"}
)

// spdxLicense is the classifier's entry for an SPDX identifier (so the Debian short names agree).
func spdxLicense(id string) license {
	for _, l := range licenses {
		if l.spdx == id {
			return l
		}
	}
	panic("notices: no license " + id)
}

// embeddedIn lists, by module path, the components a module carries inside itself.
var embeddedIn = map[string][]component{
	"github.com/klippa-app/go-pdfium": {
		{"PDFium", "2014 The PDFium Authors", []license{spdxLicense("BSD-3-Clause"), spdxLicense("Apache-2.0")}, "", []string{"pdfium.txt"}},
		{"Anti-Grain Geometry 2.3 (in PDFium)", "2002-2005 Maxim Shemanarev", []license{aggLicense}, "", []string{"agg.txt"}},
		{"FreeType", "1996-2024 David Turner, Robert Wilhelm, and Werner Lemberg", []license{ftl}, "", []string{"freetype-ftl.txt"}},
		{"Little CMS", "1998-2024 Marti Maria Saguer", []license{spdxLicense("MIT")}, "", []string{"lcms2.txt"}},
		{"libjpeg-turbo 3.1.0", "1991-2024 The libjpeg-turbo Project and many others; 1991-2020 Thomas G. Lane, Guido Vollbeding",
			[]license{spdxLicense("BSD-3-Clause"), ijg}, "This software is based in part on the work of the Independent JPEG Group.",
			[]string{"libjpeg-turbo-bsd.txt", "libjpeg-ijg.txt"}},
		{"OpenJPEG", "2002-2014 Universite catholique de Louvain (UCL), Belgium, and the OpenJPEG contributors", []license{spdxLicense("BSD-2-Clause")}, "", []string{"openjpeg.txt"}},
		{"zlib", "1995-2024 Jean-loup Gailly and Mark Adler", []license{spdxLicense("Zlib")}, "", []string{"zlib.txt"}},
		{"Brotli", "2009, 2010, 2013-2016 The Brotli Authors", []license{spdxLicense("MIT")}, "", []string{"brotli.txt"}},
		{"ICU 78", "2016-2025 Unicode, Inc. and others", []license{unicode3}, "", []string{"unicode-icu.txt"}},
		{"Abseil (abseil-cpp)", "The Abseil Authors", []license{spdxLicense("Apache-2.0")}, "", nil},
	},
}

// addEmbedded appends the license files of the components module m carries inside itself: one file
// per component, headed by its name and copyright, counted in the module's licenses.
func addEmbedded(m *module) error {
	for _, c := range embeddedIn[m.path] {
		var ids []string
		for _, l := range c.licenses {
			ids = append(ids, l.spdx)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s, compiled into %s's WebAssembly module\nCopyright %s\nLicense: %s\n", c.name, m.path, c.copyright, strings.Join(ids, " AND "))
		if c.statement != "" {
			b.WriteString("\n" + c.statement + "\n")
		}
		if len(c.files) == 0 {
			b.WriteString("\nThe text of the Apache License, Version 2.0, is printdock's own LICENSE (on Debian systems\n/usr/share/common-licenses/Apache-2.0).\n")
		}
		for _, name := range c.files {
			text, err := embeddedTexts.ReadFile("embedded/" + name)
			if err != nil {
				return fmt.Errorf("module %s: embedded component %s: %w", m.path, c.name, err)
			}
			b.WriteString("\n" + strings.TrimRight(string(text), "\n") + "\n")
		}
		m.files = append(m.files, licenseFile{name: "embedded: " + c.name, text: b.String(), licenses: c.licenses})
		for _, l := range c.licenses {
			m.licenses = appendLicense(m.licenses, l)
		}
	}
	return nil
}
