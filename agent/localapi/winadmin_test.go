package localapi

import "testing"

func TestWindowsAdmin(t *testing.T) {
	const user, users, adminGroup = "S-1-5-21-1-2-3-1001", "S-1-5-32-545", "S-1-5-21-1-2-3-1010"
	lookup := func(name string) (string, bool) { return adminGroup, name == "printdock-admin" }
	cases := []struct {
		name  string
		sids  []string
		group string
		want  bool
	}{
		{"LocalSystem", []string{SIDSystem}, "printdock-admin", true},
		{"elevated administrator", []string{user, users, SIDAdministrators}, "printdock-admin", true},
		{"administrator, filtered UAC token (Administrators deny-only, left out)", []string{user, users}, "printdock-admin", false},
		{"member of printdock-admin", []string{user, users, adminGroup}, "printdock-admin", true},
		{"member, admin group off", []string{user, users, adminGroup}, "-", false},
		{"member of another group of that name", []string{user, users, adminGroup}, "other", false},
		{"plain user", []string{user, users}, "printdock-admin", false},
		{"case of the SID", []string{"s-1-5-18"}, "", true},
	}
	for _, c := range cases {
		if got := windowsAdmin(c.sids, c.group, lookup); got != c.want {
			t.Errorf("%s: admin %v, want %v", c.name, got, c.want)
		}
	}
}
