package jpegscale

const lookBits = 9

// huffTable is a canonical Huffman table (T.81 annex C) with a lookahead
// table for codes of up to lookBits bits and per-length limits for longer
// ones.
type huffTable struct {
	set bool
	// lut[next lookBits bits] = codeLength<<8 | symbol; 0 when the code is longer.
	lut     [1 << lookBits]uint16
	maxcode [17]int32 // largest code of each length, -1 if none
	valptr  [17]int32 // index in vals of the first code of each length
	mincode [17]int32
	vals    [256]uint8
	fast    [1 << fastBits]uint32 // the sequential decoder's combined tables
	skip    [1 << fastBits]uint16
}

func (t *huffTable) build(counts *[17]int, vals []byte) error {
	*t = huffTable{}
	copy(t.vals[:], vals)
	code := int32(0)
	k := int32(0)
	for l := 1; l <= 16; l++ {
		n := int32(counts[l])
		if n == 0 {
			t.maxcode[l] = -1
		} else {
			t.valptr[l] = k
			t.mincode[l] = code
			code += n
			k += n
			t.maxcode[l] = code - 1
			if code > 1<<l {
				return corruptf("bad Huffman table (code lengths overflow)")
			}
			if l <= lookBits {
				for c := t.mincode[l]; c <= t.maxcode[l]; c++ {
					sym := uint16(t.vals[t.valptr[l]+c-t.mincode[l]])
					shift := lookBits - l
					base := c << shift
					for j := int32(0); j < 1<<shift; j++ {
						t.lut[base+j] = uint16(l)<<8 | sym
					}
				}
			}
		}
		code <<= 1
	}
	t.set = true
	return nil
}

// bitReader reads the entropy-coded segment of a scan: it removes the
// 0xFF00 byte stuffing and stops at markers, after which (and after the end
// of the data) it supplies zero bits and counts them as fake, so that a
// scan that needs them can be reported as corrupt.
type bitReader struct {
	data []byte
	pos  int
	acc  uint64 // the low n bits are valid, most significant first
	n    uint
	fake uint // how many of the low bits of acc are fake zeros
	bad  bool // an invalid Huffman code was seen
}

func (br *bitReader) reset(data []byte, pos int) {
	br.data = data
	br.pos = pos
	br.acc = 0
	br.n = 0
	br.fake = 0
}

// overrun reports whether bits beyond the scan's data were consumed.
func (br *bitReader) overrun() bool { return br.n < br.fake }

// refill tops the accumulator up to at least 57 bits.
func (br *bitReader) refill() {
	if br.fake == 0 && br.pos+8 <= len(br.data) {
		b := br.data[br.pos : br.pos+8 : br.pos+8]
		w := uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 |
			uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
		// any 0xFF byte? (has-zero-byte test on the complement)
		x := ^w
		if (x-0x0101010101010101)&^x&0x8080808080808080 == 0 {
			k := (64 - br.n) / 8 // whole bytes that fit
			br.acc = br.acc<<(8*k) | w>>(64-8*k)
			br.n += 8 * k
			br.pos += int(k)
			return
		}
	}
	for br.n <= 56 {
		if br.fake > 0 || br.pos >= len(br.data) {
			br.acc <<= 8
			br.n += 8
			br.fake += 8
			continue
		}
		c := br.data[br.pos]
		if c == 0xFF {
			if br.pos+1 < len(br.data) && br.data[br.pos+1] == 0 {
				br.pos += 2
			} else {
				// a marker: leave it for the caller
				br.acc <<= 8
				br.n += 8
				br.fake += 8
				continue
			}
		} else {
			br.pos++
		}
		br.acc = br.acc<<8 | uint64(c)
		br.n += 8
	}
}

// fill stores a caller's local copy of the accumulator, refills and
// returns the new state.
func (br *bitReader) fill(acc uint64, n uint) (uint64, uint) {
	br.acc, br.n = acc, n
	br.refill()
	return br.acc, br.n
}

// decode reads one Huffman-coded symbol.
func (br *bitReader) decode(t *huffTable) uint8 {
	if br.n < 16 {
		br.refill()
	}
	e := t.lut[(br.acc>>(br.n-lookBits))&(1<<lookBits-1)]
	if e != 0 {
		br.n -= uint(e >> 8)
		return uint8(e)
	}
	return br.decodeSlow(t)
}

//go:noinline
func (br *bitReader) decodeSlow(t *huffTable) uint8 {
	code := int32((br.acc >> (br.n - 16)) & 0xFFFF)
	for l := lookBits + 1; l <= 16; l++ {
		c := code >> (16 - l)
		if c <= t.maxcode[l] {
			br.n -= uint(l)
			return t.vals[(t.valptr[l]+c-t.mincode[l])&255]
		}
	}
	br.bad = true
	br.n -= 16
	return 0
}

// receiveExtend reads s (0..16) bits and sign-extends them (T.81 F.2.2.1).
func (br *bitReader) receiveExtend(s uint8) int32 {
	if s == 0 {
		return 0
	}
	if br.n < 16 {
		br.refill()
	}
	v := int32((br.acc >> (br.n - uint(s))) & (1<<s - 1))
	br.n -= uint(s)
	if v < 1<<(s-1) {
		v += -1<<s + 1
	}
	return v
}

// bit reads one bit.
func (br *bitReader) bit() bool {
	if br.n == 0 {
		br.refill()
	}
	br.n--
	return br.acc>>br.n&1 != 0
}
