// Package hostile crafts the hostile images the resizer must refuse or
// finish within bounds: extreme aspect ratios, pixel bombs (headers that
// promise billions of pixels), progressive JPEGs of thousands of tiny
// scans, animations of too many frames. Every file is built from the format
// specifications here, so `go generate ./internal/hostile` rewrites
// testdata/ and a test checks the committed files match. Test support only.
package hostile

//go:generate go run gen.go testdata

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
)

// File is one crafted file and what the resizer must do with it.
type File struct {
	Name string // file name in testdata
	Why  string // the attack
	Data func() []byte
	// Refused: the resizer refuses it from the header (a permanent error);
	// otherwise it is valid and within the limits, and must finish.
	Refused bool
}

// Files lists the crafted files.
func Files() []File {
	return []File{
		{"wide.png", "65535×762 RGBA PNG, 86:1 (a few hundred KB of zlib)", func() []byte { return PNG(65535, 762, true, false) }, true},
		{"tall.png", "762×65535 RGBA PNG, 1:86", func() []byte { return PNG(762, 65535, true, false) }, true},
		{"interlaced.png", "7000×7000 interlaced RGBA PNG: a whole-image decode over the memory budget", func() []byte { return PNG(7000, 7000, true, true) }, true},
		{"bomb.png", "PNG header claiming 100000×100000", func() []byte { return PNGHeader(100000, 100000) }, true},
		{"bomb.jpg", "JPEG frame header claiming 65500×65500", func() []byte { return JPEGHeader(65500, 65500) }, true},
		{"bomb.gif", "GIF claiming a 65535×65535 frame", func() []byte { return GIF(65535, 65535, 1) }, true},
		{"frames.gif", "GIF of 1000 1×1 frames", func() []byte { return GIF(1, 1, 1000) }, true},
		{"scans.jpg", "progressive 1024×1024 JPEG of 20000 scans of a few bytes each", func() []byte { return ProgressiveJPEG(1024, 1024, 20000) }, true},
		{"scans499.jpg", "progressive 4096×4096 JPEG of 499 scans, just under the limit", func() []byte { return ProgressiveJPEG(4096, 4096, 499) }, false},
		{"big.png", "7000×7000 RGBA PNG (49 megapixels, streamed)", func() []byte { return PNG(7000, 7000, true, false) }, false},
	}
}

func chunk(buf *bytes.Buffer, typ string, data []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(data)))
	buf.Write(n[:])
	c := crc32.NewIEEE()
	c.Write([]byte(typ))
	c.Write(data)
	buf.WriteString(typ)
	buf.Write(data)
	binary.BigEndian.PutUint32(n[:], c.Sum32())
	buf.Write(n[:])
}

func ihdr(w, h int, rgba, interlaced bool) []byte {
	d := make([]byte, 13)
	binary.BigEndian.PutUint32(d, uint32(w))
	binary.BigEndian.PutUint32(d[4:], uint32(h))
	d[8] = 8 // bit depth
	if rgba {
		d[9] = 6
	}
	if interlaced {
		d[12] = 1
	}
	return d
}

// PNG is a valid, all-transparent (or black) w×h PNG, 8-bit gray or RGBA,
// optionally Adam7-interlaced. Zero rows compress about 1000:1.
func PNG(w, h int, rgba, interlaced bool) []byte {
	var buf bytes.Buffer
	buf.WriteString("\x89PNG\r\n\x1a\n")
	chunk(&buf, "IHDR", ihdr(w, h, rgba, interlaced))
	bpp := 1
	if rgba {
		bpp = 4
	}
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	passes := [][4]int{{0, 0, 1, 1}}
	if interlaced {
		passes = [][4]int{{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}}
	}
	for _, p := range passes {
		pw, ph := (w-p[0]+p[2]-1)/p[2], (h-p[1]+p[3]-1)/p[3]
		if pw <= 0 || ph <= 0 {
			continue
		}
		row := make([]byte, 1+pw*bpp) // filter 0, zero samples
		for range ph {
			zw.Write(row)
		}
	}
	zw.Close()
	for b := z.Bytes(); len(b) > 0; {
		n := min(len(b), 1<<20)
		chunk(&buf, "IDAT", b[:n])
		b = b[n:]
	}
	chunk(&buf, "IEND", nil)
	return buf.Bytes()
}

// PNGHeader is a PNG whose IHDR claims w×h, with a token IDAT.
func PNGHeader(w, h int) []byte {
	var buf bytes.Buffer
	buf.WriteString("\x89PNG\r\n\x1a\n")
	chunk(&buf, "IHDR", ihdr(w, h, true, false))
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(make([]byte, 1024))
	zw.Close()
	chunk(&buf, "IDAT", z.Bytes())
	chunk(&buf, "IEND", nil)
	return buf.Bytes()
}

// GIF is a GIF of frames w×h frames (screen w×h), each one LZW stream of a
// single pixel: a bomb when w×h is large, an animation when frames is.
func GIF(w, h, frames int) []byte {
	var buf bytes.Buffer
	buf.WriteString("GIF89a")
	le := func(v int) { buf.WriteByte(byte(v)); buf.WriteByte(byte(v >> 8)) }
	le(w)
	le(h)
	buf.Write([]byte{0x80, 0, 0})             // global colour table of 2 entries
	buf.Write([]byte{0, 0, 0, 255, 255, 255}) // black, white
	for range frames {
		buf.WriteByte(0x2c)
		le(0)
		le(0)
		le(w)
		le(h)
		buf.WriteByte(0)
		// LZW, minimum code size 2: clear (4), index 0, end (5), 3 bits each.
		buf.Write([]byte{2, 2, 0x44, 0x01, 0})
	}
	buf.WriteByte(0x3b)
	return buf.Bytes()
}
