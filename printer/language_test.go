package printer

import "testing"

func TestParseLanguage(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    Language
		wantErr bool
	}{
		{"", LangUnknown, false},
		{"zpl", LangZPL, false},
		{" EPL ", LangEPL, false},
		{"TSPL", LangTSPL, false},
		{"dpl", LangDPL, false},
		{"escpos", LangESCPOS, false},
		{"unknown", LangUnknown, false},
		{"pcl", LangUnknown, true},
	} {
		got, err := ParseLanguage(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParseLanguage(%q) = %q, %v; want %q, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestLanguageFromCommandSet(t *testing.T) {
	for _, tt := range []struct {
		cmds []string
		want Language
	}{
		{nil, LangUnknown},
		{[]string{"ZPL"}, LangZPL},
		{[]string{"ZPL II"}, LangZPL},
		{[]string{"EPL2"}, LangEPL},
		{[]string{"EPL", "ZPL"}, LangZPL},
		{[]string{"TSPL2"}, LangTSPL},
		{[]string{"DPL"}, LangDPL},
		{[]string{"ESC/POS"}, LangESCPOS},
		{[]string{"PCL", "PJL"}, LangUnknown},
	} {
		if got := LanguageFromCommandSet(tt.cmds); got != tt.want {
			t.Errorf("LanguageFromCommandSet(%q) = %q, want %q", tt.cmds, got, tt.want)
		}
	}
}

func TestParseStatusMode(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    StatusMode
		wantErr bool
	}{
		{"", StatusAuto, false},
		{"AUTO", StatusAuto, false},
		{"zpl", StatusZPL, false},
		{"none", StatusNone, false},
		{"off", StatusAuto, true},
	} {
		got, err := ParseStatusMode(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParseStatusMode(%q) = %q, %v; want %q, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
