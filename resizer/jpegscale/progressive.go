package jpegscale

import (
	"image"
	"math/bits"
)

// decodeProgressiveScan decodes one scan of a progressive frame (T.81
// annex G) into the coefficient store.
func (d *decoder) decodeProgressiveScan(sc *scan) error {
	if sc.al > 13 || sc.ah > 13 {
		return corruptf("bad successive approximation %d/%d", sc.ah, sc.al)
	}
	if sc.ss == 0 {
		if sc.se != 0 {
			return corruptf("progressive DC scan with Se=%d", sc.se)
		}
		if sc.ah == 0 {
			for _, s := range sc.comps {
				if !s.dc.set {
					return corruptf("scan uses an undefined Huffman table")
				}
			}
		}
	} else {
		if len(sc.comps) != 1 {
			return corruptf("interleaved progressive AC scan")
		}
		if sc.se < sc.ss || sc.se > 63 {
			return corruptf("bad spectral selection %d..%d", sc.ss, sc.se)
		}
		if !sc.comps[0].ac.set {
			return corruptf("scan uses an undefined Huffman table")
		}
	}
	if sc.ss > 0 {
		return d.decodeACScan(sc)
	}
	single := len(sc.comps) == 1
	block := func(s *scanComp, bx, by int) bool {
		c := s.c
		b := by*c.bw + bx
		coef := c.coef[b*d.nslot : b*d.nslot+d.nslot : b*d.nslot+d.nslot]
		switch {
		case sc.ss == 0 && sc.ah == 0:
			t := d.br.decode(s.dc)
			if t > 16 {
				return false
			}
			c.pred += d.br.receiveExtend(t)
			coef[0] = int16(c.pred << sc.al)
		case sc.ss == 0:
			if d.br.bit() {
				coef[0] |= 1 << sc.al
			}
		case sc.ah == 0:
			return d.acFirst(s.ac, coef, &c.mask[b], sc.ss, sc.se, sc.al)
		default:
			return d.acRefine(s.ac, coef, &c.mask[b], sc.ss, sc.se, sc.al)
		}
		return true
	}
	return d.walkMCUs(sc, func(mx, my int) error {
		for i := range sc.comps {
			s := &sc.comps[i]
			if single {
				if !block(s, mx, my) {
					return corruptf("bad block data")
				}
				continue
			}
			for v := 0; v < s.c.v; v++ {
				for h := 0; h < s.c.h; h++ {
					if !block(s, mx*s.c.h+h, my*s.c.v+v) {
						return corruptf("bad block data")
					}
				}
			}
		}
		return nil
	})
}

// decodeACScan decodes a (non-interleaved) progressive AC scan.
func (d *decoder) decodeACScan(sc *scan) error {
	s := &sc.comps[0]
	c := s.c
	first := sc.ah == 0
	count := 0
	for by := 0; by < c.cbh; by++ {
		if err := d.stopped(); err != nil {
			return err
		}
		for bx := 0; bx < c.cbw; bx++ {
			if d.restart > 0 {
				if count == d.restart {
					if err := d.restartSync(); err != nil {
						return err
					}
					count = 0
				}
				count++
			}
			if first && d.eobrun > 0 {
				d.eobrun--
				continue
			}
			b := by*c.bw + bx
			coef := c.coef[b*d.nslot : b*d.nslot+d.nslot : b*d.nslot+d.nslot]
			var ok bool
			if first {
				ok = d.acFirst(s.ac, coef, &c.mask[b], sc.ss, sc.se, sc.al)
			} else {
				ok = d.acRefine(s.ac, coef, &c.mask[b], sc.ss, sc.se, sc.al)
			}
			if !ok {
				return corruptf("bad block data")
			}
		}
		if d.br.bad || d.br.overrun() {
			return corruptf("truncated or corrupt entropy-coded data")
		}
	}
	if d.br.bad || d.br.overrun() {
		return corruptf("truncated or corrupt entropy-coded data")
	}
	return nil
}

// The AC decoding loops keep the bit reader's accumulator in locals (acc,
// n) and write it back around refills and on return.

// acFirst decodes the first pass of a spectral band (G.1.2.2).
func (d *decoder) acFirst(t *huffTable, coef []int16, mask *uint64, ss, se, al int) bool {
	if d.eobrun > 0 {
		d.eobrun--
		return true
	}
	br := &d.br
	acc, n := br.acc, br.n
	m := *mask
	ok := true
	for k := ss; k <= se; {
		if n < 32 {
			acc, n = br.fill(acc, n)
		}
		var rs uint8
		if e := t.lut[(acc>>(n-lookBits))&(1<<lookBits-1)]; e != 0 {
			n -= uint(e >> 8)
			rs = uint8(e)
		} else {
			br.acc, br.n = acc, n
			rs = br.decodeSlow(t)
			n = br.n
		}
		r, s := int(rs>>4), rs&15
		if s == 0 {
			if r != 15 {
				eob := int32(1)<<r - 1
				if r > 0 {
					eob += int32((acc >> (n - uint(r))) & (1<<r - 1))
					n -= uint(r)
				}
				d.eobrun = eob
				break
			}
			k += 16
			continue
		}
		k += r
		if k > se {
			ok = false
			break
		}
		m |= 1 << k
		if i := d.slot[k]; i >= 0 {
			x := int32((acc >> (n - uint(s))) & (1<<s - 1))
			if x < 1<<(s-1) {
				x += -1<<s + 1
			}
			coef[i] = int16(x << al)
		}
		n -= uint(s)
		k++
	}
	br.acc, br.n = acc, n
	*mask = m
	return ok
}

// acRefine decodes a successive-approximation refinement of a spectral
// band (G.1.2.3). Coefficients with a non-zero history get one correction
// bit each; only the ones the output scale needs are stored. The zero runs
// and the correction bits are located with the non-zero mask, and runs of
// correction bits for unneeded coefficients are skipped in one step.
func (d *decoder) acRefine(t *huffTable, coef []int16, mask *uint64, ss, se, al int) bool {
	br := &d.br
	acc, n := br.acc, br.n
	p1 := int16(1) << al
	m1 := int16(-1) << al
	m := *mask
	need := d.needMask
	slot := &d.slot
	k := ss
	if d.eobrun == 0 {
		for ; k <= se; k++ {
			if n < 32 {
				acc, n = br.fill(acc, n)
			}
			var rs uint8
			if e := t.lut[(acc>>(n-lookBits))&(1<<lookBits-1)]; e != 0 {
				n -= uint(e >> 8)
				rs = uint8(e)
			} else {
				br.acc, br.n = acc, n
				rs = br.decodeSlow(t)
				n = br.n
			}
			r, s := int(rs>>4), rs&15
			var val int16
			if s != 0 {
				if s != 1 {
					br.acc, br.n = acc, n
					return false
				}
				n--
				if acc>>n&1 != 0 {
					val = p1
				} else {
					val = m1
				}
			} else if r != 15 {
				eob := int32(1) << r
				if r > 0 {
					eob += int32((acc >> (n - uint(r))) & (1<<r - 1))
					n -= uint(r)
				}
				d.eobrun = eob
				break
			}
			// Skip r zero-history coefficients (refining the non-zero
			// ones passed on the way); val goes to the next zero-history one.
			band := bandMask(k, se)
			zeros := ^m & band
			for ; r > 0 && zeros != 0; r-- {
				zeros &= zeros - 1
			}
			pos := se + 1
			if zeros != 0 {
				pos = bits.TrailingZeros64(zeros)
			}
			if nz := m & band &^ bandMask(pos, 63); nz != 0 {
				acc, n = refineBits(br, acc, n, nz, need, slot, coef, p1, m1)
			}
			k = pos
			if val != 0 {
				if k > se {
					br.acc, br.n = acc, n
					return false
				}
				m |= 1 << k
				if i := slot[k]; i >= 0 {
					coef[i] = val
				}
			}
		}
	}
	if d.eobrun > 0 {
		if k <= se {
			if nz := m & bandMask(k, se); nz != 0 {
				acc, n = refineBits(br, acc, n, nz, need, slot, coef, p1, m1)
			}
		}
		d.eobrun--
	}
	br.acc, br.n = acc, n
	*mask = m
	return true
}

// refineBits reads the correction bits of the non-zero-history
// coefficients in nz (in order), applying those the scale needs.
func refineBits(br *bitReader, acc uint64, n uint, nz, need uint64, slot *[64]int8, coef []int16, p1, m1 int16) (uint64, uint) {
	if nz&need == 0 {
		for c := uint(bits.OnesCount64(nz)); c > 0; {
			if n == 0 {
				acc, n = br.fill(acc, n)
			}
			take := min(c, n)
			n -= take
			c -= take
		}
		return acc, n
	}
	for nz != 0 {
		kk := bits.TrailingZeros64(nz)
		nz &= nz - 1
		if n == 0 {
			acc, n = br.fill(acc, n)
		}
		n--
		if acc>>n&1 != 0 {
			if i := slot[kk]; i >= 0 && coef[i]&p1 == 0 {
				if coef[i] >= 0 {
					coef[i] += p1
				} else {
					coef[i] += m1
				}
			}
		}
	}
	return acc, n
}

// bandMask has bits lo..hi set (0 ≤ lo, hi ≤ 63; empty when lo > hi).
func bandMask(lo, hi int) uint64 {
	if lo > hi || lo > 63 {
		return 0
	}
	return (^uint64(0) >> (63 - uint(hi))) &^ (1<<uint(lo) - 1)
}

// finishProgressive dequantizes and inverse-transforms every block.
func (d *decoder) finishProgressive() error {
	for i := range d.comps {
		c := &d.comps[i]
		if !d.qtSet[c.tq] {
			return corruptf("undefined quantization table %d", c.tq)
		}
		qt := d.dequantTable(c.tq)
		for by := 0; by < c.bh; by++ {
			if err := d.stopped(); err != nil {
				return err
			}
			for bx := 0; bx < c.bw; bx++ {
				b := by*c.bw + bx
				coef := c.coef[b*d.nslot : b*d.nslot+d.nslot : b*d.nslot+d.nslot]
				d.blk[0] = float32(coef[0]) * qt[0]
				for i := 1; i < len(d.ks); i++ {
					if coef[i] != 0 {
						k := d.ks[i]
						d.blk[zigzag[k]] = float32(coef[i]) * qt[k]
						d.blkAC = true
					}
				}
				d.emitBlock(c, bx, by)
			}
		}
		c.coef, c.mask = nil, nil
	}
	return nil
}

var ratios = map[[2]int]image.YCbCrSubsampleRatio{
	{1, 1}: image.YCbCrSubsampleRatio444,
	{2, 1}: image.YCbCrSubsampleRatio422,
	{2, 2}: image.YCbCrSubsampleRatio420,
	{1, 2}: image.YCbCrSubsampleRatio440,
	{4, 1}: image.YCbCrSubsampleRatio411,
	{4, 2}: image.YCbCrSubsampleRatio410,
}

// output wraps the decoded planes in an image.
func (d *decoder) output() image.Image {
	w := (d.width + d.denom - 1) / d.denom
	h := (d.height + d.denom - 1) / d.denom
	rect := image.Rect(0, 0, w, h)
	if len(d.comps) == 1 {
		c := &d.comps[0]
		return &image.Gray{Pix: c.pix, Stride: c.stride, Rect: rect}
	}
	y, cb, cr := &d.comps[0], &d.comps[1], &d.comps[2]
	if cb.h == cr.h && cb.v == cr.v && y.h == d.hmax && y.v == d.vmax && d.hmax%cb.h == 0 && d.vmax%cb.v == 0 {
		if r, ok := ratios[[2]int{d.hmax / cb.h, d.vmax / cb.v}]; ok {
			return &image.YCbCr{Y: y.pix, Cb: cb.pix, Cr: cr.pix, YStride: y.stride, CStride: cb.stride, SubsampleRatio: r, Rect: rect}
		}
	}
	// Sampling that image.YCbCr cannot express: replicate to 4:4:4.
	out := image.NewYCbCr(rect, image.YCbCrSubsampleRatio444)
	planes := [3][]byte{out.Y, out.Cb, out.Cr}
	for i := range d.comps {
		c := &d.comps[i]
		dst := planes[i]
		for yy := 0; yy < h; yy++ {
			sy := yy * c.v / d.vmax
			src := c.pix[sy*c.stride:]
			row := dst[yy*out.YStride : yy*out.YStride+w]
			for xx := range row {
				row[xx] = src[xx*c.h/d.hmax]
			}
		}
	}
	return out
}
