package jpegscale

import (
	"context"
	"fmt"
	"image"
)

// Marker codes (T.81 table B.1).
const (
	mSOF0 = 0xC0 // baseline
	mSOF1 = 0xC1 // extended sequential, Huffman
	mSOF2 = 0xC2 // progressive, Huffman
	mDHT  = 0xC4
	mDAC  = 0xCC
	mRST0 = 0xD0
	mRST7 = 0xD7
	mSOI  = 0xD8
	mEOI  = 0xD9
	mSOS  = 0xDA
	mDQT  = 0xDB
	mDNL  = 0xDC
	mDRI  = 0xDD
	mAPP0 = 0xE0
	mAPPE = 0xEE
	mAPPF = 0xEF
	mCOM  = 0xFE
)

type component struct {
	id     uint8
	h, v   int // sampling factors
	tq     uint8
	bw, bh int // blocks in the padded grid (mcusX*h, mcusY*v)
	// blocks actually covered by the component (non-interleaved scan grid)
	cbw, cbh int
	// output plane, bs×bs pixels per block
	pix    []byte
	stride int
	// progressive coefficient store: per block, the decoder's nslot needed
	// coefficients (see decoder.slot) and a mask of the non-zero ones among
	// all 64 (bit k = zig-zag index k), which successive approximation needs.
	coef []int16
	mask []uint64
	// DC predictor of the current scan
	pred int32
}

type decoder struct {
	data       []byte
	pos        int
	denom      int
	bs         int // output pixels per block side: 8/denom
	maxPixels  int64
	maxScans   int
	headerOnly bool
	ctx        context.Context
	done       <-chan struct{} // ctx.Done(); nil: never stopped

	width, height  int
	comps          []component
	hmax, vmax     int
	mcusX, mcusY   int
	progressive    bool
	frameSeen      bool
	adobe          bool
	jfif           bool
	adobeTransform uint8
	restart        int
	eobrun         int32

	qt     [4][64]uint16 // zig-zag order
	qtSet  [4]bool
	dcHuff [4]huffTable
	acHuff [4]huffTable

	// Coefficients the output scale needs: slot[k] is the index of zig-zag
	// coefficient k in a block's store, or -1; ks lists them by slot.
	slot     [64]int8
	ks       []int
	nslot    int
	needMask uint64 // bit k set when slot[k] ≥ 0

	br    bitReader // progressive scans
	ecs   ecsReader // sequential scans
	blk   [64]float32
	blkAC bool // blk holds a non-zero AC coefficient
	tmp   [64]float32
}

func (d *decoder) u16(p int) int { return int(d.data[p])<<8 | int(d.data[p+1]) }

// decode walks the markers and decodes every scan.
func (d *decoder) decode() (image.Image, error) {
	d.bs = 8 / d.denom
	for k := 0; k < 64; k++ {
		d.slot[k] = -1
		if z := zigzag[k]; int(z/8) < d.bs && int(z%8) < d.bs {
			d.slot[k] = int8(len(d.ks))
			d.needMask |= 1 << k
			d.ks = append(d.ks, k)
		}
	}
	d.nslot = len(d.ks)
	if len(d.data) < 2 || d.data[0] != 0xFF || d.data[1] != mSOI {
		return nil, corruptf("missing SOI marker (not a JPEG)")
	}
	d.pos = 2
	scans := 0
	for {
		// find the next marker: 0xFF, optional fill 0xFF bytes, code.
		if d.pos >= len(d.data) {
			return nil, corruptf("unexpected end of data before EOI")
		}
		if d.data[d.pos] != 0xFF {
			if scans == 0 {
				return nil, corruptf("expected a marker at offset %d", d.pos)
			}
			// garbage after a scan: skip to the next marker
			d.pos++
			continue
		}
		for d.pos < len(d.data) && d.data[d.pos] == 0xFF {
			d.pos++
		}
		if d.pos >= len(d.data) {
			return nil, corruptf("unexpected end of data before EOI")
		}
		code := d.data[d.pos]
		d.pos++
		if code == 0 || (code >= mRST0 && code <= mRST7) {
			if scans == 0 {
				return nil, corruptf("unexpected marker 0x%02X", code)
			}
			continue // stuffed byte or stray restart marker after a scan
		}
		if code == mEOI {
			break
		}
		if code == mSOI {
			return nil, corruptf("unexpected SOI marker")
		}
		if d.pos+2 > len(d.data) {
			return nil, corruptf("truncated marker segment")
		}
		n := d.u16(d.pos)
		if n < 2 || d.pos+n > len(d.data) {
			return nil, corruptf("bad or truncated length of marker 0x%02X", code)
		}
		seg := d.data[d.pos+2 : d.pos+n]
		d.pos += n
		var err error
		switch {
		case code == mSOF0 || code == mSOF1 || code == mSOF2:
			err = d.parseSOF(seg, code == mSOF2)
			if err == nil && d.headerOnly {
				return nil, nil
			}
		case code == mDHT:
			err = d.parseDHT(seg)
		case code == mDQT:
			err = d.parseDQT(seg)
		case code == mDRI:
			if len(seg) != 2 {
				err = corruptf("bad DRI length")
			} else {
				d.restart = int(seg[0])<<8 | int(seg[1])
			}
		case code == mSOS:
			if !d.frameSeen {
				return nil, corruptf("SOS before the frame header")
			}
			scans++
			if d.maxScans > 0 && scans > d.maxScans {
				return nil, fmt.Errorf("%w: more than %d", ErrTooManyScans, d.maxScans)
			}
			if err = d.stopped(); err == nil {
				err = d.parseSOSAndDecode(seg)
			}
		case code >= 0xC3 && code <= 0xCF: // other SOFn, DAC (0xC4 DHT handled above)
			if code == mDAC {
				err = unsupportedf("arithmetic coding")
			} else {
				err = unsupportedf("frame type SOF%d (only baseline, extended Huffman and progressive Huffman)", code-0xC0)
			}
		case code == mAPP0:
			if len(seg) >= 5 && string(seg[:5]) == "JFIF\x00" {
				d.jfif = true
			}
		case code == mAPPE:
			if len(seg) >= 12 && string(seg[:5]) == "Adobe" {
				d.adobe = true
				d.adobeTransform = seg[11]
			}
		case code == mDNL:
			err = unsupportedf("DNL marker")
		default:
			// APPn, COM, JPG extensions and reserved markers: skip.
		}
		if err != nil {
			return nil, err
		}
	}
	if !d.frameSeen {
		return nil, corruptf("no frame header")
	}
	if d.headerOnly {
		return nil, nil
	}
	if scans == 0 {
		return nil, corruptf("no scan")
	}
	if d.progressive {
		if err := d.finishProgressive(); err != nil {
			return nil, err
		}
	}
	return d.output(), nil
}

func (d *decoder) parseSOF(seg []byte, progressive bool) error {
	if d.frameSeen {
		return corruptf("second frame header")
	}
	if len(seg) < 6 {
		return corruptf("short frame header")
	}
	if seg[0] != 8 {
		return unsupportedf("%d-bit samples", seg[0])
	}
	d.height = int(seg[1])<<8 | int(seg[2])
	d.width = int(seg[3])<<8 | int(seg[4])
	nf := int(seg[5])
	if d.width == 0 {
		return corruptf("zero width")
	}
	if d.height == 0 {
		return unsupportedf("height defined by DNL")
	}
	if len(seg) != 6+3*nf {
		return corruptf("bad frame header length")
	}
	switch nf {
	case 1, 3:
	case 4:
		return unsupportedf("4-component (CMYK/YCCK) JPEG")
	default:
		return unsupportedf("%d-component JPEG", nf)
	}
	if d.maxPixels > 0 && int64(d.width)*int64(d.height) > d.maxPixels {
		return fmtTooLarge(d.width, d.height, d.maxPixels)
	}
	d.progressive = progressive
	d.comps = make([]component, nf)
	for i := range d.comps {
		c := &d.comps[i]
		c.id = seg[6+3*i]
		c.h = int(seg[7+3*i] >> 4)
		c.v = int(seg[7+3*i] & 15)
		c.tq = seg[8+3*i]
		if c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4 {
			return corruptf("bad sampling factors %dx%d", c.h, c.v)
		}
		if c.tq > 3 {
			return corruptf("bad quantization table index %d", c.tq)
		}
		for j := 0; j < i; j++ {
			if d.comps[j].id == c.id {
				return corruptf("duplicate component id %d", c.id)
			}
		}
	}
	if nf == 1 {
		// A single-component frame is always non-interleaved: one block per MCU.
		d.comps[0].h, d.comps[0].v = 1, 1
	}
	d.hmax, d.vmax = 1, 1
	for _, c := range d.comps {
		d.hmax = max(d.hmax, c.h)
		d.vmax = max(d.vmax, c.v)
	}
	d.mcusX = (d.width + 8*d.hmax - 1) / (8 * d.hmax)
	d.mcusY = (d.height + 8*d.vmax - 1) / (8 * d.vmax)
	d.frameSeen = true
	if d.headerOnly {
		return nil
	}
	if nf == 3 && d.adobe && d.adobeTransform == 0 {
		return unsupportedf("RGB JPEG (Adobe transform 0)")
	}
	if nf == 3 && !d.adobe && !d.jfif && d.comps[0].id == 'R' && d.comps[1].id == 'G' && d.comps[2].id == 'B' {
		return unsupportedf("RGB JPEG (component ids R, G, B)")
	}
	// Every scan spends at least one bit per block of its component (a
	// Huffman-coded DC difference, or a DC refinement bit), so a file
	// smaller than one bit per block of its smallest component cannot be
	// complete: refuse it before allocating (this bounds memory by the
	// input size even without MaxPixels).
	minBlocks := int64(-1)
	for i := range d.comps {
		c := &d.comps[i]
		cw := (d.width*c.h + d.hmax - 1) / d.hmax
		ch := (d.height*c.v + d.vmax - 1) / d.vmax
		c.cbw = (cw + 7) / 8
		c.cbh = (ch + 7) / 8
		if b := int64(c.cbw) * int64(c.cbh); minBlocks < 0 || b < minBlocks {
			minBlocks = b
		}
	}
	if minBlocks > 8*int64(len(d.data)) {
		return corruptf("%dx%d frame cannot fit in %d bytes (truncated)", d.width, d.height, len(d.data))
	}
	for i := range d.comps {
		c := &d.comps[i]
		c.bw = d.mcusX * c.h
		c.bh = d.mcusY * c.v
		c.stride = c.bw * d.bs
		c.pix = make([]byte, c.stride*c.bh*d.bs)
		if progressive {
			c.coef = make([]int16, c.bw*c.bh*d.nslot)
			c.mask = make([]uint64, c.bw*c.bh)
		}
	}
	return nil
}

func (d *decoder) parseDQT(seg []byte) error {
	for len(seg) > 0 {
		pq, tq := seg[0]>>4, seg[0]&15
		if tq > 3 {
			return corruptf("bad DQT table index %d", tq)
		}
		seg = seg[1:]
		switch pq {
		case 0:
			if len(seg) < 64 {
				return corruptf("short DQT")
			}
			for k := 0; k < 64; k++ {
				d.qt[tq][k] = uint16(seg[k])
			}
			seg = seg[64:]
		case 1:
			if len(seg) < 128 {
				return corruptf("short DQT")
			}
			for k := 0; k < 64; k++ {
				d.qt[tq][k] = uint16(seg[2*k])<<8 | uint16(seg[2*k+1])
			}
			seg = seg[128:]
		default:
			return corruptf("bad DQT precision %d", pq)
		}
		d.qtSet[tq] = true
	}
	return nil
}

func (d *decoder) parseDHT(seg []byte) error {
	for len(seg) > 0 {
		if len(seg) < 17 {
			return corruptf("short DHT")
		}
		tc, th := seg[0]>>4, seg[0]&15
		if tc > 1 || th > 3 {
			return corruptf("bad DHT class/index %d/%d", tc, th)
		}
		var counts [17]int
		total := 0
		for l := 1; l <= 16; l++ {
			counts[l] = int(seg[l])
			total += counts[l]
		}
		if total == 0 || total > 256 || len(seg) < 17+total {
			return corruptf("bad DHT symbol count")
		}
		vals := seg[17 : 17+total]
		t := &d.dcHuff[th]
		if tc == 1 {
			t = &d.acHuff[th]
		}
		if err := t.build(&counts, vals); err != nil {
			return err
		}
		t.buildFast(tc == 1)
		seg = seg[17+total:]
	}
	return nil
}

func fmtTooLarge(w, h int, maxPixels int64) error {
	return fmt.Errorf("%w: %dx%d exceeds the limit of %d pixels", ErrTooLarge, w, h, maxPixels)
}
