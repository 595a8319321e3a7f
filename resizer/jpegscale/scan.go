package jpegscale

import "bytes"

// zigzag[k] is the natural (row-major) index of the k-th coefficient in
// zig-zag order (T.81 figure A.6).
var zigzag = [64]uint8{
	0, 1, 8, 16, 9, 2, 3, 10,
	17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34,
	27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36,
	29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46,
	53, 60, 61, 54, 47, 55, 62, 63,
}

type scanComp struct {
	c      *component
	dc, ac *huffTable
	qt     *[64]float32 // dequantization (and IDCT prescale) in zig-zag order
}

type scan struct {
	comps          []scanComp
	ss, se, ah, al int
}

func (d *decoder) parseSOSAndDecode(seg []byte) error {
	if len(seg) < 1 {
		return corruptf("short SOS")
	}
	ns := int(seg[0])
	if ns < 1 || ns > 4 || len(seg) != 4+2*ns {
		return corruptf("bad SOS length")
	}
	var sc scan
	var storage [4]scanComp
	sc.comps = storage[:0]
	blocksPerMCU := 0
	for i := 0; i < ns; i++ {
		id := seg[1+2*i]
		td, ta := seg[2+2*i]>>4, seg[2+2*i]&15
		if td > 3 || ta > 3 {
			return corruptf("bad Huffman table index in SOS")
		}
		var c *component
		for j := range d.comps {
			if d.comps[j].id == id {
				c = &d.comps[j]
			}
		}
		if c == nil {
			return corruptf("SOS names unknown component %d", id)
		}
		for _, o := range sc.comps {
			if o.c == c {
				return corruptf("SOS names component %d twice", id)
			}
		}
		sc.comps = append(sc.comps, scanComp{c: c, dc: &d.dcHuff[td], ac: &d.acHuff[ta]})
		blocksPerMCU += c.h * c.v
	}
	p := 1 + 2*ns
	sc.ss, sc.se = int(seg[p]), int(seg[p+1])
	sc.ah, sc.al = int(seg[p+2]>>4), int(seg[p+2]&15)
	if ns > 1 && blocksPerMCU > 10 {
		return corruptf("too many blocks per MCU")
	}
	if d.progressive && d.denom == 8 && sc.ss > 0 {
		// At 1/8 only DC coefficients are used, and AC scans never affect
		// DC scans: skip the entropy-coded data to the next marker.
		return d.skipScan()
	}
	d.eobrun = 0
	for i := range sc.comps {
		sc.comps[i].c.pred = 0
	}
	if d.progressive {
		d.br.reset(d.data, d.pos)
		d.br.bad = false
		if err := d.decodeProgressiveScan(&sc); err != nil {
			return err
		}
		// Resume marker parsing where the entropy-coded data stopped; the
		// marker loop skips any remaining bytes up to the next marker.
		d.pos = d.br.pos
		return nil
	}
	for i := range sc.comps {
		s := &sc.comps[i]
		if !s.dc.set || !s.ac.set {
			return corruptf("scan uses an undefined Huffman table")
		}
		if !d.qtSet[s.c.tq] {
			return corruptf("scan uses an undefined quantization table")
		}
		s.qt = d.dequantTable(s.c.tq)
	}
	return d.decodeBaselineScan(&sc)
}

// skipScan moves d.pos past an entropy-coded segment without decoding it:
// to the next marker that is not a stuffed 0xFF00 or a restart marker.
func (d *decoder) skipScan() error {
	p := d.pos
	for {
		i := bytes.IndexByte(d.data[p:], 0xFF)
		if i < 0 || p+i+1 >= len(d.data) {
			return corruptf("unexpected end of data in a scan")
		}
		p += i + 1
		c := d.data[p]
		if c == 0 || (c >= mRST0 && c <= mRST7) || c == 0xFF {
			continue
		}
		d.pos = p - 1
		return nil
	}
}

// restartSync handles the end of a restart interval: it drops the
// remaining bits and expects an RSTn marker.
func (d *decoder) restartSync() error {
	br := &d.br
	if br.overrun() || br.bad {
		return corruptf("truncated or corrupt entropy-coded data")
	}
	p := br.pos
	for p < len(br.data) && br.data[p] == 0xFF {
		p++
	}
	if p >= len(br.data) || br.data[p] < mRST0 || br.data[p] > mRST7 || p == br.pos {
		return corruptf("missing restart marker")
	}
	br.reset(br.data, p+1)
	d.eobrun = 0
	for i := range d.comps {
		d.comps[i].pred = 0
	}
	return nil
}

// mcuIter walks the MCUs of a scan, handling restart intervals; for each
// MCU it calls fn with the MCU position. Non-interleaved scans (one
// component) have one block per MCU over the component's own block grid.
func (d *decoder) walkMCUs(sc *scan, fn func(mx, my int) error) error {
	var nx, ny int
	if len(sc.comps) == 1 {
		nx, ny = sc.comps[0].c.cbw, sc.comps[0].c.cbh
	} else {
		nx, ny = d.mcusX, d.mcusY
	}
	count := 0
	for my := 0; my < ny; my++ {
		if err := d.stopped(); err != nil {
			return err
		}
		for mx := 0; mx < nx; mx++ {
			if d.restart > 0 && count == d.restart {
				if err := d.restartSync(); err != nil {
					return err
				}
				count = 0
			}
			count++
			if err := fn(mx, my); err != nil {
				return err
			}
			if d.br.bad || d.br.overrun() {
				return corruptf("truncated or corrupt entropy-coded data")
			}
		}
	}
	return nil
}

// emitBlock runs the (scaled) inverse DCT of d.blk into the component's
// plane at block (bx, by) and clears d.blk. d.blkAC tells whether any AC
// coefficient was stored; a DC-only block is flat.
func (d *decoder) emitBlock(c *component, bx, by int) {
	bs := d.bs
	off := by*bs*c.stride + bx*bs
	if d.denom == 8 {
		c.pix[off] = clamp(d.blk[0] + 128)
		d.blk[0] = 0
		return
	}
	if !d.blkAC {
		// DC-only: a flat block of the mean, DC/8 (the 1/1 table already
		// holds the /8 of the AAN prescale).
		dc := d.blk[0]
		if d.denom != 1 {
			dc *= 0.125
		}
		v := clamp(dc + 128)
		d.blk[0] = 0
		for y := 0; y < bs; y++ {
			row := c.pix[off+y*c.stride : off+y*c.stride+bs]
			for x := range row {
				row[x] = v
			}
		}
		return
	}
	switch d.denom {
	case 4:
		idct2(&d.blk, c.pix[off:], c.stride)
	case 2:
		idct4(&d.blk, c.pix[off:], c.stride)
	default:
		idct8(&d.blk, &d.tmp, c.pix[off:], c.stride)
	}
	d.blk = [64]float32{}
	d.blkAC = false
}
