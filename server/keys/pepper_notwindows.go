//go:build !windows

package keys

const isWindows = false
