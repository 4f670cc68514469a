//go:build !(linux || darwin)

package server_test

// setNOFILE does nothing where the benchmarks' many connections meet no per-process file limit to raise
// (Windows).
func setNOFILE(uint64) error { return nil }
