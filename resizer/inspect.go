package resizer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"slices"
)

// Sized is a source that knows its length, as *bytes.Reader does and the
// readers the job worker hands over (the stored object's size): one stated
// over the byte limit is refused before any of it is read; otherwise, once
// it has proved larger than firstBuf, Resize reads it into one buffer of
// that size. Without a size the buffer grows by doubling, which for a
// 100 MB original briefly holds about twice that.
type Sized interface{ Size() int64 }

const (
	// readChunk is the most readLimited asks of its source at a time, so
	// it notices a JPEG's end soon after it arrives.
	readChunk = 256 << 10
	// firstBuf is the buffer a Sized source starts in: a small JPEG at
	// the start of a large file (a trailer after its EOI) costs no more.
	firstBuf = 1 << 20
)

// readLimited reads all of src, refusing more than limit bytes, and a Sized
// source stated over limit before reading any of it. A JPEG is read up to
// its EOI marker only (jpegEnd): the rest of the file is neither read nor
// held.
func readLimited(src io.Reader, limit int64) ([]byte, error) {
	limit = min(limit, math.MaxInt-1) // limit+1 below stays a valid int
	stated := int64(-1)
	if s, ok := src.(Sized); ok && s.Size() >= 0 {
		if s.Size() > limit {
			return nil, newErr(KindTooLarge, nil, "image too large: %d bytes, the limit is %d", s.Size(), limit)
		}
		stated = s.Size() + 1 // + 1: the read that meets EOF needs no new buffer
	}
	buf := make([]byte, 0, min(limit+1, firstBuf, max(stated, bytes.MinRead)))
	var jpg jpegEnd
	for {
		if len(buf) == cap(buf) {
			more := int64(cap(buf)) // double, or go straight to the stated size
			if stated > int64(cap(buf)) {
				more = stated - int64(cap(buf))
			}
			buf = slices.Grow(buf, int(min(more, limit+1-int64(cap(buf)))))
		}
		n, err := src.Read(buf[len(buf):min(cap(buf), len(buf)+readChunk)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, newErr(KindTooLarge, nil, "image too large: more than %d bytes", limit)
		}
		if end := jpg.find(buf); end > 0 {
			return buf[:end], nil
		}
		switch {
		case err == io.EOF:
			return buf, nil
		case err != nil:
			return nil, fmt.Errorf("read source: %w", err)
		}
	}
}

// inspect sniffs the format and checks the limits from the header.
func (r *Resizer) inspect(data []byte) (header, error) {
	if len(data) == 0 {
		return header{}, newErr(KindNotImage, nil, "not an image: empty file")
	}
	format, other := sniff(data)
	if format == "" {
		if other != "" {
			return header{}, newErr(KindUnsupported, nil, "unsupported image format: %s (jpeg, png, gif, webp, heif and avif are supported)", other)
		}
		return header{}, newErr(KindNotImage, nil, "not an image (jpeg, png, gif, webp, heif or avif expected)")
	}
	hdr, err := readHeader(format, data)
	if err != nil {
		return hdr, newErr(KindCorrupt, err, "corrupt %s: unreadable header", format)
	}
	if hdr.width <= 0 || hdr.height <= 0 {
		return hdr, newErr(KindCorrupt, nil, "corrupt %s: zero width or height", format)
	}
	if px := int64(hdr.width) * int64(hdr.height); px > r.limits.MaxPixels {
		return hdr, newErr(KindTooLarge, nil, "image too large: %dx%d is %.1f megapixels, the limit is %.1f (refused before decoding)",
			hdr.width, hdr.height, float64(px)/1e6, float64(r.limits.MaxPixels)/1e6)
	}
	if err := checkWASM(hdr); err != nil {
		return hdr, err
	}
	if hdr.frames > r.limits.MaxFrames {
		return hdr, newErr(KindTooLarge, nil, "image too large: %d frames, the limit is %d", hdr.frames, r.limits.MaxFrames)
	}
	if format == "jpeg" && hdr.comps != 1 && hdr.comps != 3 && hdr.comps != 4 {
		return hdr, newErr(KindUnsupported, nil, "unsupported jpeg: %d colour components", hdr.comps)
	}
	// Also let the standard decoder's header parser agree.
	var cfgErr error
	switch format {
	case "jpeg":
		_, cfgErr = jpeg.DecodeConfig(bytes.NewReader(data))
	case "png":
		_, cfgErr = png.DecodeConfig(bytes.NewReader(data))
	case "gif":
		_, cfgErr = gif.DecodeConfig(bytes.NewReader(data))
	}
	if cfgErr != nil {
		return hdr, classify(format, cfgErr)
	}
	return hdr, nil
}

// decodeCost estimates the bytes the standard decoders hold for a source.
func decodeCost(h header, encoded int) int64 {
	px := int64(h.width) * int64(h.height)
	var perPx float64
	switch h.format {
	case "jpeg":
		// Planes: luma + subsampled chroma.
		planes := 0.0
		hmax, vmax := 1, 1
		for i := 0; i < h.comps && i < 4; i++ {
			hmax, vmax = max(hmax, h.hs[i]), max(vmax, h.vs[i])
		}
		for i := 0; i < h.comps && i < 4; i++ {
			if h.hs[i] > 0 && h.vs[i] > 0 {
				planes += float64(h.hs[i]*h.vs[i]) / float64(hmax*vmax)
			}
		}
		perPx = planes
		if h.progressive {
			perPx += 4 * planes // int32 coefficients kept for every block
		}
	case "png":
		perPx = 4
		if h.bitDepth == 16 {
			perPx = 8
		}
		if h.colorType == 0 || h.colorType == 3 {
			perPx = float64(max(1, h.bitDepth/8))
		}
		perPx += 1 // the filtered row buffers and zlib are small; keep a margin
	case "gif":
		perPx = 5 // the paletted frame, plus an RGBA screen when the frame is smaller
	case "webp":
		perPx = 4.5 // YUVA planes, then NRGBA (x/image/webp)
		if h.frames > 1 {
			return wasmCost(h, encoded)
		}
	case "heif", "avif":
		return wasmCost(h, encoded)
	}
	// The reduced RGBA intermediate and outputs are small in comparison;
	// the encoded bytes are held too.
	return int64(perPx*float64(px)) + int64(encoded)
}

// decode decodes data whole; the standard decoders read through a
// ctxReader, so they stop soon after ctx is done.
func decode(ctx context.Context, hdr header, data []byte, maxScans int) (image.Image, color.Palette, error) {
	format := hdr.format
	rd := &ctxReader{ctx: ctx, r: bytes.NewReader(data)}
	var img image.Image
	var err error
	switch format {
	case "jpeg":
		var ok bool
		if img, ok, err = decodeJPEGFull(ctx, data, maxScans); !ok && err == nil {
			img, err = jpeg.Decode(rd)
		}
	case "png":
		img, err = png.Decode(rd)
	case "gif":
		img, err = gif.Decode(rd)
	case "webp":
		img, err = decodeWebP(hdr, data)
	case "heif":
		img, err = decodeHEIF(data)
	case "avif":
		img, err = decodeAVIF(data)
	}
	if err != nil {
		if e := stopped(ctx); e != nil {
			return nil, nil, e
		}
		if IsPermanent(err) { // already a verdict (too many scans)
			return nil, nil, err
		}
		return nil, nil, classify(format, err)
	}
	var pal color.Palette
	if p, ok := img.(*image.Paletted); ok && format == "gif" {
		pal = p.Palette
	}
	return img, pal, nil
}

// classify maps a standard decoder error to a typed error.
func classify(format string, err error) error {
	var je jpeg.UnsupportedError
	var pe png.UnsupportedError
	switch {
	case errors.As(err, &je), errors.As(err, &pe):
		return newErr(KindUnsupported, err, "unsupported %s feature", format)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return newErr(KindCorrupt, err, "truncated %s", format)
	}
	return newErr(KindCorrupt, err, "corrupt %s", format)
}

// checkDecoded verifies the decoded bounds against the header; a GIF frame
// smaller than the logical screen is placed on a transparent screen.
func checkDecoded(hdr header, img *image.Image) error {
	b := (*img).Bounds()
	if b == image.Rect(0, 0, hdr.width, hdr.height) {
		return nil
	}
	if hdr.format == "heif" || hdr.format == "avif" {
		// A clean aperture may round differently from the header: up to two
		// pixels fewer are placed on the header's canvas.
		if b.Min != (image.Point{}) || b.Dx() > hdr.width || b.Dy() > hdr.height || b.Dx() < hdr.width-2 || b.Dy() < hdr.height-2 {
			return newErr(KindCorrupt, nil, "corrupt %s: decoded size %dx%d differs from the header's %dx%d", hdr.format, b.Dx(), b.Dy(), hdr.width, hdr.height)
		}
	} else if hdr.format != "gif" {
		return newErr(KindCorrupt, nil, "corrupt image: decoded size differs from the header")
	}
	screen := image.NewRGBA(image.Rect(0, 0, hdr.width, hdr.height))
	draw.Draw(screen, b, *img, b.Min, draw.Over)
	*img = screen
	return nil
}
