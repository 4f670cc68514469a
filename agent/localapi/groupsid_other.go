//go:build !windows

package localapi

// lookupGroupSID resolves a Windows group name to its SID; there are none elsewhere.
func lookupGroupSID(string) (string, bool) { return "", false }
