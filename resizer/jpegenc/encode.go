// Package jpegenc is imgate's JPEG encoder: libjpeg's quality-scaled Annex K
// tables, optimised (two-pass) Huffman tables per scan, 4:4:4 chroma for
// small images and 4:2:0 otherwise, and progressive scans when they come
// out smaller. The coefficients are computed once; for images up to
// AutoBothPixels the entropy coding is done for baseline and each
// progressive script and the smallest file is kept (above it, progressive
// with the better of two scripts).
package jpegenc

import (
	"errors"
	"image"
	"io"
)

// Options tune an encode. The zero value is quality 85 with every choice
// made automatically.
type Options struct {
	Quality int // 1..100, libjpeg's scale; 0 = 85
	// Progressive: 0 = automatic (the smallest of baseline and the
	// progressive scripts for images up to AutoBothPixels, progressive
	// above), 1 = always baseline, 2 = always progressive.
	Progressive int
	// Subsampling: 0 = automatic (4:4:4 when neither side exceeds
	// Small444, else 4:2:0), 444 or 420.
	Subsampling int
	// Gray writes one luma component (the caller knows the image is gray).
	Gray bool
}

// Progressive modes.
const (
	ProgressiveAuto   = 0
	ProgressiveNever  = 1
	ProgressiveAlways = 2
)

// Small444 is the largest side that gets 4:4:4 chroma by default: at
// thumbnail size 4:2:0 smears colour edges over a visible part of the
// picture, and the chroma planes are a few hundred bytes anyway.
const Small444 = 64

// AutoBothPixels is the largest image for which automatic mode codes both
// baseline and progressive and keeps the smaller; larger images are always
// smaller progressive.
const AutoBothPixels = 512 * 512

// Encode writes m as a JPEG. Alpha is ignored (flatten first).
func Encode(w io.Writer, m image.Image, o *Options) error {
	b, err := Append(nil, m, o)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// Append appends the JPEG encoding of m to dst.
func Append(dst []byte, m image.Image, o *Options) ([]byte, error) {
	var opt Options
	if o != nil {
		opt = *o
	}
	if opt.Quality == 0 {
		opt.Quality = 85
	}
	r := m.Bounds()
	if r.Dx() <= 0 || r.Dy() <= 0 || r.Dx() > 65535 || r.Dy() > 65535 {
		return nil, errors.New("jpegenc: image size out of range 1..65535")
	}
	if _, ok := m.(*image.Gray); ok {
		opt.Gray = true
	}
	e := newEncoder(m, opt)
	n := len(e.comps)
	scripts := progressiveScripts(n)
	mode := opt.Progressive
	if mode == ProgressiveAuto && r.Dx()*r.Dy() > AutoBothPixels {
		// Large images: progressive always wins; try the first two scripts.
		mode, scripts = ProgressiveAlways, scripts[:2]
	}
	var best []byte
	progressive := false
	if mode != ProgressiveAlways {
		best = e.entropy(baselineScans(n))
	}
	if mode != ProgressiveNever {
		for _, sc := range scripts {
			if b := e.entropy(sc); best == nil || len(b) < len(best) {
				best, progressive = b, true
			}
		}
	}
	return e.file(dst, best, progressive), nil
}
