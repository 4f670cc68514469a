package keys

// isWindows: Unix mode bits mean nothing on Windows; the data directory's ACL protects the pepper there.
const isWindows = true
