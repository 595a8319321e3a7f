package resizer

// Work bounded by what it is worth: limits decided from the header before
// any pixel is decoded (scan count, aspect ratio, variant size), and the
// job's context reaching the decoders that do not take one.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/imgate/imgate/resizer/jpegscale"
)

var (
	// ErrTooManyScans is wrapped by the *Error refusing a JPEG with more
	// scans than Limits.MaxScans.
	ErrTooManyScans = jpegscale.ErrTooManyScans
	// ErrAspectRatio is wrapped by the *Error refusing a source whose sides
	// differ by more than Limits.MaxAspect.
	ErrAspectRatio = errors.New("resizer: aspect ratio over the limit")
	// ErrOutputTooLarge is wrapped by the *Error refusing a preset whose
	// variant would exceed Limits.MaxOutputPixels.
	ErrOutputTooLarge = errors.New("resizer: variant over the output limit")
	// ErrOverBudget is wrapped by the *Error refusing a source whose
	// estimated decoding memory (Estimate) exceeds the whole memory budget.
	ErrOverBudget = errors.New("resizer: over the memory budget")
)

// aspectFreeSide: sources whose long side is at most this are cheap
// whatever their shape (a 1×300 spacer), so MaxAspect does not apply.
const aspectFreeSide = 2048

// checkBounds refuses, from the header, work out of proportion to what it
// yields: too many JPEG scans, an absurd aspect ratio, a variant over the
// output limit. ow×oh is the oriented source, sizes the variants before
// cropping.
func (r *Resizer) checkBounds(hdr header, ow, oh int, sizes [][2]int, presets []Preset) error {
	if hdr.scans > r.limits.MaxScans {
		return newErr(KindTooLarge, fmt.Errorf("%w: %d", ErrTooManyScans, hdr.scans),
			"image too large to decode: the jpeg has %d scans (each one re-reads the whole image), the limit is %d (refused before decoding)", hdr.scans, r.limits.MaxScans)
	}
	long, short := max(ow, oh), min(ow, oh)
	if long > aspectFreeSide && float64(long) > r.limits.MaxAspect*float64(short) {
		return newErr(KindTooLarge, ErrAspectRatio,
			"image too large: %dx%d has an aspect ratio of %.0f:1, the limit is %.0f:1 (refused before decoding)",
			ow, oh, float64(long)/float64(short), r.limits.MaxAspect)
	}
	for i, s := range sizes {
		if px := int64(s[0]) * int64(s[1]); px > r.limits.MaxOutputPixels {
			return newErr(KindTooLarge, ErrOutputTooLarge,
				"image too large: preset %q (%s) of %dx%d would be %dx%d, %.1f megapixels, the limit is %.1f (refused before decoding)",
				presets[i].Name, presets[i].Geometry, ow, oh, s[0], s[1], float64(px)/1e6, float64(r.limits.MaxOutputPixels)/1e6)
		}
	}
	return nil
}

// jpegScans counts the scans (SOS markers) of a JPEG from pos, the offset
// of the first SOS marker's 0xFF, skipping the entropy-coded data between
// them without decoding it. It stops at EOI, at the end of data, or at a
// malformed segment (the decoder gives the verdict on those).
func jpegScans(b []byte, pos int) int {
	n := 0
	for pos+4 <= len(b) {
		if b[pos] != 0xff {
			// Entropy-coded data (or garbage): on to the next marker that is
			// neither a stuffed 0xFF00 nor a restart marker.
			i := bytes.IndexByte(b[pos:], 0xff)
			if i < 0 {
				return n
			}
			pos += i
			continue
		}
		m := b[pos+1]
		switch {
		case m == 0xff:
			pos++ // fill byte
			continue
		case m == 0 || (m >= 0xd0 && m <= 0xd7) || m == 0x01:
			pos += 2
			continue
		case m == 0xd9:
			return n
		}
		l := int(binary.BigEndian.Uint16(b[pos+2:]))
		if l < 2 {
			return n
		}
		if m == 0xda {
			n++
		}
		pos += 2 + l
	}
	return n
}

// ctxReader makes a decoder that takes no context (image/jpeg, image/png,
// image/gif) stop at its next read once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, fmt.Errorf("resizer: decoding stopped: %w", err)
	}
	// Small reads keep the checks frequent: image/jpeg refills 4 KiB.
	if len(p) > 4096 {
		p = p[:4096]
	}
	return c.r.Read(p)
}

// stopped is ctx's error, wrapped, once ctx is done.
func stopped(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("resizer: stopped: %w", err)
	}
	return nil
}
