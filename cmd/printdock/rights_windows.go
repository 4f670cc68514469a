package main

import "golang.org/x/sys/windows"

// hasServiceRights reports whether the app runs with an elevated administrator token, which
// installing and starting a Windows service needs.
func hasServiceRights() bool {
	return windows.GetCurrentProcessToken().IsElevated()
}
