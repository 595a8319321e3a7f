package resizer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"

	"github.com/gen2brain/avif"
	"github.com/gen2brain/heic"
)

// nclx is the colour description of a HEIF/AVIF colr box of type nclx
// (code points of ITU-T H.273).
type nclx struct {
	primaries, transfer, matrix int
	fullRange                   bool
}

// maxBoxes bounds how many boxes heifHeader walks (a hostile file may hold
// millions of empty boxes).
const maxBoxes = 10000

// box is one ISOBMFF box: its type and payload (after the header).
type box struct {
	typ  string
	data []byte
}

// boxes splits b into boxes; a truncated last box is an error.
func boxes(b []byte, count *int) ([]box, error) {
	var out []box
	for len(b) > 0 {
		if *count++; *count > maxBoxes {
			return nil, errors.New("too many boxes")
		}
		if len(b) < 8 {
			return nil, errTruncatedHeader
		}
		size := uint64(binary.BigEndian.Uint32(b))
		typ := string(b[4:8])
		hdr := uint64(8)
		switch size {
		case 0:
			size = uint64(len(b))
		case 1:
			if len(b) < 16 {
				return nil, errTruncatedHeader
			}
			size, hdr = binary.BigEndian.Uint64(b[8:]), 16
		}
		if size < hdr {
			return nil, fmt.Errorf("box %q: size %d", typ, size)
		}
		if size > uint64(len(b)) {
			return out, errTruncatedHeader
		}
		out = append(out, box{typ: typ, data: b[hdr:size]})
		b = b[size:]
	}
	return out, nil
}

func find(bs []box, typ string) []byte {
	for _, b := range bs {
		if b.typ == typ {
			return b.data
		}
	}
	return nil
}

// heifHeader reads the primary item's properties from the meta box of a
// HEIF or AVIF file: size (ispe), rotation and mirroring (irot, imir, in
// their order; as an EXIF orientation), colour (colr), bit depth (pixi),
// alpha (an auxiliary item). Nothing is decompressed. EXIF orientation
// stored in the file is ignored: irot/imir are the orientation.
func heifHeader(format string, b []byte) (header, error) {
	h := header{format: format, orientation: 1, frames: 1, depth: 8}
	var count int
	top, err := boxes(b, &count)
	if err != nil && (len(top) == 0 || find(top, "meta") == nil) {
		return h, err
	}
	meta := find(top, "meta")
	if len(meta) < 4 {
		return h, errors.New("no meta box")
	}
	mb, err := boxes(meta[4:], &count)
	if err != nil {
		return h, fmt.Errorf("meta: %w", err)
	}
	if end, err := ilocEnd(find(mb, "iloc")); err != nil || end > uint64(len(b)) {
		return h, fmt.Errorf("item data past the end of the file: %w", errTruncatedHeader)
	}
	primary, err := primaryItem(find(mb, "pitm"))
	if err != nil {
		return h, err
	}
	iprp, err := boxes(find(mb, "iprp"), &count)
	if err != nil {
		return h, fmt.Errorf("iprp: %w", err)
	}
	ipco, err := boxes(find(iprp, "ipco"), &count)
	if err != nil {
		return h, fmt.Errorf("ipco: %w", err)
	}
	props, err := itemProperties(find(iprp, "ipma"), primary, len(ipco))
	if err != nil {
		return h, err
	}
	h.alpha = bytes.Contains(find(mb, "iref"), []byte("auxl")) || bytes.Contains(meta, []byte("urn:mpeg:mpegB:cicp:systems:auxiliary:alpha")) ||
		bytes.Contains(meta, []byte("urn:mpeg:hevc:2015:auxid:1"))
	m := [4]int{1, 0, 0, 1} // display from stored, as a 2×2 matrix
	for _, i := range props {
		if err := h.property(ipco[i], &m); err != nil {
			return h, err
		}
	}
	h.orientation = orientationOf(m)
	if format == "heif" { // libheif applies irot/imir while decoding
		if h.orientation >= 5 {
			h.width, h.height = h.height, h.width
		}
		h.orientation = 1
	}
	if h.width == 0 || h.height == 0 {
		return h, errors.New("primary item has no size (ispe)")
	}
	return h, nil
}

// property applies one property box of the primary item to h; rotations and
// mirrors are composed into m.
func (h *header) property(p box, m *[4]int) error {
	d := p.data
	switch p.typ {
	case "ispe":
		if len(d) < 12 {
			return errors.New("short ispe")
		}
		h.width = int(binary.BigEndian.Uint32(d[4:]))
		h.height = int(binary.BigEndian.Uint32(d[8:]))
	case "irot":
		if len(d) < 1 {
			return errors.New("short irot")
		}
		for range d[0] & 3 { // anti-clockwise quarter turns
			*m = mul([4]int{0, 1, -1, 0}, *m)
		}
	case "imir":
		if len(d) < 1 {
			return errors.New("short imir")
		}
		if d[0]&1 == 0 { // top and bottom exchanged
			*m = mul([4]int{1, 0, 0, -1}, *m)
		} else { // left and right exchanged
			*m = mul([4]int{-1, 0, 0, 1}, *m)
		}
	case "pixi":
		if len(d) >= 6 && d[4] > 0 {
			h.depth = int(d[5])
		}
	case "colr":
		if len(d) < 4 {
			return errors.New("short colr")
		}
		switch string(d[:4]) {
		case "nclx":
			if len(d) < 11 {
				return errors.New("short colr nclx")
			}
			if h.nclx == nil {
				h.nclx = &nclx{primaries: int(binary.BigEndian.Uint16(d[4:])), transfer: int(binary.BigEndian.Uint16(d[6:])),
					matrix: int(binary.BigEndian.Uint16(d[8:])), fullRange: d[10]&0x80 != 0}
			}
		case "prof", "rICC":
			h.icc = d[4:]
		}
	}
	return nil
}

// mul multiplies two 2×2 matrices (row-major).
func mul(a, b [4]int) [4]int {
	return [4]int{a[0]*b[0] + a[1]*b[2], a[0]*b[1] + a[1]*b[3], a[2]*b[0] + a[3]*b[2], a[2]*b[1] + a[3]*b[3]}
}

// exifMatrices are the display-from-stored matrices of EXIF orientations
// 1..8 (x right, y down).
var exifMatrices = [8][4]int{
	{1, 0, 0, 1}, {-1, 0, 0, 1}, {-1, 0, 0, -1}, {1, 0, 0, -1},
	{0, 1, 1, 0}, {0, -1, 1, 0}, {0, -1, -1, 0}, {0, 1, -1, 0},
}

func orientationOf(m [4]int) int {
	for i, e := range exifMatrices {
		if e == m {
			return i + 1
		}
	}
	return 1
}

// primaryItem reads the pitm box.
func primaryItem(d []byte) (uint32, error) {
	switch {
	case len(d) >= 6 && d[0] == 0:
		return uint32(binary.BigEndian.Uint16(d[4:])), nil
	case len(d) >= 8:
		return binary.BigEndian.Uint32(d[4:]), nil
	}
	return 0, errors.New("no primary item (pitm)")
}

// itemProperties returns the 0-based ipco indexes of item's properties, in
// the order of the ipma box.
func itemProperties(d []byte, item uint32, nprops int) ([]int, error) {
	if len(d) < 8 {
		return nil, errors.New("no item properties (ipma)")
	}
	version, flags := d[0], d[3]
	n := binary.BigEndian.Uint32(d[4:])
	p := d[8:]
	for range n {
		var id uint32
		if version < 1 {
			if len(p) < 3 {
				return nil, errTruncatedHeader
			}
			id, p = uint32(binary.BigEndian.Uint16(p)), p[2:]
		} else {
			if len(p) < 5 {
				return nil, errTruncatedHeader
			}
			id, p = binary.BigEndian.Uint32(p), p[4:]
		}
		k := int(p[0])
		p = p[1:]
		var idx []int
		for range k {
			var j int
			if flags&1 != 0 {
				if len(p) < 2 {
					return nil, errTruncatedHeader
				}
				j, p = int(binary.BigEndian.Uint16(p)&0x7fff), p[2:]
			} else {
				if len(p) < 1 {
					return nil, errTruncatedHeader
				}
				j, p = int(p[0]&0x7f), p[1:]
			}
			if j == 0 {
				continue
			}
			if j > nprops {
				return nil, fmt.Errorf("property index %d of %d", j, nprops)
			}
			idx = append(idx, j-1)
		}
		if id == item {
			return idx, nil
		}
	}
	return nil, errors.New("primary item has no properties")
}

// decodeHEIF decodes the primary image of a HEIF file with libheif (as
// WebAssembly). libheif applies irot/imir and the clean aperture itself.
func decodeHEIF(data []byte) (img image.Image, err error) {
	defer func() {
		if p := recover(); p != nil {
			img, err = nil, newErr(KindCorrupt, fmt.Errorf("%v", p), "corrupt heif")
		}
	}()
	img, err = heic.Decode(bytes.NewReader(data))
	if err != nil || img == nil {
		return nil, newErr(KindCorrupt, err, "corrupt heif: cannot decode")
	}
	return img, nil
}

// decodeAVIF decodes the primary image (the first frame of a sequence) of
// an AVIF file with libavif (as WebAssembly). libavif leaves irot/imir to
// the caller (h.orientation).
func decodeAVIF(data []byte) (img image.Image, err error) {
	defer func() {
		if p := recover(); p != nil {
			img, err = nil, newErr(KindCorrupt, fmt.Errorf("%v", p), "corrupt avif")
		}
	}()
	img, err = avif.Decode(bytes.NewReader(data))
	if err != nil || img == nil {
		return nil, newErr(KindCorrupt, err, "corrupt avif: cannot decode")
	}
	// libavif's pixels are not premultiplied, whatever the Go type says.
	switch m := img.(type) {
	case *image.RGBA:
		img = &image.NRGBA{Pix: m.Pix, Stride: m.Stride, Rect: m.Rect}
	case *image.RGBA64:
		img = &image.NRGBA64{Pix: m.Pix, Stride: m.Stride, Rect: m.Rect}
	}
	return img, nil
}

// ilocEnd returns the end of the furthest item extent stored in the file
// (construction method 0) from the iloc box: a file shorter than that is
// truncated, even where the codec would decode the rest as blur.
func ilocEnd(d []byte) (uint64, error) {
	if len(d) < 8 {
		return 0, errors.New("no item locations (iloc)")
	}
	v := d[0]
	offSize, lenSize, baseSize := int(d[4]>>4), int(d[4]&15), int(d[5]>>4)
	idxSize := 0
	if v == 1 || v == 2 {
		idxSize = int(d[5] & 15)
	}
	p := d[6:]
	var err error
	read := func(n int) uint64 {
		if err != nil || n == 0 {
			return 0
		}
		if n != 4 && n != 8 && n != 2 || len(p) < n {
			err = errTruncatedHeader
			return 0
		}
		var x uint64
		for _, c := range p[:n] {
			x = x<<8 | uint64(c)
		}
		p = p[n:]
		return x
	}
	items := read(2)
	if v == 2 {
		items = items<<16 | read(2)
	}
	var end uint64
	for range items {
		if v < 2 {
			read(2)
		} else {
			read(4)
		}
		method := uint64(0)
		if v == 1 || v == 2 {
			method = read(2) & 15
		}
		read(2) // data reference index
		base := read(baseSize)
		extents := read(2)
		for range extents {
			read(idxSize)
			off, n := read(offSize), read(lenSize)
			if method == 0 {
				end = max(end, base+off+n)
			}
		}
		if err != nil {
			return 0, err
		}
	}
	return end, err
}
