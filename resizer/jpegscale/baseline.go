package jpegscale

import "math/bits"

// The sequential (baseline) scan decoder. Its hot loops keep the bit
// accumulator in locals, probe the combined tables of fasthuff.go once per
// symbol and never store a coefficient the output scale does not use: at
// 1/8 only the DC value is computed, the AC codes are skipped by their
// total length.

// mcuBlock is one block of an MCU: the scan component and the block's
// offset inside the MCU.
type mcuBlock struct {
	s      *scanComp
	dx, dy int
}

// at returns the block's position in its component's block grid for the
// MCU at (mx, my); a non-interleaved scan has one block per MCU.
func (b mcuBlock) at(mx, my int, single bool) (int, int) {
	if single {
		return mx, my
	}
	return mx*b.s.c.h + b.dx, my*b.s.c.v + b.dy
}

// decodeBaselineScan decodes a sequential scan straight to pixels.
func (d *decoder) decodeBaselineScan(sc *scan) error {
	var blocks [10]mcuBlock
	mcu := blocks[:0]
	nx, ny := d.mcusX, d.mcusY
	single := len(sc.comps) == 1
	if single {
		// non-interleaved: one block per MCU over the component's own grid
		nx, ny = sc.comps[0].c.cbw, sc.comps[0].c.cbh
		mcu = append(mcu, mcuBlock{s: &sc.comps[0]})
	} else {
		for i := range sc.comps {
			s := &sc.comps[i]
			for v := 0; v < s.c.v; v++ {
				for h := 0; h < s.c.h; h++ {
					mcu = append(mcu, mcuBlock{s: s, dx: h, dy: v})
				}
			}
		}
	}
	r := &d.ecs
	r.reset(d.data, d.pos)
	count := 0
	for my := 0; my < ny; my++ {
		if err := d.stopped(); err != nil {
			return err
		}
		for mx := 0; mx < nx; mx++ {
			if d.restart > 0 && count == d.restart {
				if err := d.ecsRestart(); err != nil {
					return err
				}
				count = 0
			}
			count++
			r.need()
			for _, b := range mcu {
				c := b.s.c
				bx, by := b.at(mx, my, single)
				if d.denom == 8 {
					if !d.blockDC(b.s, &c.pix[by*c.stride+bx]) {
						return corruptf("bad block data")
					}
					continue
				}
				if !d.blockAC(b.s) {
					return corruptf("bad block data")
				}
				d.emitBlock(c, bx, by)
			}
			if r.overrun() {
				return corruptf("truncated or corrupt entropy-coded data")
			}
		}
	}
	// Resume marker parsing where unstuffing stopped: at the marker, or
	// inside trailing data the marker loop skips.
	d.pos = r.sp
	return nil
}

// ecsRestart handles the end of a restart interval: it drops the rest of
// the interval's data (as libjpeg does) and expects an RSTn marker.
func (d *decoder) ecsRestart() error {
	r := &d.ecs
	if r.overrun() {
		return corruptf("truncated or corrupt entropy-coded data")
	}
	for !r.done {
		r.pos = r.end
		r.fill()
	}
	p := r.sp
	for p < len(r.src) && r.src[p] == 0xFF {
		p++
	}
	if p >= len(r.src) || r.src[p] < mRST0 || r.src[p] > mRST7 || p == r.sp {
		return corruptf("missing restart marker")
	}
	r.pos = r.end
	r.reset(r.src, p+1)
	d.eobrun = 0
	for i := range d.comps {
		d.comps[i].pred = 0
	}
	return nil
}

// dcDiff decodes a block's DC difference; the caller has made sure that
// at least 32 bits are in acc.
func dcDiff(t *huffTable, acc uint64, n uint) (int32, uint64, uint, bool) {
	e := t.fast[acc>>(64-fastBits)]
	if e&fUsed == 0 {
		var ok bool
		if e, ok = t.slowEnt(acc, false); !ok {
			return 0, acc, n, false
		}
	}
	used := e & fUsed
	acc <<= used
	n -= uint(used)
	v := int32(int16(e >> fVal))
	if x := e >> fExtra & 31; x != 0 {
		v = extend(int32(acc>>(64-x)), uint8(x))
		acc <<= x
		n -= uint(x)
	}
	return v, acc, n, true
}

// skipAC skips a block's AC codes from zig-zag position k on by their
// total length. coef tells whether any of them carried a coefficient; ok
// is false for a code that is not in the table or a coefficient past the
// block's end (only ZRL may overshoot).
func skipAC(t *huffTable, buf []byte, acc uint64, n uint, pos, k int) (uint64, uint, int, bool, bool) {
	skip := &t.skip
	adv, seen := uint(0), uint(0)
	for k < 64 {
		if n < 32 {
			acc, n, pos = refill(buf, acc, n, pos)
		}
		e := uint(skip[acc>>(64-fastBits)])
		if e == 0 {
			f, ok := t.slowEnt(acc, true)
			if !ok {
				return acc, n, pos, false, false
			}
			e = uint(skipOf(f))
		}
		acc <<= e & 0xFF
		n -= e & 0xFF
		adv = e >> 8
		if adv == 0 {
			break
		}
		seen |= adv
		k += int(adv & 31)
	}
	return acc, n, pos, seen&32 != 0, k <= 64 || adv&32 == 0
}

// blockDC decodes a block at 1/8: its DC value becomes the pixel *dst,
// the AC codes are skipped.
func (d *decoder) blockDC(s *scanComp, dst *byte) bool {
	r := &d.ecs
	buf, pos, acc, n := r.buf, r.pos, r.acc, r.n
	if n < 32 {
		acc, n, pos = refill(buf, acc, n, pos)
	}
	v, acc, n, ok := dcDiff(s.dc, acc, n)
	if !ok {
		return false
	}
	s.c.pred += v
	*dst = clamp(float32(s.c.pred)*s.qt[0] + 128)
	acc, n, pos, _, ok = skipAC(s.ac, buf, acc, n, pos, 1)
	r.pos, r.acc, r.n = pos, acc, n
	return ok
}

// blockAC decodes a block into d.blk (dequantized, natural order), storing
// only the coefficients the output scale uses (d.needMask); past the last
// of them the codes are skipped. d.blkAC tells whether any AC coefficient
// was non-zero.
func (d *decoder) blockAC(s *scanComp) bool {
	r := &d.ecs
	buf, pos, acc, n := r.buf, r.pos, r.acc, r.n
	if n < 32 {
		acc, n, pos = refill(buf, acc, n, pos)
	}
	v, acc, n, ok := dcDiff(s.dc, acc, n)
	if !ok {
		return false
	}
	s.c.pred += v
	qt, blk, need := s.qt, &d.blk, d.needMask
	last := 63 - bits.LeadingZeros64(need)
	blk[0] = float32(s.c.pred) * qt[0]
	fast := &s.ac.fast
	for k := 1; k < 64; {
		if k > last {
			var coef bool
			acc, n, pos, coef, ok = skipAC(s.ac, buf, acc, n, pos, k)
			d.blkAC = d.blkAC || coef
			if !ok {
				return false
			}
			break
		}
		if n < 32 {
			acc, n, pos = refill(buf, acc, n, pos)
		}
		e := fast[acc>>(64-fastBits)]
		if e&fUsed == 0 {
			if e, ok = s.ac.slowEnt(acc, true); !ok {
				return false
			}
		}
		used := e & fUsed
		acc <<= used
		n -= uint(used)
		if e&fCoef == 0 {
			if e>>fAdv&31 == 0 {
				break // EOB
			}
			k += 16 // ZRL
			continue
		}
		k += int(e >> fAdv & 31)
		if k > 64 {
			return false
		}
		z := (k - 1) & 63
		d.blkAC = true
		x := e >> fExtra & 31
		if need>>z&1 == 0 {
			acc <<= x
			n -= uint(x)
			continue
		}
		v := int32(int16(e >> fVal))
		if x != 0 {
			v = extend(int32(acc>>(64-x)), uint8(x))
			acc <<= x
			n -= uint(x)
		}
		blk[zigzag[z]] = float32(v) * qt[z]
	}
	r.pos, r.acc, r.n = pos, acc, n
	return true
}
