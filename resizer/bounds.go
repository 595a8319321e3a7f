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
// of the first SOS marker's 0xFF. It stops at EOI, at the end of data, or
// at a malformed segment (the decoder gives the verdict on those).
func jpegScans(b []byte, pos int) int { return walkJPEG(b, pos).scans }

// jpegWalk is where a walk over a JPEG's markers stopped.
type jpegWalk struct {
	scans int  // SOS markers passed
	end   int  // offset just past EOI; 0 when not reached
	next  int  // with end 0 and !bad: where to go on once b holds more
	bad   bool // a malformed segment: the walk cannot go on
}

// walkJPEG follows a JPEG's markers from pos, the offset of a marker's
// 0xFF, skipping each segment by its length and the entropy-coded data
// between them without decoding it (stuffed 0xFF00 and restart markers
// are part of that data). It stops at EOI, at a malformed segment, or
// where b ends, possibly in the middle of a segment.
func walkJPEG(b []byte, pos int) jpegWalk {
	var w jpegWalk
	for pos+2 <= len(b) {
		if b[pos] != 0xff {
			// Entropy-coded data (or garbage): on to the next 0xFF.
			i := bytes.IndexByte(b[pos:], 0xff)
			if i < 0 {
				pos = len(b)
				break
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
			w.end = pos + 2
			return w
		}
		if pos+4 > len(b) {
			break // the segment's length is not here yet
		}
		l := int(binary.BigEndian.Uint16(b[pos+2:]))
		if l < 2 {
			w.bad = true
			return w
		}
		if m == 0xda {
			w.scans++
		}
		pos += 2 + l
	}
	w.next = pos
	return w
}

// jpegEnd finds where a JPEG ends (just past its EOI marker) while its
// bytes arrive, so a reader can stop there: what follows EOI (a motion
// photo's video, an Ultra HDR gain map, a camera's trailer) is never
// decoded. The zero value is ready; it gives up on data that is not a
// JPEG or whose markers do not parse (the decoder judges those).
type jpegEnd struct {
	pos int  // where the walk goes on; 0 until the format is known
	off bool // not a JPEG, or a malformed one
}

// find returns the JPEG's end if b, the bytes so far (each call a longer
// prefix of the same data), holds it, else 0.
func (j *jpegEnd) find(b []byte) int {
	if j.off {
		return 0
	}
	if j.pos == 0 {
		if len(b) < 3 {
			return 0
		}
		if b[0] != 0xff || b[1] != 0xd8 || b[2] != 0xff {
			j.off = true
			return 0
		}
		j.pos = 2
	}
	w := walkJPEG(b, j.pos)
	switch {
	case w.end > 0:
		return w.end
	case w.bad:
		j.off = true
	default:
		j.pos = w.next
	}
	return 0
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
