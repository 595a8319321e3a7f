package jpegscale

import "image"

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
	single := len(sc.comps) == 1
	block := func(s *scanComp, bx, by int) bool {
		c := s.c
		coef := c.coef[(by*c.bw+bx)*64 : (by*c.bw+bx)*64+64 : (by*c.bw+bx)*64+64]
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
			return d.acFirst(s.ac, coef, sc.ss, sc.se, sc.al)
		default:
			return d.acRefine(s.ac, coef, sc.ss, sc.se, sc.al)
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

// acFirst decodes the first pass of a spectral band (G.1.2.2).
func (d *decoder) acFirst(t *huffTable, coef []int16, ss, se, al int) bool {
	if d.eobrun > 0 {
		d.eobrun--
		return true
	}
	br := &d.br
	for k := ss; k <= se; {
		rs := br.decode(t)
		r, s := int(rs>>4), rs&15
		if s == 0 {
			if r != 15 {
				d.eobrun = 1<<r - 1
				if r > 0 {
					d.eobrun += br.bits(uint(r))
				}
				break
			}
			k += 16
			continue
		}
		k += r
		if k > se {
			return false
		}
		coef[k] = int16(br.receiveExtend(s) << al)
		k++
	}
	return true
}

// acRefine decodes a successive-approximation refinement of a spectral
// band (G.1.2.3).
func (d *decoder) acRefine(t *huffTable, coef []int16, ss, se, al int) bool {
	br := &d.br
	p1 := int16(1) << al
	m1 := int16(-1) << al
	refine := func(k int) {
		if br.bit() && coef[k]&p1 == 0 {
			if coef[k] >= 0 {
				coef[k] += p1
			} else {
				coef[k] += m1
			}
		}
	}
	k := ss
	if d.eobrun == 0 {
		for ; k <= se; k++ {
			rs := br.decode(t)
			r, s := int(rs>>4), rs&15
			var val int16
			if s != 0 {
				if s != 1 {
					return false
				}
				if br.bit() {
					val = p1
				} else {
					val = m1
				}
			} else if r != 15 {
				d.eobrun = 1 << r
				if r > 0 {
					d.eobrun += br.bits(uint(r))
				}
				break
			}
			// Skip r zero-history coefficients (refining the nonzero
			// ones passed on the way), then place val.
			for k <= se {
				if coef[k] != 0 {
					refine(k)
				} else {
					if r == 0 {
						break
					}
					r--
				}
				k++
			}
			if val != 0 {
				if k > se {
					return false
				}
				coef[k] = val
			}
		}
	}
	if d.eobrun > 0 {
		for ; k <= se; k++ {
			if coef[k] != 0 {
				refine(k)
			}
		}
		d.eobrun--
	}
	return true
}

// finishProgressive dequantizes and inverse-transforms every block.
func (d *decoder) finishProgressive() error {
	n := 8 / d.denom
	var ks []int
	for k := 0; k < 64; k++ {
		if z := zigzag[k]; int(z/8) < n && int(z%8) < n {
			ks = append(ks, k)
		}
	}
	for i := range d.comps {
		c := &d.comps[i]
		if !d.qtSet[c.tq] {
			return corruptf("undefined quantization table %d", c.tq)
		}
		qt := d.dequantTable(c.tq)
		for by := 0; by < c.bh; by++ {
			for bx := 0; bx < c.bw; bx++ {
				coef := c.coef[(by*c.bw+bx)*64 : (by*c.bw+bx)*64+64 : (by*c.bw+bx)*64+64]
				for _, k := range ks {
					d.blk[zigzag[k]] = float32(coef[k]) * qt[k]
				}
				d.emitBlock(c, bx, by)
			}
		}
		c.coef = nil
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
