//go:build !linux

package agent

// ActAsStateOwner is Linux-only: elsewhere the service runs as the system account (Windows: LocalSystem;
// macOS: root), so there is nobody to become.
func ActAsStateOwner(string) error { return nil }
