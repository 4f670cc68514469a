package printer

import "iter"

// Chunks splits data into consecutive pieces of at most size bytes and yields each with its offset in
// data. The pieces are sub-slices of data (no copy). A size ≤ 0 yields data whole; empty data yields
// nothing. Transports use it to send a job in transfer-sized writes.
func Chunks(data []byte, size int) iter.Seq2[int, []byte] {
	return func(yield func(int, []byte) bool) {
		if len(data) == 0 {
			return
		}
		if size <= 0 {
			size = len(data)
		}
		for off := 0; off < len(data); off += size {
			end := min(off+size, len(data))
			if !yield(off, data[off:end:end]) {
				return
			}
		}
	}
}
