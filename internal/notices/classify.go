package main

import (
	"regexp"
	"strings"
)

// A license the classifier recognises: its SPDX identifier, the short name Debian's copyright format
// uses, and the phrases (lowercase, spaces collapsed) that must all occur in the text.
type license struct {
	spdx, debian string
	all          []string
	none         []string // phrases that rule it out (BSD-2 is BSD without a non-endorsement clause)
}

// licenses in the order they are tried; a text may match several (a file holding two licenses).
var licenses = []license{
	{spdx: "Apache-2.0", debian: "Apache-2.0", all: []string{"apache license", "version 2.0"}},
	{spdx: "MPL-2.0", debian: "MPL-2.0", all: []string{"mozilla public license", "2.0"}},
	{spdx: "MIT", debian: "Expat", all: []string{"permission is hereby granted, free of charge, to any person obtaining a copy"}},
	{spdx: "ISC", debian: "ISC", all: []string{"permission to use, copy, modify, and", "distribute this software for any purpose with or without fee is hereby granted"}},
	{spdx: "Zlib", debian: "Zlib", all: []string{"provided 'as-is', without any express or implied warranty", "altered source versions must be plainly marked"}},
	{spdx: "BSD-4-Clause", debian: "BSD-4-clause", all: []string{"redistribution and use in source and binary forms", "all advertising materials mentioning"}},
	{spdx: "BSD-3-Clause", debian: "BSD-3-clause", all: []string{"redistribution and use in source and binary forms", "endorse or promote products derived from this software"}, none: []string{"all advertising materials mentioning"}},
	{spdx: "BSD-2-Clause", debian: "BSD-2-clause", all: []string{"redistribution and use in source and binary forms"}, none: []string{"endorse or promote products", "all advertising materials mentioning"}},
	{spdx: "CC0-1.0", debian: "CC0-1.0", all: []string{"cc0"}},
	{spdx: "Unlicense", debian: "Unlicense", all: []string{"this is free and unencumbered software released into the public domain"}},
	{spdx: "LicenseRef-public-domain", debian: "public-domain", all: []string{"dedicated to the public domain"}},
	{spdx: "LicenseRef-public-domain", debian: "public-domain", all: []string{"the author disclaims copyright to this source code"}},
}

var spaces = regexp.MustCompile(`\s+`)

// normalize lowercases a text, collapses its white space and unifies quotes and markdown emphasis, so
// that phrases match across line breaks and formatting.
func normalize(text string) string {
	r := strings.NewReplacer("\u2018", "'", "\u2019", "'", "\u201c", `"`, "\u201d", `"`, "*", "", "`", "'", "#", " ")
	return spaces.ReplaceAllString(strings.ToLower(r.Replace(text)), " ")
}

// classify returns the licenses a text holds, each once, in the order of licenses.
func classify(text string) []license {
	n := normalize(text)
	var found []license
	seen := map[string]bool{}
next:
	for _, l := range licenses {
		for _, p := range l.all {
			if !strings.Contains(n, p) {
				continue next
			}
		}
		for _, p := range l.none {
			if strings.Contains(n, p) {
				continue next
			}
		}
		if !seen[l.spdx] {
			seen[l.spdx] = true
			found = append(found, l)
		}
	}
	return found
}

var copyrightLine = regexp.MustCompile(`(?i)^\s*(?:copyright\s*(?:\(c\)|©)?|©)\s*(.*\d{4}.*)$`)

// copyrights returns the holders a text names on its "Copyright (c) YEAR NAME" lines.
func copyrights(text string) []string {
	var out []string
	seen := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		m := copyrightLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		h := strings.TrimSpace(strings.TrimRight(m[1], "."))
		h = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(h, "(c)"), "(C)"))
		if h != "" && !seen[h] && len(h) < 200 {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out
}
