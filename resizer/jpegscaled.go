package resizer

// A JPEG decoder that decodes at 1/8, 2/8 or 4/8 of the size in the DCT
// domain: for each 8×8 block only the top-left n×n coefficients go through
// an n-point inverse DCT, so a 20-megapixel photo never exists at full size
// in memory. Progressive files keep, per block, only those n×n coefficients
// plus a 64-bit mask of which coefficients are non-zero (successive
// approximation needs to know that for all 64). Written from the JPEG
// specification (ITU T.81); the standard library's image/jpeg decodes
// everything this one declines (errJPEGFallback): full scale, 12-bit,
// arithmetic coding, CMYK/YCCK, RGB JPEGs and unusual sampling.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"math/bits"
)

var errJPEGFallback = errors.New("jpeg feature left to image/jpeg")

// jpegCorrupt is a decoding error of a file that is not a valid JPEG.
type jpegCorrupt string

func (e jpegCorrupt) Error() string { return "invalid JPEG: " + string(e) }

var errJPEGTruncated = fmt.Errorf("truncated JPEG data: %w", io.ErrUnexpectedEOF)

type huffTable struct {
	lut     [1 << 9]uint16 // (length << 8) | symbol; 0 = not in the fast table
	maxcode [18]int32
	valptr  [17]int32
	mincode [17]int32
	vals    []byte
	present bool
}

type jcomp struct {
	id, h, v, tq int
	bw, bh       int // blocks per line/column, padded to whole MCUs
	cw, ch       int // blocks actually covering the component (non-interleaved scans)
	coef         []int16
	mask         []uint64
	pix          []byte
	stride       int
	pred         int
	dcTab, acTab int
}

type jpegScaled struct {
	d           []byte
	pos         int
	acc         uint64
	nacc        uint
	marker      bool // a marker was reached: further bits read as 0
	n           int  // output pixels per block side: 1, 2 or 4
	nn          int
	w, h        int
	progressive bool
	comps       []jcomp
	hmax, vmax  int
	mcux, mcuy  int
	restart     int
	eobrun      int
	qt          [4][64]int32 // in zigzag order
	qtSet       [4]bool
	huff        [2][4]huffTable
	adobe       bool
	adobeXform  int
	sawSOF      bool
	need        [64]int // zigzag index → position in the n×n store, or -1
	needMax     int     // largest zigzag index kept
	idct        [][]float32
}

// zigzag[k] is the natural (row-major) index of the k-th coefficient.
var zigzag = [64]int{
	0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
}

// idctMatrix returns M[x][u] = c(u)·cos((2x+1)uπ/2n) with c(0)=1/(2√2),
// c(u)=1/2: the n-point inverse DCT that samples the 8-point basis at the
// centres of n cells.
func idctMatrix(n int) [][]float32 {
	m := make([][]float32, n)
	for x := range n {
		m[x] = make([]float32, n)
		for u := range n {
			c := 0.5
			if u == 0 {
				c = 1 / (2 * math.Sqrt2)
			}
			m[x][u] = float32(c * math.Cos(float64(2*x+1)*float64(u)*math.Pi/float64(2*n)))
		}
	}
	return m
}

// decodeJPEGScaled decodes data at n/8 of its size (n = 1, 2 or 4) into an
// *image.YCbCr or *image.Gray of ceil(W·n/8)×ceil(H·n/8).
func decodeJPEGScaled(data []byte, n int) (image.Image, error) {
	if n != 1 && n != 2 && n != 4 {
		return nil, errJPEGFallback
	}
	d := &jpegScaled{d: data, n: n, nn: n * n, idct: idctMatrix(n)}
	for k := range d.need {
		z := zigzag[k]
		r, c := z/8, z%8
		if r < n && c < n {
			d.need[k] = r*n + c
			d.needMax = k
		} else {
			d.need[k] = -1
		}
	}
	if err := d.run(); err != nil {
		return nil, err
	}
	return d.image()
}

func (d *jpegScaled) run() error {
	if len(d.d) < 2 || d.d[0] != 0xff || d.d[1] != 0xd8 {
		return jpegCorrupt("missing SOI")
	}
	d.pos = 2
	for {
		m, seg, err := d.nextMarker()
		if err != nil {
			return err
		}
		switch {
		case m == 0xd9: // EOI
			if !d.sawSOF {
				return jpegCorrupt("no frame")
			}
			return nil
		case m == 0xc0 || m == 0xc1 || m == 0xc2:
			if err := d.sof(seg, m == 0xc2); err != nil {
				return err
			}
		case m >= 0xc3 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc:
			return errJPEGFallback // lossless, hierarchical or arithmetic
		case m == 0xc4:
			if err := d.dht(seg); err != nil {
				return err
			}
		case m == 0xdb:
			if err := d.dqt(seg); err != nil {
				return err
			}
		case m == 0xdd:
			if len(seg) < 2 {
				return jpegCorrupt("short DRI")
			}
			d.restart = int(binary.BigEndian.Uint16(seg))
		case m == 0xee:
			if len(seg) >= 12 && string(seg[:5]) == "Adobe" {
				d.adobe = true
				d.adobeXform = int(seg[11])
			}
		case m == 0xda:
			if !d.sawSOF {
				return jpegCorrupt("scan before frame")
			}
			if err := d.sos(seg); err != nil {
				return err
			}
		}
	}
}

// nextMarker skips to the next marker (scans leave d.pos at one) and returns
// its segment body (nil for markers without one).
func (d *jpegScaled) nextMarker() (byte, []byte, error) {
	for {
		if d.pos+2 > len(d.d) {
			return 0, nil, errJPEGTruncated
		}
		if d.d[d.pos] != 0xff {
			// Garbage between segments; libjpeg warns and skips it too.
			d.pos++
			continue
		}
		m := d.d[d.pos+1]
		if m == 0xff {
			d.pos++
			continue
		}
		d.pos += 2
		if m == 0x00 || m == 0x01 || (m >= 0xd0 && m <= 0xd8) {
			continue
		}
		if m == 0xd9 {
			return m, nil, nil
		}
		if d.pos+2 > len(d.d) {
			return 0, nil, errJPEGTruncated
		}
		l := int(binary.BigEndian.Uint16(d.d[d.pos:]))
		if l < 2 || d.pos+l > len(d.d) {
			return 0, nil, errJPEGTruncated
		}
		seg := d.d[d.pos+2 : d.pos+l]
		d.pos += l
		return m, seg, nil
	}
}

func (d *jpegScaled) sof(seg []byte, progressive bool) error {
	if d.sawSOF {
		return jpegCorrupt("two frames")
	}
	d.sawSOF = true
	d.progressive = progressive
	if len(seg) < 6 {
		return jpegCorrupt("short SOF")
	}
	if seg[0] != 8 {
		return errJPEGFallback
	}
	d.h = int(binary.BigEndian.Uint16(seg[1:]))
	d.w = int(binary.BigEndian.Uint16(seg[3:]))
	nc := int(seg[5])
	if d.w == 0 || d.h == 0 {
		return jpegCorrupt("zero size")
	}
	if nc != 1 && nc != 3 {
		return errJPEGFallback
	}
	if len(seg) < 6+3*nc {
		return jpegCorrupt("short SOF")
	}
	d.hmax, d.vmax = 1, 1
	for i := range nc {
		c := jcomp{id: int(seg[6+3*i]), h: int(seg[7+3*i] >> 4), v: int(seg[7+3*i] & 15), tq: int(seg[8+3*i])}
		if c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4 || c.tq > 3 {
			return jpegCorrupt("bad component")
		}
		d.hmax, d.vmax = max(d.hmax, c.h), max(d.vmax, c.v)
		d.comps = append(d.comps, c)
	}
	if nc == 1 {
		// A single component is never interleaved: its MCU is one block.
		d.comps[0].h, d.comps[0].v, d.hmax, d.vmax = 1, 1, 1, 1
	} else {
		// Only Y at full and chroma at 1×1 map to image.YCbCr; RGB JPEGs
		// (Adobe transform 0, or component ids 'R','G','B') go to image/jpeg.
		if d.comps[1].h != 1 || d.comps[1].v != 1 || d.comps[2].h != 1 || d.comps[2].v != 1 ||
			d.comps[0].h != d.hmax || d.comps[0].v != d.vmax {
			return errJPEGFallback
		}
		if d.adobe && d.adobeXform == 0 || d.comps[0].id == 'R' && d.comps[1].id == 'G' && d.comps[2].id == 'B' {
			return errJPEGFallback
		}
		switch [2]int{d.hmax, d.vmax} {
		case [2]int{1, 1}, [2]int{2, 1}, [2]int{2, 2}, [2]int{1, 2}, [2]int{4, 1}, [2]int{4, 2}:
		default:
			return errJPEGFallback
		}
	}
	d.mcux = (d.w + 8*d.hmax - 1) / (8 * d.hmax)
	d.mcuy = (d.h + 8*d.vmax - 1) / (8 * d.vmax)
	for i := range d.comps {
		c := &d.comps[i]
		c.bw, c.bh = d.mcux*c.h, d.mcuy*c.v
		cwpx := (d.w*c.h + d.hmax - 1) / d.hmax
		chpx := (d.h*c.v + d.vmax - 1) / d.vmax
		c.cw, c.ch = (cwpx+7)/8, (chpx+7)/8
		c.stride = c.bw * d.n
		c.pix = make([]byte, c.stride*c.bh*d.n)
		if d.progressive {
			c.coef = make([]int16, c.bw*c.bh*d.nn)
			c.mask = make([]uint64, c.bw*c.bh)
		}
	}
	return nil
}

func (d *jpegScaled) dqt(seg []byte) error {
	for len(seg) > 0 {
		pq, tq := seg[0]>>4, int(seg[0]&15)
		if tq > 3 {
			return jpegCorrupt("bad DQT")
		}
		seg = seg[1:]
		if pq == 0 {
			if len(seg) < 64 {
				return jpegCorrupt("short DQT")
			}
			for k := range 64 {
				d.qt[tq][k] = int32(seg[k])
			}
			seg = seg[64:]
		} else {
			if len(seg) < 128 {
				return jpegCorrupt("short DQT")
			}
			for k := range 64 {
				d.qt[tq][k] = int32(binary.BigEndian.Uint16(seg[2*k:]))
			}
			seg = seg[128:]
		}
		d.qtSet[tq] = true
	}
	return nil
}

func (d *jpegScaled) dht(seg []byte) error {
	for len(seg) > 0 {
		if len(seg) < 17 {
			return jpegCorrupt("short DHT")
		}
		tc, th := int(seg[0]>>4), int(seg[0]&15)
		if tc > 1 || th > 3 {
			return jpegCorrupt("bad DHT")
		}
		var counts [17]int
		total := 0
		for i := 1; i <= 16; i++ {
			counts[i] = int(seg[i])
			total += counts[i]
		}
		if total > 256 || len(seg) < 17+total {
			return jpegCorrupt("bad DHT")
		}
		t := &d.huff[tc][th]
		*t = huffTable{present: true, vals: append([]byte(nil), seg[17:17+total]...)}
		code, k := int32(0), int32(0)
		for l := 1; l <= 16; l++ {
			t.valptr[l] = k
			t.mincode[l] = code
			for range counts[l] {
				if l <= 9 {
					base := int(code) << (9 - l)
					for j := 0; j < 1<<(9-l); j++ {
						t.lut[base+j] = uint16(l)<<8 | uint16(t.vals[k])
					}
				}
				code++
				k++
			}
			if counts[l] > 0 {
				t.maxcode[l] = code - 1
			} else {
				t.maxcode[l] = -1
			}
			if code > 1<<l {
				return jpegCorrupt("bad Huffman table")
			}
			code <<= 1
		}
		t.maxcode[17] = math.MaxInt32
		seg = seg[17+total:]
	}
	return nil
}

// fill tops the bit accumulator up to at least 32 bits. At a marker it
// stops reading and supplies zero bits (the marker is left for the caller).
func (d *jpegScaled) fill() {
	for d.nacc <= 56 {
		var b byte
		if d.marker || d.pos >= len(d.d) {
			if d.pos >= len(d.d) {
				d.marker = true
			}
			b = 0
		} else {
			b = d.d[d.pos]
			if b == 0xff {
				if d.pos+1 >= len(d.d) {
					d.marker = true
					b = 0
				} else if d.d[d.pos+1] == 0x00 {
					d.pos += 2
				} else {
					d.marker = true
					b = 0
				}
			} else {
				d.pos++
			}
		}
		d.acc |= uint64(b) << (56 - d.nacc)
		d.nacc += 8
	}
}

func (d *jpegScaled) bits(n uint) int {
	if d.nacc < n {
		d.fill()
	}
	v := int(d.acc >> (64 - n)) // n = 0: a shift by 64 gives 0
	d.acc <<= n
	d.nacc -= n
	return v
}

func (d *jpegScaled) bit() bool {
	if d.nacc == 0 {
		d.fill()
	}
	b := d.acc >> 63
	d.acc <<= 1
	d.nacc--
	return b != 0
}

func extend(v int, s uint) int {
	if v < 1<<(s-1) {
		return v - (1 << s) + 1
	}
	return v
}

func (d *jpegScaled) decodeHuff(t *huffTable) (byte, error) {
	if d.nacc < 16 {
		d.fill()
	}
	if e := t.lut[d.acc>>(64-9)]; e != 0 {
		l := uint(e >> 8)
		d.acc <<= l
		d.nacc -= l
		return byte(e), nil
	}
	return d.decodeHuffSlow(t)
}

func (d *jpegScaled) decodeHuffSlow(t *huffTable) (byte, error) {
	code := int32(0)
	for l := 1; l <= 16; l++ {
		code = code<<1 | int32(d.bits(1))
		if code <= t.maxcode[l] {
			return t.vals[t.valptr[l]+code-t.mincode[l]], nil
		}
	}
	if d.marker {
		return 0, errJPEGTruncated
	}
	return 0, jpegCorrupt("bad Huffman code")
}

// resetBits drops buffered bits at a restart marker or scan end.
func (d *jpegScaled) resetBits() {
	d.acc, d.nacc, d.marker = 0, 0, false
}

// expectRST consumes the restart marker after an interval.
func (d *jpegScaled) expectRST() error {
	d.resetBits()
	// The bit reader stopped before the marker (or before padding bytes).
	for d.pos+1 < len(d.d) && !(d.d[d.pos] == 0xff && d.d[d.pos+1] >= 0xd0 && d.d[d.pos+1] <= 0xd7) {
		if d.d[d.pos] == 0xff && d.d[d.pos+1] != 0 && d.d[d.pos+1] != 0xff {
			return jpegCorrupt("missing restart marker")
		}
		d.pos++
	}
	if d.pos+1 >= len(d.d) {
		return errJPEGTruncated
	}
	d.pos += 2
	for i := range d.comps {
		d.comps[i].pred = 0
	}
	d.eobrun = 0
	return nil
}

func (d *jpegScaled) sos(seg []byte) error {
	if len(seg) < 1 {
		return jpegCorrupt("short SOS")
	}
	ns := int(seg[0])
	if ns < 1 || ns > len(d.comps) || len(seg) < 1+2*ns+3 {
		return jpegCorrupt("bad SOS")
	}
	var scomps []*jcomp
	for i := range ns {
		id := int(seg[1+2*i])
		var c *jcomp
		for j := range d.comps {
			if d.comps[j].id == id {
				c = &d.comps[j]
			}
		}
		if c == nil {
			return jpegCorrupt("scan names an unknown component")
		}
		c.dcTab, c.acTab = int(seg[2+2*i]>>4), int(seg[2+2*i]&15)
		if c.dcTab > 3 || c.acTab > 3 {
			return jpegCorrupt("bad table index")
		}
		scomps = append(scomps, c)
	}
	p := seg[1+2*ns:]
	ss, se, ah, al := int(p[0]), int(p[1]), uint(p[2]>>4), uint(p[2]&15)
	if d.progressive {
		if ss > se || se > 63 || (ss == 0 && se != 0) || (ss > 0 && ns != 1) || al > 13 {
			return jpegCorrupt("bad progressive scan")
		}
	} else if ss != 0 || se != 63 || ah != 0 || al != 0 {
		return jpegCorrupt("bad baseline scan")
	}
	for _, c := range scomps {
		if !d.qtSet[c.tq] {
			return jpegCorrupt("missing quantization table")
		}
		if (!d.progressive || ss == 0) && ah == 0 && !d.huff[0][c.dcTab].present {
			return jpegCorrupt("missing DC Huffman table")
		}
		if (!d.progressive || ss > 0) && !d.huff[1][c.acTab].present {
			return jpegCorrupt("missing AC Huffman table")
		}
		c.pred = 0
	}
	d.eobrun = 0
	d.resetBits()
	if d.progressive && ss > 0 && d.n == 1 {
		// At 1/8 only the DC coefficient is used, and AC scans never touch
		// it (DC refinement has scans of its own): skip the whole scan.
		d.skipToMarker()
		return nil
	}

	var block func(c *jcomp, bx, by int) error
	switch {
	case !d.progressive:
		block = d.baselineBlock
	case ss == 0 && ah == 0:
		block = func(c *jcomp, bx, by int) error { return d.dcFirst(c, bx, by, al) }
	case ss == 0:
		block = func(c *jcomp, bx, by int) error { return d.dcRefine(c, bx, by, al) }
	case ah == 0:
		block = func(c *jcomp, bx, by int) error { return d.acFirst(c, bx, by, ss, se, al) }
	default:
		block = func(c *jcomp, bx, by int) error { return d.acRefine(c, bx, by, ss, se, al) }
	}

	count := 0
	step := func() error {
		count++
		if d.restart > 0 && count%d.restart == 0 {
			return d.expectRST()
		}
		return nil
	}
	if ns == 1 {
		c := scomps[0]
		total := c.cw * c.ch
		for by := range c.ch {
			for bx := range c.cw {
				if err := block(c, bx, by); err != nil {
					return err
				}
				if n := by*c.cw + bx + 1; n < total {
					if err := step(); err != nil {
						return err
					}
				}
			}
		}
	} else {
		total := d.mcux * d.mcuy
		for my := range d.mcuy {
			for mx := range d.mcux {
				for _, c := range scomps {
					for v := range c.v {
						for h := range c.h {
							if err := block(c, mx*c.h+h, my*c.v+v); err != nil {
								return err
							}
						}
					}
				}
				if n := my*d.mcux + mx + 1; n < total {
					if err := step(); err != nil {
						return err
					}
				}
			}
		}
	}
	if d.marker && d.pos >= len(d.d) {
		return errJPEGTruncated
	}
	d.skipToMarker()
	return nil
}

// skipToMarker leaves d.pos at the next marker that is not a restart
// marker (the end of the current scan's entropy-coded data).
func (d *jpegScaled) skipToMarker() {
	d.resetBits()
	for {
		i := bytes.IndexByte(d.d[d.pos:], 0xff)
		if i < 0 || d.pos+i+1 >= len(d.d) {
			d.pos = len(d.d)
			return
		}
		d.pos += i
		if m := d.d[d.pos+1]; m != 0 && m != 0xff && !(m >= 0xd0 && m <= 0xd7) {
			return
		}
		d.pos++
	}
}

func (d *jpegScaled) baselineBlock(c *jcomp, bx, by int) error {
	var coef [64]float32 // n×n dequantized, row-major
	q := &d.qt[c.tq]
	t, err := d.decodeHuff(&d.huff[0][c.dcTab])
	if err != nil {
		return err
	}
	if t > 16 {
		return jpegCorrupt("bad DC size")
	}
	if t > 0 {
		c.pred += extend(d.bits(uint(t)), uint(t))
	}
	coef[0] = float32(c.pred) * float32(q[0])
	ac := &d.huff[1][c.acTab]
	for k := 1; k < 64; {
		rs, err := d.decodeHuff(ac)
		if err != nil {
			return err
		}
		r, s := int(rs>>4), uint(rs&15)
		if s == 0 {
			if r != 15 {
				break
			}
			k += 16
			continue
		}
		k += r
		if k > 63 {
			return jpegCorrupt("coefficient index out of range")
		}
		v := extend(d.bits(s), s)
		if i := d.need[k]; i >= 0 {
			coef[i] = float32(v) * float32(q[k])
		}
		k++
	}
	d.store(c, bx, by, &coef)
	return nil
}

// store runs the n-point inverse DCT on the n×n coefficients and writes the
// n×n pixels of block (bx, by).
func (d *jpegScaled) store(c *jcomp, bx, by int, coef *[64]float32) {
	n := d.n
	out := c.pix[by*n*c.stride+bx*n:]
	if n == 1 {
		out[0] = clamp8(coef[0]/8 + 128)
		return
	}
	m := d.idct
	var tmp [16]float32
	// Rows: tmp[y][x] = Σ_u M[x][u]·coef[y][u]
	for y := range n {
		for x := range n {
			var s float32
			for u := range n {
				s += m[x][u] * coef[y*n+u]
			}
			tmp[y*n+x] = s
		}
	}
	// Columns.
	for y := range n {
		row := out[y*c.stride : y*c.stride+n]
		for x := range n {
			var s float32
			for v := range n {
				s += m[y][v] * tmp[v*n+x]
			}
			row[x] = clamp8(s + 128)
		}
	}
}

func clamp8(v float32) byte {
	v += 0.5
	if v <= 0 {
		return 0
	}
	if v >= 255 {
		return 255
	}
	return byte(v)
}

func (d *jpegScaled) dcFirst(c *jcomp, bx, by int, al uint) error {
	t, err := d.decodeHuff(&d.huff[0][c.dcTab])
	if err != nil {
		return err
	}
	if t > 16 {
		return jpegCorrupt("bad DC size")
	}
	if t > 0 {
		c.pred += extend(d.bits(uint(t)), uint(t))
	}
	i := by*c.bw + bx
	c.coef[i*d.nn] = int16(c.pred << al)
	if c.pred != 0 {
		c.mask[i] |= 1
	}
	return nil
}

func (d *jpegScaled) dcRefine(c *jcomp, bx, by int, al uint) error {
	if d.bit() {
		i := by*c.bw + bx
		c.coef[i*d.nn] |= 1 << al
		c.mask[i] |= 1
	}
	return nil
}

func (d *jpegScaled) acFirst(c *jcomp, bx, by, ss, se int, al uint) error {
	if d.eobrun > 0 {
		d.eobrun--
		return nil
	}
	i := by*c.bw + bx
	ac := &d.huff[1][c.acTab]
	for k := ss; k <= se; {
		rs, err := d.decodeHuff(ac)
		if err != nil {
			return err
		}
		r, s := int(rs>>4), uint(rs&15)
		if s == 0 {
			if r < 15 {
				d.eobrun = 1<<r - 1
				if r > 0 {
					d.eobrun += d.bits(uint(r))
				}
				break
			}
			k += 16
			continue
		}
		k += r
		if k > 63 {
			return jpegCorrupt("coefficient index out of range")
		}
		v := extend(d.bits(s), s) << al
		if j := d.need[k]; j >= 0 {
			c.coef[i*d.nn+j] = int16(v)
		}
		c.mask[i] |= 1 << uint(k)
		k++
	}
	return nil
}

// skipBits drops n bits (correction bits of coefficients that are not kept).
func (d *jpegScaled) skipBits(n int) {
	for n > 0 {
		m := min(n, 32)
		d.bits(uint(m))
		n -= m
	}
}

// bandMask has bits lo..hi set (0 ≤ lo, hi ≤ 63; empty when lo > hi).
func bandMask(lo, hi int) uint64 {
	if lo > hi {
		return 0
	}
	return (^uint64(0) >> uint(63-hi)) &^ (1<<uint(lo) - 1)
}

// refineKept applies the correction bit of kept coefficient zigzag k.
func (d *jpegScaled) refineKept(coef []int16, k int, p1, m1 int16) {
	if !d.bit() {
		return
	}
	if j := d.need[k]; j >= 0 && coef[j]&p1 == 0 {
		if coef[j] >= 0 {
			coef[j] += p1
		} else {
			coef[j] += m1
		}
	}
}

// acRefine decodes one block of an AC successive-approximation scan. Every
// already non-zero coefficient in the band gets a correction bit; only the
// kept ones (zigzag ≤ needMax) need them applied, so runs past needMax are
// skipped with popcounts over the non-zero mask.
func (d *jpegScaled) acRefine(c *jcomp, bx, by, ss, se int, al uint) error {
	i := by*c.bw + bx
	p1, m1 := int16(1)<<al, int16(-1)<<al
	coef := c.coef[i*d.nn : (i+1)*d.nn]
	mask := c.mask[i]
	k := ss
	if d.eobrun == 0 {
		ac := &d.huff[1][c.acTab]
		for k <= se {
			rs, err := d.decodeHuff(ac)
			if err != nil {
				return err
			}
			r, s := int(rs>>4), uint(rs&15)
			var val int16
			if s != 0 {
				if s != 1 {
					return jpegCorrupt("bad refinement value")
				}
				if d.bit() {
					val = p1
				} else {
					val = m1
				}
			} else if r != 15 {
				d.eobrun = 1 << r
				if r > 0 {
					d.eobrun += d.bits(uint(r))
				}
				break
			}
			// Advance to the (r+1)-th zero coefficient at or after k,
			// reading a correction bit for each non-zero one passed.
			for k <= se && k <= d.needMax {
				if mask&(1<<uint(k)) != 0 {
					d.refineKept(coef, k, p1, m1)
				} else {
					if r == 0 {
						break
					}
					r--
				}
				k++
			}
			if k <= se && k > d.needMax {
				zeros := ^mask & bandMask(k, se)
				for ; r > 0 && zeros != 0; r-- {
					zeros &= zeros - 1
				}
				t := se + 1
				if zeros != 0 {
					t = bits.TrailingZeros64(zeros)
				}
				d.skipBits(bits.OnesCount64(mask & bandMask(k, t-1)))
				k = t
			}
			if val != 0 {
				if k > 63 {
					return jpegCorrupt("coefficient index out of range")
				}
				if j := d.need[k]; j >= 0 {
					coef[j] = val
				}
				mask |= 1 << uint(k)
			}
			k++
		}
	}
	if d.eobrun > 0 {
		for ; k <= se && k <= d.needMax; k++ {
			if mask&(1<<uint(k)) != 0 {
				d.refineKept(coef, k, p1, m1)
			}
		}
		if k <= se {
			d.skipBits(bits.OnesCount64(mask & bandMask(k, se)))
		}
		d.eobrun--
	}
	c.mask[i] = mask
	return nil
}

// image converts the decoded planes (running the IDCT first for
// progressive files) into an image of the scaled size.
func (d *jpegScaled) image() (image.Image, error) {
	if len(d.comps) == 0 {
		return nil, jpegCorrupt("no frame")
	}
	if d.progressive {
		var coef [64]float32
		for ci := range d.comps {
			c := &d.comps[ci]
			q := &d.qt[c.tq]
			for by := range c.bh {
				for bx := range c.bw {
					i := by*c.bw + bx
					src := c.coef[i*d.nn : (i+1)*d.nn]
					for k := range 64 {
						if j := d.need[k]; j >= 0 {
							coef[j] = float32(src[j]) * float32(q[k])
						}
					}
					d.store(c, bx, by, &coef)
				}
			}
			c.coef, c.mask = nil, nil
		}
	}
	sw, sh := (d.w*d.n+7)/8, (d.h*d.n+7)/8
	r := image.Rect(0, 0, sw, sh)
	y := &d.comps[0]
	if len(d.comps) == 1 {
		return &image.Gray{Pix: y.pix, Stride: y.stride, Rect: r}, nil
	}
	var ratio image.YCbCrSubsampleRatio
	switch [2]int{d.hmax, d.vmax} {
	case [2]int{1, 1}:
		ratio = image.YCbCrSubsampleRatio444
	case [2]int{2, 1}:
		ratio = image.YCbCrSubsampleRatio422
	case [2]int{2, 2}:
		ratio = image.YCbCrSubsampleRatio420
	case [2]int{1, 2}:
		ratio = image.YCbCrSubsampleRatio440
	case [2]int{4, 1}:
		ratio = image.YCbCrSubsampleRatio411
	case [2]int{4, 2}:
		ratio = image.YCbCrSubsampleRatio410
	}
	if d.comps[1].stride != d.comps[2].stride {
		return nil, errJPEGFallback
	}
	return &image.YCbCr{Y: y.pix, Cb: d.comps[1].pix, Cr: d.comps[2].pix,
		YStride: y.stride, CStride: d.comps[1].stride, SubsampleRatio: ratio, Rect: r}, nil
}
