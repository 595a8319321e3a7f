package jpegenc

// bitWriter appends entropy-coded bits to a byte slice, most significant bit
// first, stuffing a zero byte after every 0xFF (T.81 F.1.2.3).
type bitWriter struct {
	out  []byte
	acc  uint64 // pending bits, right-aligned
	nacc uint   // number of pending bits
}

// write appends the low n bits of v (n ≤ 32).
func (w *bitWriter) write(v uint32, n uint) {
	if n == 0 {
		return
	}
	w.acc = w.acc<<n | uint64(v)&(1<<n-1)
	w.nacc += n
	for w.nacc >= 8 {
		w.nacc -= 8
		b := byte(w.acc >> w.nacc)
		w.out = append(w.out, b)
		if b == 0xff {
			w.out = append(w.out, 0)
		}
	}
}

// flush pads the last byte with 1 bits, as decoders expect before a marker.
func (w *bitWriter) flush() {
	if w.nacc > 0 {
		w.write(1<<(8-w.nacc)-1, 8-w.nacc)
	}
	w.acc, w.nacc = 0, 0
}
