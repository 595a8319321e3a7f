package hostile

import "bytes"

// bitWriter writes a JPEG entropy-coded segment (MSB first, 0xFF stuffed,
// padded with 1 bits).
type bitWriter struct {
	out  *bytes.Buffer
	acc  uint32
	nacc uint
}

func (b *bitWriter) bits(v uint32, n uint) {
	for i := int(n) - 1; i >= 0; i-- {
		b.acc = b.acc<<1 | (v>>uint(i))&1
		b.nacc++
		if b.nacc == 8 {
			b.out.WriteByte(byte(b.acc))
			if byte(b.acc) == 0xff {
				b.out.WriteByte(0)
			}
			b.acc, b.nacc = 0, 0
		}
	}
}

func (b *bitWriter) flush() {
	for b.nacc != 0 {
		b.bits(1, 1)
	}
}

func segment(buf *bytes.Buffer, marker byte, data []byte) {
	n := len(data) + 2
	buf.Write([]byte{0xff, marker, byte(n >> 8), byte(n)})
	buf.Write(data)
}

// frameStart writes SOI, a flat quantization table, the frame header (SOF
// marker, w×h, one grey component) and the Huffman tables: DC with the one
// symbol 0 (code "0"), AC with the EOB-run symbols r<<4, r = 0..14 (4-bit
// codes 0000..1110).
func frameStart(buf *bytes.Buffer, sof byte, w, h int) {
	buf.Write([]byte{0xff, 0xd8})
	dqt := append([]byte{0}, bytes.Repeat([]byte{1}, 64)...)
	segment(buf, 0xdb, dqt)
	segment(buf, sof, []byte{8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), 1, 1, 0x11, 0})
	dc := append([]byte{0x00, 1}, make([]byte, 15)...)
	dc = append(dc, 0)
	segment(buf, 0xc4, dc)
	ac := append([]byte{0x10, 0, 0, 0, 15}, make([]byte, 12)...)
	for r := range 15 {
		ac = append(ac, byte(r<<4))
	}
	segment(buf, 0xc4, ac)
}

// ProgressiveJPEG is a valid grey progressive w×h JPEG of the given number
// of scans: a DC scan (every block 0), then scans-1 AC scans of the full
// band whose data is one run of end-of-bands over every block: a few bytes
// that make a decoder walk every block again.
func ProgressiveJPEG(w, h, scans int) []byte {
	var buf bytes.Buffer
	frameStart(&buf, 0xc2, w, h)
	blocks := ((w + 7) / 8) * ((h + 7) / 8)
	segment(&buf, 0xda, []byte{1, 1, 0x00, 0, 0, 0})
	bw := &bitWriter{out: &buf}
	for range blocks {
		bw.bits(0, 1) // DC difference category 0
	}
	bw.flush()
	for range scans - 1 {
		segment(&buf, 0xda, []byte{1, 1, 0x00, 1, 63, 0})
		for left := blocks; left > 0; {
			run := min(left, 1<<15-1)
			r := 0
			for 1<<(r+1) <= run {
				r++
			}
			bw.bits(uint32(r), 4)              // symbol r<<4: EOBr
			bw.bits(uint32(run-1<<r), uint(r)) // run = 2^r + extra bits
			left -= run
		}
		bw.flush()
	}
	buf.Write([]byte{0xff, 0xd9})
	return buf.Bytes()
}

// JPEGHeader is a baseline JPEG whose frame header claims w×h, with one
// token scan.
func JPEGHeader(w, h int) []byte {
	var buf bytes.Buffer
	frameStart(&buf, 0xc0, w, h)
	segment(&buf, 0xda, []byte{1, 1, 0x00, 0, 63, 0})
	buf.Write(bytes.Repeat([]byte{0x0f}, 64)) // DC 0, EOB (r=0), …
	buf.Write([]byte{0xff, 0xd9})
	return buf.Bytes()
}
