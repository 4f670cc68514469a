package server

// reloadSignal: Windows has no SIGHUP; the certificate files are still watched.
func reloadSignal() (<-chan struct{}, func()) { return nil, func() {} }
