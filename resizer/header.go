package resizer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// header is what is known about a source before any pixel is decoded.
type header struct {
	format      string // jpeg, png, gif
	width       int    // as stored (before orientation)
	height      int
	orientation int // EXIF orientation 1..8
	frames      int
	// JPEG only.
	progressive bool
	scans       int // SOS markers in the whole file
	comps       int
	hs, vs      [4]int // sampling factors per component
	// PNG only.
	bitDepth, colorType int
	interlaced          bool
	// WebP, HEIF, AVIF.
	alpha bool
	depth int // bits per channel (HEIF/AVIF)
	// Animation (GIF, WebP): loop count (0 = forever) and per-frame delays
	// in milliseconds, from the container.
	loop   int
	delays []int
	// Colour: an embedded ICC profile, or HEIF/AVIF nclx colour.
	icc  []byte
	nclx *nclx
}

var errTruncatedHeader = errors.New("truncated header")

// sniff names the format from the first bytes. ok is false for bytes that
// are not one of the decodable formats; then unsupported names a known image
// format this package cannot decode ("" when the bytes are no known image).
func sniff(b []byte) (format, unsupported string) {
	switch {
	case len(b) >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff:
		return "jpeg", ""
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "png", ""
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return "gif", ""
	case len(b) >= 12 && string(b[0:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return "webp", ""
	case bytes.HasPrefix(b, []byte("BM")) && len(b) >= 14:
		return "", "bmp"
	case bytes.HasPrefix(b, []byte("II*\x00")), bytes.HasPrefix(b, []byte("MM\x00*")):
		return "", "tiff"
	case len(b) >= 12 && string(b[4:8]) == "ftyp":
		if f := isobmffFormat(b); f != "" {
			return f, ""
		}
	case bytes.HasPrefix(b, []byte("\xff\x0a")), bytes.HasPrefix(b, []byte("\x00\x00\x00\x0cJXL \r\n\x87\n")):
		return "", "jpeg xl"
	case bytes.HasPrefix(b, []byte("\x00\x00\x00\x0cjP  \r\n\x87\n")):
		return "", "jpeg 2000"
	case bytes.HasPrefix(b, []byte("8BPS")):
		return "", "psd"
	case bytes.HasPrefix(b, []byte("\x00\x00\x01\x00")) && len(b) >= 6:
		return "", "ico"
	}
	return "", ""
}

// readHeader reads dimensions, frames and orientation of a sniffed source.
func readHeader(format string, b []byte) (header, error) {
	switch format {
	case "jpeg":
		return jpegHeader(b)
	case "png":
		return pngHeader(b)
	case "gif":
		return gifHeader(b)
	case "webp":
		return webpHeader(b)
	case "heif", "avif":
		return heifHeader(format, b)
	}
	return header{}, fmt.Errorf("unknown format %q", format)
}

// jpegHeader walks the JPEG markers up to the first SOS.
func jpegHeader(b []byte) (header, error) {
	h := header{format: "jpeg", orientation: 1, frames: 1}
	pos := 2
	sawSOF := false
	for {
		// Find the next marker, skipping fill bytes.
		mpos := pos
		if pos >= len(b) {
			return h, errTruncatedHeader
		}
		if b[pos] != 0xff {
			return h, fmt.Errorf("expected a marker at offset %d", pos)
		}
		for pos < len(b) && b[pos] == 0xff {
			pos++
		}
		if pos >= len(b) {
			return h, errTruncatedHeader
		}
		m := b[pos]
		pos++
		if m == 0xd8 || m == 0x01 || (m >= 0xd0 && m <= 0xd7) {
			continue
		}
		if m == 0xd9 {
			return h, errors.New("end of image before any scan")
		}
		if pos+2 > len(b) {
			return h, errTruncatedHeader
		}
		n := int(binary.BigEndian.Uint16(b[pos:]))
		if n < 2 {
			return h, fmt.Errorf("bad segment length %d", n)
		}
		if pos+n > len(b) {
			return h, errTruncatedHeader
		}
		seg := b[pos+2 : pos+n]
		pos += n
		switch {
		case m == 0xe1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")):
			if o := tiffOrientation(seg[6:]); o != 0 && h.orientation == 1 {
				h.orientation = o
			}
		case m == 0xe2 && bytes.HasPrefix(seg, []byte("ICC_PROFILE\x00")):
			h.icc = appendICCChunk(h.icc, seg[12:])
		case m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc:
			if sawSOF {
				return h, errors.New("more than one frame header")
			}
			sawSOF = true
			if len(seg) < 6 {
				return h, errors.New("short frame header")
			}
			h.height = int(binary.BigEndian.Uint16(seg[1:]))
			h.width = int(binary.BigEndian.Uint16(seg[3:]))
			h.comps = int(seg[5])
			h.progressive = m == 0xc2 || m == 0xc6 || m == 0xca || m == 0xce
			if len(seg) < 6+3*h.comps {
				return h, errors.New("short frame header")
			}
			for i := 0; i < h.comps && i < 4; i++ {
				s := seg[6+3*i+1]
				h.hs[i], h.vs[i] = int(s>>4), int(s&15)
			}
		case m == 0xda:
			if !sawSOF {
				return h, errors.New("scan before frame header")
			}
			h.scans = jpegScans(b, mpos)
			return h, nil
		}
	}
}

// tiffOrientation returns the Orientation tag (0x0112) of IFD0 of a TIFF
// structure (the body of an EXIF block), or 0 when absent or invalid.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 0
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 0
	}
	if bo.Uint16(t[2:]) != 42 {
		return 0
	}
	off := uint64(bo.Uint32(t[4:]))
	if off+2 > uint64(len(t)) {
		return 0
	}
	n := int(bo.Uint16(t[off:]))
	for i := range n {
		e := off + 2 + 12*uint64(i)
		if e+12 > uint64(len(t)) {
			return 0
		}
		if bo.Uint16(t[e:]) != 0x0112 {
			continue
		}
		typ, count := bo.Uint16(t[e+2:]), bo.Uint32(t[e+4:])
		if typ != 3 || count != 1 { // SHORT, one value
			return 0
		}
		if v := int(bo.Uint16(t[e+8:])); v >= 1 && v <= 8 {
			return v
		}
		return 0
	}
	return 0
}

// pngHeader reads IHDR and looks for an eXIf chunk (anywhere: some writers
// put it after IDAT). Chunk CRCs are left to the decoder.
func pngHeader(b []byte) (header, error) {
	h := header{format: "png", orientation: 1, frames: 1}
	pos := 8
	first := true
	for {
		if pos+8 > len(b) {
			if first {
				return h, errTruncatedHeader
			}
			return h, nil // the decoder reports truncation
		}
		n := uint64(binary.BigEndian.Uint32(b[pos:]))
		typ := string(b[pos+4 : pos+8])
		end := uint64(pos) + 8 + n + 4
		if first {
			if typ != "IHDR" || n != 13 {
				return h, errors.New("first chunk is not IHDR")
			}
			if end > uint64(len(b)) {
				return h, errTruncatedHeader
			}
			d := b[pos+8:]
			h.width = int(binary.BigEndian.Uint32(d))
			h.height = int(binary.BigEndian.Uint32(d[4:]))
			h.bitDepth, h.colorType = int(d[8]), int(d[9])
			h.interlaced = d[12] != 0
			first = false
		}
		if typ == "eXIf" && end <= uint64(len(b)) {
			d := b[pos+8 : pos+8+int(n)]
			d = bytes.TrimPrefix(d, []byte("Exif\x00\x00"))
			if o := tiffOrientation(d); o != 0 {
				h.orientation = o
			}
		}
		if typ == "iCCP" && end <= uint64(len(b)) {
			h.icc = pngICC(b[pos+8 : pos+8+int(n)])
		}
		if typ == "acTL" && n >= 8 && end <= uint64(len(b)) {
			h.frames = int(binary.BigEndian.Uint32(b[pos+8:]))
		}
		if typ == "IEND" || end > uint64(len(b)) {
			return h, nil
		}
		pos = int(end)
	}
}

// gifHeader reads the logical screen size and counts the frames by walking
// the block structure without decompressing anything.
func gifHeader(b []byte) (header, error) {
	h := header{format: "gif", orientation: 1}
	if len(b) < 13 {
		return h, errTruncatedHeader
	}
	h.width = int(binary.LittleEndian.Uint16(b[6:]))
	h.height = int(binary.LittleEndian.Uint16(b[8:]))
	pos := 13
	if b[10]&0x80 != 0 {
		pos += 3 << (b[10]&7 + 1)
	}
	skipSubBlocks := func() bool {
		for {
			if pos >= len(b) {
				return false
			}
			n := int(b[pos])
			pos++
			if n == 0 {
				return true
			}
			pos += n
		}
	}
	for {
		if pos >= len(b) {
			if h.frames == 0 {
				return h, errTruncatedHeader
			}
			return h, nil // truncated after a frame: the decoder decides
		}
		switch b[pos] {
		case 0x21: // extension
			pos += 2
			if !skipSubBlocks() {
				return h, nil
			}
		case 0x2c: // image descriptor
			if pos+10 > len(b) {
				return h, nil
			}
			flags := b[pos+9]
			pos += 10
			if flags&0x80 != 0 {
				pos += 3 << (flags&7 + 1)
			}
			pos++ // LZW minimum code size
			h.frames++
			if !skipSubBlocks() {
				return h, nil
			}
		case 0x3b: // trailer
			return h, nil
		default:
			if h.frames == 0 {
				return h, fmt.Errorf("unknown block 0x%02x", b[pos])
			}
			return h, nil
		}
	}
}
