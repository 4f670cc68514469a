package main

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	apache, err := os.ReadFile("../../LICENSE")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, text string
		want       []string
	}{
		{"apache", string(apache), []string{"Apache-2.0"}},
		{"mit", "Copyright (c) 2020 A\n\nPermission is hereby granted, free of charge, to any person obtaining a copy\nof this software", []string{"MIT"}},
		{"bsd3", "Redistribution and use in source and binary forms, with or without\nmodification, are permitted ... Neither the name of Google Inc. nor the names of its contributors may be used to endorse or promote products derived from this software", []string{"BSD-3-Clause"}},
		{"bsd2", "Redistribution and use in source and binary forms, with or without modification, are permitted provided that", []string{"BSD-2-Clause"}},
		{"isc", "Permission to use, copy, modify, and/or distribute this software for any purpose with or without fee is hereby granted", []string{"ISC"}},
		{"zlib", "This software is provided 'as-is', without any express or implied warranty. ... 2. Altered source versions must be plainly marked as such", []string{"Zlib"}},
		{"mpl", "Mozilla Public License Version 2.0\n==================================", []string{"MPL-2.0"}},
		{"sqlite blessing", "The author disclaims copyright to this source code.  In place of\na legal notice, here is a blessing:", []string{"LicenseRef-public-domain"}},
		{"unknown", "All rights reserved. Do not copy.", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, l := range classify(tt.text) {
				got = append(got, l.spdx)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("classify = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCopyrights(t *testing.T) {
	got := copyrights("Copyright (c) 2009 The Go Authors. All rights reserved.\nCopyright 2015 Kardianos\n  Copyright © 2021 X Y\nno year here: Copyright holders\n")
	want := []string{"2009 The Go Authors. All rights reserved", "2015 Kardianos", "2021 X Y"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("copyrights = %q, want %q", got, want)
	}
}

func TestEscapePath(t *testing.T) {
	if got := escapePath("github.com/BurntSushi/toml"); got != "github.com/!burnt!sushi/toml" {
		t.Errorf("escapePath = %q", got)
	}
}

func TestField(t *testing.T) {
	var b strings.Builder
	field(&b, "License", "MIT\nline one\n\n\tindented\n.")
	want := "License: MIT\n line one\n .\n     indented\n  .\n"
	if b.String() != want {
		t.Errorf("field = %q, want %q", b.String(), want)
	}
}

// TestEmbeddedComponents: every component a module carries inside itself has a license and its texts,
// and the module's notice names them all, with the statement libjpeg's IJG license requires.
func TestEmbeddedComponents(t *testing.T) {
	for path, cs := range embeddedIn {
		m := &module{path: path, version: "v0"}
		if err := addEmbedded(m); err != nil {
			t.Fatal(err)
		}
		if len(m.files) != len(cs) {
			t.Fatalf("%s: %d files for %d components", path, len(m.files), len(cs))
		}
		for i, c := range cs {
			if len(c.licenses) == 0 {
				t.Errorf("%s: %s has no license", path, c.name)
			}
			if !strings.Contains(m.files[i].text, c.name) || !strings.Contains(m.files[i].text, c.copyright) {
				t.Errorf("%s: the notice of %s lacks its name or copyright", path, c.name)
			}
		}
	}
	m := &module{path: "github.com/klippa-app/go-pdfium"}
	if err := addEmbedded(m); err != nil {
		t.Fatal(err)
	}
	text := renderNotices("printdock-server", nil, []*module{m})
	for _, want := range []string{"The FreeType Project LICENSE", "based in part on the work of the Independent JPEG Group",
		"UNICODE LICENSE V3", "Maxim Shemanarev", "FTL", "IJG", "Unicode-3.0"} {
		if !strings.Contains(text, want) {
			t.Errorf("the server's notices lack %q", want)
		}
	}
	cr := renderCopyright("printdock-server", nil, []*module{m})
	if !strings.Contains(cr, "The FreeType Project LICENSE") || strings.Contains(cr, "\nLicense: \n") {
		t.Errorf("the copyright file lacks FreeType's text or has an empty License field")
	}
}
