package resizer

// A streaming PNG decoder: rows are inflated and unfiltered one at a time,
// converted to premultiplied RGBA and fed straight into the box reducers of
// every preset, so a 15-megapixel PNG needs a few rows of memory instead of
// 60 MB for the whole image. Written from the PNG specification; interlaced
// (Adam7) files are left to image/png (errPNGFallback).

import (
	"bufio"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"io"
)

var errPNGFallback = errors.New("png feature left to image/png")

// pngCorrupt is a decoding error of a file that is not a valid PNG.
type pngCorrupt string

func (e pngCorrupt) Error() string { return "invalid PNG: " + string(e) }

// idatReader concatenates the data of consecutive IDAT chunks, checking
// each chunk's CRC.
type idatReader struct {
	d      []byte
	pos    int // start of the next chunk header
	cur    []byte
	inIDAT bool
	done   bool
}

func (r *idatReader) Read(p []byte) (int, error) {
	for len(r.cur) == 0 {
		if r.done {
			return 0, io.EOF
		}
		if r.pos+8 > len(r.d) {
			return 0, io.ErrUnexpectedEOF
		}
		n := int(binary.BigEndian.Uint32(r.d[r.pos:]))
		typ := string(r.d[r.pos+4 : r.pos+8])
		if n < 0 || n > len(r.d) || r.pos+12+n > len(r.d) {
			return 0, io.ErrUnexpectedEOF
		}
		body := r.d[r.pos+8 : r.pos+8+n]
		crc := binary.BigEndian.Uint32(r.d[r.pos+8+n:])
		if typ == "IDAT" {
			if crc32.ChecksumIEEE(r.d[r.pos+4:r.pos+8+n]) != crc {
				return 0, pngCorrupt("IDAT checksum mismatch")
			}
			r.inIDAT = true
			r.cur = body
		} else if r.inIDAT || typ == "IEND" {
			r.done = true
			return 0, io.EOF
		}
		r.pos += 12 + n
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}

// rowBoxer box-reduces rows streamed top to bottom by a factor k.
type rowBoxer struct {
	g       grid
	k, w, h int
	acc     []uint32
	rows    int // rows accumulated in the current block
	oy      int
	dst     *image.RGBA
}

func newRowBoxer(w, h int, g grid) *rowBoxer {
	ow, oh := g.size(w, h)
	return &rowBoxer{g: g, k: g.k, w: w, h: h, acc: make([]uint32, 4*ow), dst: image.NewRGBA(image.Rect(0, 0, ow, oh))}
}

// add takes one row of premultiplied RGBA (4·w bytes).
func (b *rowBoxer) add(row []uint8) {
	if b.k == 1 {
		copy(b.dst.Pix[b.oy*b.dst.Stride:], row[:4*b.w])
		b.oy++
		return
	}
	ow := b.dst.Rect.Dx()
	for ox := range ow {
		x0, x1 := blockRange(ox, b.k, b.g.offX, b.w)
		var r, g, bb, a uint32
		for x := x0; x < x1; x++ {
			p := row[4*x : 4*x+4 : 4*x+4]
			r += uint32(p[0])
			g += uint32(p[1])
			bb += uint32(p[2])
			a += uint32(p[3])
		}
		q := b.acc[4*ox : 4*ox+4 : 4*ox+4]
		q[0] += r
		q[1] += g
		q[2] += bb
		q[3] += a
	}
	b.rows++
	if y0, y1 := blockRange(b.oy, b.k, b.g.offY, b.h); b.rows == y1-y0 {
		b.flush()
	}
}

func (b *rowBoxer) flush() {
	ow := b.dst.Rect.Dx()
	drow := b.dst.Pix[b.oy*b.dst.Stride:]
	for ox := range ow {
		x0, x1 := blockRange(ox, b.k, b.g.offX, b.w)
		n := uint32((x1 - x0) * b.rows)
		q := b.acc[4*ox : 4*ox+4 : 4*ox+4]
		d := drow[4*ox : 4*ox+4 : 4*ox+4]
		d[0], d[1], d[2], d[3] = uint8((q[0]+n/2)/n), uint8((q[1]+n/2)/n), uint8((q[2]+n/2)/n), uint8((q[3]+n/2)/n)
	}
	clear(b.acc)
	b.rows = 0
	b.oy++
}

// decodePNGReduced decodes a non-interlaced PNG row by row into one box
// reduction per factor in ks (same order). gray reports a grayscale
// colour type without alpha. It stops with ctx's error (wrapped) when ctx
// is done, checked every row.
func decodePNGReduced(ctx context.Context, data []byte, ks []grid) (out []*image.RGBA, gray bool, err error) {
	if len(data) < 8+25 {
		return nil, false, io.ErrUnexpectedEOF
	}
	pos := 8
	if string(data[pos+4:pos+8]) != "IHDR" || binary.BigEndian.Uint32(data[pos:]) != 13 {
		return nil, false, pngCorrupt("no IHDR")
	}
	ih := data[pos+8 : pos+8+13]
	w, h := int(binary.BigEndian.Uint32(ih)), int(binary.BigEndian.Uint32(ih[4:]))
	depth, ctype, interlace := int(ih[8]), int(ih[9]), ih[12]
	if interlace != 0 {
		return nil, false, errPNGFallback
	}
	if ih[10] != 0 || ih[11] != 0 {
		return nil, false, pngCorrupt("unknown compression or filter method")
	}
	var channels int
	switch ctype {
	case 0:
		channels = 1
	case 2:
		channels = 3
	case 3:
		channels = 1
	case 4:
		channels = 2
	case 6:
		channels = 4
	default:
		return nil, false, pngCorrupt("bad colour type")
	}
	okDepth := map[int][]int{0: {1, 2, 4, 8, 16}, 2: {8, 16}, 3: {1, 2, 4, 8}, 4: {8, 16}, 6: {8, 16}}[ctype]
	valid := false
	for _, d := range okDepth {
		valid = valid || d == depth
	}
	if !valid {
		return nil, false, pngCorrupt("bad bit depth")
	}
	// Ancillary chunks before IDAT: PLTE and tRNS.
	var pal [256][4]uint8 // premultiplied RGBA
	npal := 0
	var trns []byte
	p := pos + 12 + 13
	for {
		if p+8 > len(data) {
			return nil, false, io.ErrUnexpectedEOF
		}
		n := int(binary.BigEndian.Uint32(data[p:]))
		typ := string(data[p+4 : p+8])
		if n < 0 || p+12+n > len(data) {
			return nil, false, io.ErrUnexpectedEOF
		}
		body := data[p+8 : p+8+n]
		if typ == "IDAT" {
			break
		}
		if typ == "IEND" {
			return nil, false, pngCorrupt("no image data")
		}
		switch typ {
		case "PLTE":
			if n%3 != 0 || n/3 > 256 {
				return nil, false, pngCorrupt("bad palette")
			}
			npal = n / 3
			for i := range npal {
				pal[i] = [4]uint8{body[3*i], body[3*i+1], body[3*i+2], 255}
			}
		case "tRNS":
			trns = body
		}
		p += 12 + n
	}
	if ctype == 3 {
		if npal == 0 {
			return nil, false, pngCorrupt("palette image without PLTE")
		}
		for i := 0; i < len(trns) && i < npal; i++ {
			a := uint32(trns[i])
			c := &pal[i]
			c[0], c[1], c[2], c[3] = uint8((uint32(c[0])*a+127)/255), uint8((uint32(c[1])*a+127)/255), uint8((uint32(c[2])*a+127)/255), uint8(a)
		}
	}
	// tRNS for gray/RGB: one transparent colour (compared at full depth).
	var tkey [3]uint16
	hasKey := false
	if (ctype == 0 && len(trns) >= 2) || (ctype == 2 && len(trns) >= 6) {
		hasKey = true
		for i := 0; i < channels; i++ {
			tkey[i] = binary.BigEndian.Uint16(trns[2*i:])
		}
	}

	idat := &idatReader{d: data, pos: p}
	zr, err := zlib.NewReader(bufio.NewReaderSize(idat, 32<<10))
	if err != nil {
		return nil, false, err
	}
	defer zr.Close()
	bitsPP := depth * channels
	stride := (w*bitsPP + 7) / 8
	bpp := max(1, bitsPP/8)
	cur := make([]byte, stride+1)
	prev := make([]byte, stride+1)
	rgba := make([]uint8, 4*w)
	boxers := map[grid]*rowBoxer{}
	for _, k := range ks {
		if boxers[k] == nil {
			boxers[k] = newRowBoxer(w, h, k)
		}
	}
	for y := 0; y < h; y++ {
		if err := stopped(ctx); err != nil {
			return nil, false, err
		}
		if _, err := io.ReadFull(zr, cur); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, false, err
		}
		if err := unfilter(cur[0], cur[1:], prev[1:], bpp); err != nil {
			return nil, false, err
		}
		convertPNGRow(rgba, cur[1:], w, depth, ctype, &pal, npal, hasKey, tkey)
		for _, b := range boxers {
			b.add(rgba)
		}
		cur, prev = prev, cur
	}
	// Like image/png: the zlib stream must end (its checksum is verified at
	// EOF) and the chunk stream must reach IEND.
	if n, err := io.Copy(io.Discard, io.LimitReader(zr, 1<<20)); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, false, err
	} else if n > 0 {
		return nil, false, pngCorrupt("extra image data")
	}
	if err := pngTail(data, idat); err != nil {
		return nil, false, err
	}
	out = make([]*image.RGBA, len(ks))
	for i, k := range ks {
		out[i] = boxers[k].dst
	}
	return out, ctype == 0, nil
}

// pngTail walks the chunks after the image data up to IEND.
func pngTail(data []byte, idat *idatReader) error {
	p := idat.pos
	for {
		if p+12 > len(data) {
			return io.ErrUnexpectedEOF
		}
		n := int(binary.BigEndian.Uint32(data[p:]))
		if n < 0 || p+12+n > len(data) {
			return io.ErrUnexpectedEOF
		}
		if string(data[p+4:p+8]) == "IEND" {
			return nil
		}
		p += 12 + n
	}
}

func unfilter(f byte, cur, prev []byte, bpp int) error {
	switch f {
	case 0:
	case 1:
		for i := bpp; i < len(cur); i++ {
			cur[i] += cur[i-bpp]
		}
	case 2:
		for i := range cur {
			cur[i] += prev[i]
		}
	case 3:
		for i := range bpp {
			cur[i] += prev[i] / 2
		}
		for i := bpp; i < len(cur); i++ {
			cur[i] += uint8((int(cur[i-bpp]) + int(prev[i])) / 2)
		}
	case 4:
		for i := range bpp {
			cur[i] += prev[i] // paeth(0, b, 0) = b
		}
		for i := bpp; i < len(cur); i++ {
			a, b, c := int(cur[i-bpp]), int(prev[i]), int(prev[i-bpp])
			pa, pb, pc := abs(b-c), abs(a-c), abs(a+b-2*c)
			switch {
			case pa <= pb && pa <= pc:
				cur[i] += uint8(a)
			case pb <= pc:
				cur[i] += uint8(b)
			default:
				cur[i] += uint8(c)
			}
		}
	default:
		return pngCorrupt(fmt.Sprintf("bad filter type %d", f))
	}
	return nil
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// convertPNGRow turns one unfiltered row into premultiplied 8-bit RGBA.
func convertPNGRow(out, row []byte, w, depth, ctype int, pal *[256][4]uint8, npal int, hasKey bool, key [3]uint16) {
	sample := func(i int) uint16 { // i-th sample of the row at the row's depth
		switch depth {
		case 16:
			return binary.BigEndian.Uint16(row[2*i:])
		case 8:
			return uint16(row[i])
		default:
			perByte := 8 / depth
			b := row[i/perByte]
			shift := uint(8 - depth*(i%perByte+1))
			return uint16(b>>shift) & (1<<depth - 1)
		}
	}
	to8 := func(v uint16) uint8 {
		switch depth {
		case 16:
			return uint8((uint32(v)*255 + 32767) / 65535)
		case 8:
			return uint8(v)
		default:
			return uint8(uint32(v) * 255 / (1<<depth - 1))
		}
	}
	for x := range w {
		o := out[4*x : 4*x+4 : 4*x+4]
		switch ctype {
		case 0:
			v := sample(x)
			g := to8(v)
			if hasKey && v == key[0] {
				o[0], o[1], o[2], o[3] = 0, 0, 0, 0
			} else {
				o[0], o[1], o[2], o[3] = g, g, g, 255
			}
		case 2:
			r, g, b := sample(3*x), sample(3*x+1), sample(3*x+2)
			if hasKey && r == key[0] && g == key[1] && b == key[2] {
				o[0], o[1], o[2], o[3] = 0, 0, 0, 0
			} else {
				o[0], o[1], o[2], o[3] = to8(r), to8(g), to8(b), 255
			}
		case 3:
			i := int(sample(x))
			if i >= npal {
				o[0], o[1], o[2], o[3] = 0, 0, 0, 255
			} else {
				c := pal[i]
				o[0], o[1], o[2], o[3] = c[0], c[1], c[2], c[3]
			}
		case 4:
			g, a := sample(2*x), sample(2*x+1)
			premul(o, g, g, g, a, depth)
		case 6:
			premul(o, sample(4*x), sample(4*x+1), sample(4*x+2), sample(4*x+3), depth)
		}
	}
}

// premul writes premultiplied 8-bit RGBA from non-premultiplied samples of
// the given depth (8 or 16).
func premul(o []uint8, r, g, b, a uint16, depth int) {
	if depth == 16 {
		a32 := uint32(a)
		o[0] = to8(uint32(r) * a32 / 0xffff)
		o[1] = to8(uint32(g) * a32 / 0xffff)
		o[2] = to8(uint32(b) * a32 / 0xffff)
		o[3] = to8(a32)
		return
	}
	switch a {
	case 255:
		o[0], o[1], o[2], o[3] = uint8(r), uint8(g), uint8(b), 255
	case 0:
		o[0], o[1], o[2], o[3] = 0, 0, 0, 0
	default:
		a32 := uint32(a)
		o[0] = uint8((uint32(r)*a32 + 127) / 255)
		o[1] = uint8((uint32(g)*a32 + 127) / 255)
		o[2] = uint8((uint32(b)*a32 + 127) / 255)
		o[3] = uint8(a)
	}
}
