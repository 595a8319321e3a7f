package jpegenc

import "math/bits"

// token is one entropy-coded item of a scan: a Huffman symbol from table
// tbl followed by n extra bits, or (tbl < 0) n raw bits alone.
type token struct {
	tbl  int8 // 0..3: dcLuma, dcChroma, acLuma, acChroma; -1: raw bits
	sym  uint8
	n    uint8
	bits uint16
}

const (
	tblDCLuma = iota
	tblDCChroma
	tblACLuma
	tblACChroma
)

// scan is one SOS: its components (indexes), spectral band and successive
// approximation bits.
type scan struct {
	comps  []int
	ss, se int
	ah, al int
}

// scanCoder turns blocks into tokens for one scan.
type scanCoder struct {
	toks   []token
	eobrun int
	be     []uint8 // correction bits waiting for the pending EOB run
	br     []uint8 // correction bits of the current block
}

// magnitude returns the T.81 category of v and its extra bits.
func magnitude(v int) (uint8, uint16) {
	a := v
	if a < 0 {
		a = -a
		v--
	}
	n := uint8(bits.Len(uint(a)))
	return n, uint16(v) & (1<<n - 1)
}

func (s *scanCoder) sym(tbl int, sym uint8, n uint8, b uint16) {
	s.toks = append(s.toks, token{tbl: int8(tbl), sym: sym, n: n, bits: b})
}

func (s *scanCoder) raw(n uint8, b uint16) {
	s.toks = append(s.toks, token{tbl: -1, n: n, bits: b})
}

// encodeScan returns the tokens of sc over comps.
func encodeScan(comps []*component, sc scan) []token {
	s := &scanCoder{}
	pred := make([]int, len(comps))
	each := func(f func(ci int, b *[64]int16)) {
		if len(sc.comps) == 1 {
			c := comps[sc.comps[0]]
			for by := range c.nbh {
				for bx := range c.nbw {
					f(sc.comps[0], c.block(bx, by))
				}
			}
			return
		}
		c0 := comps[sc.comps[0]]
		mcux, mcuy := c0.bw/c0.h, c0.bh/c0.v
		for my := range mcuy {
			for mx := range mcux {
				for _, ci := range sc.comps {
					c := comps[ci]
					for y := range c.v {
						for x := range c.h {
							f(ci, c.block(mx*c.h+x, my*c.v+y))
						}
					}
				}
			}
		}
	}
	dcTbl := func(ci int) int { return min(ci, 1) + tblDCLuma }
	acTbl := func(ci int) int { return min(ci, 1) + tblACLuma }
	switch {
	case sc.ss == 0 && sc.se == 63: // baseline (sequential)
		each(func(ci int, b *[64]int16) {
			v := int(b[0])
			n, eb := magnitude(v - pred[ci])
			pred[ci] = v
			s.sym(dcTbl(ci), n, n, eb)
			s.acSequential(acTbl(ci), b)
		})
	case sc.ss == 0 && sc.ah == 0: // progressive DC, first pass
		each(func(ci int, b *[64]int16) {
			v := int(b[0]) >> sc.al
			n, eb := magnitude(v - pred[ci])
			pred[ci] = v
			s.sym(dcTbl(ci), n, n, eb)
		})
	case sc.ss == 0: // progressive DC refinement
		each(func(_ int, b *[64]int16) {
			s.raw(1, uint16(int(b[0])>>sc.al)&1)
		})
	case sc.ah == 0: // progressive AC, first pass
		t := acTbl(sc.comps[0])
		each(func(_ int, b *[64]int16) { s.acFirst(t, b, sc) })
		s.flushEOB(t)
	default: // progressive AC refinement
		t := acTbl(sc.comps[0])
		each(func(_ int, b *[64]int16) { s.acRefine(t, b, sc) })
		s.flushEOB(t)
	}
	return s.toks
}

func (s *scanCoder) acSequential(t int, b *[64]int16) {
	r := 0
	for k := 1; k < 64; k++ {
		v := int(b[k])
		if v == 0 {
			r++
			continue
		}
		for r > 15 {
			s.sym(t, 0xf0, 0, 0)
			r -= 16
		}
		n, eb := magnitude(v)
		s.sym(t, uint8(r<<4)|n, n, eb)
		r = 0
	}
	if r > 0 {
		s.sym(t, 0x00, 0, 0)
	}
}

// pointTransform divides v by 2^al rounding towards zero (T.81 G.1.2.2).
func pointTransform(v, al int) int {
	if v < 0 {
		return -(-v >> al)
	}
	return v >> al
}

// flushEOB emits the pending EOB run (EOBn symbol + run bits) and then the
// correction bits buffered behind it.
func (s *scanCoder) flushEOB(t int) {
	if s.eobrun > 0 {
		n := uint8(bits.Len(uint(s.eobrun))) - 1
		s.sym(t, n<<4, n, uint16(s.eobrun)&(1<<n-1))
		s.eobrun = 0
	}
	for _, c := range s.be {
		s.raw(1, uint16(c))
	}
	s.be = s.be[:0]
}

func (s *scanCoder) acFirst(t int, b *[64]int16, sc scan) {
	r := 0
	for k := sc.ss; k <= sc.se; k++ {
		v := pointTransform(int(b[k]), sc.al)
		if v == 0 {
			r++
			continue
		}
		s.flushEOB(t)
		for r > 15 {
			s.sym(t, 0xf0, 0, 0)
			r -= 16
		}
		n, eb := magnitude(v)
		s.sym(t, uint8(r<<4)|n, n, eb)
		r = 0
	}
	if r > 0 {
		s.eobrun++
		if s.eobrun == 0x7fff {
			s.flushEOB(t)
		}
	}
}

// maxCorrBits bounds the buffered correction bits as libjpeg does.
const maxCorrBits = 1000

func (s *scanCoder) acRefine(t int, b *[64]int16, sc scan) {
	var abs [64]int
	eob := 0 // the last coefficient that becomes nonzero in this pass
	for k := sc.ss; k <= sc.se; k++ {
		v := int(b[k])
		if v < 0 {
			v = -v
		}
		abs[k] = v >> sc.al
		if abs[k] == 1 {
			eob = k
		}
	}
	r := 0
	s.br = s.br[:0]
	for k := sc.ss; k <= sc.se; k++ {
		a := abs[k]
		if a == 0 {
			r++
			continue
		}
		for r > 15 && k <= eob {
			s.flushEOB(t)
			s.sym(t, 0xf0, 0, 0)
			r -= 16
			s.emitBR()
		}
		if a > 1 { // already nonzero: one correction bit, sent later
			s.br = append(s.br, uint8(a&1))
			continue
		}
		s.flushEOB(t)
		sign := uint16(1)
		if b[k] < 0 {
			sign = 0
		}
		s.sym(t, uint8(r<<4)|1, 1, sign)
		s.emitBR()
		r = 0
	}
	if r > 0 || len(s.br) > 0 {
		s.eobrun++
		s.be = append(s.be, s.br...)
		s.br = s.br[:0]
		if s.eobrun == 0x7fff || len(s.be) > maxCorrBits-64+1 {
			s.flushEOB(t)
		}
	}
}

func (s *scanCoder) emitBR() {
	for _, c := range s.br {
		s.raw(1, uint16(c))
	}
	s.br = s.br[:0]
}
