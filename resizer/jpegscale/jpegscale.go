// Package jpegscale is a JPEG decoder (ITU T.81) that can decode at a reduced
// scale (1/2, 1/4, 1/8) directly in the DCT domain, the way libjpeg's scaled
// decoding does: at 1/8 only the DC coefficient of each 8×8 block is used, at
// 1/4 and 1/2 a reduced 2×2 / 4×4 inverse DCT computes only the low-frequency
// output samples. It supports baseline and extended sequential Huffman
// (SOF0/SOF1) and progressive Huffman (SOF2) frames with 8-bit samples, one
// (grayscale) or three (YCbCr) components, any sampling factors, restart
// intervals and multiple tables. Everything else returns an error wrapping
// ErrUnsupported so that the caller can fall back to image/jpeg.
package jpegscale

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
)

var (
	// ErrUnsupported is wrapped by errors for valid JPEG files this decoder
	// does not handle (arithmetic coding, lossless, hierarchical, 12-bit,
	// CMYK/YCCK, RGB). The caller should fall back to another decoder.
	ErrUnsupported = errors.New("jpegscale: unsupported JPEG")
	// ErrCorrupt is wrapped by errors for malformed or truncated data.
	ErrCorrupt = errors.New("jpegscale: corrupt JPEG")
	// ErrTooLarge is wrapped when the frame exceeds Options.MaxPixels. It is
	// detected from the frame header, before any pixel memory is allocated.
	ErrTooLarge = errors.New("jpegscale: image too large")
	// ErrTooManyScans is wrapped when a file has more scans than
	// Options.MaxScans (libjpeg-turbo's -maxscans): each scan of a
	// progressive file walks every block, so thousands of tiny scans cost
	// seconds of CPU for a few kilobytes of input.
	ErrTooManyScans = errors.New("jpegscale: too many scans")
)

// Options limit the decoder.
type Options struct {
	// MaxPixels is the largest accepted full-size frame (width × height);
	// 0 means no limit.
	MaxPixels int64
	// MaxScans is the largest accepted number of scans (SOS markers); 0
	// means no limit.
	MaxScans int
}

// ChooseDenom returns the largest denominator in {1, 2, 4, 8} such that the
// image of size w×h decoded at scale 1/denom is still at least minW × minH.
func ChooseDenom(w, h, minW, minH int) int {
	for _, d := range [...]int{8, 4, 2} {
		if (w+d-1)/d >= minW && (h+d-1)/d >= minH {
			return d
		}
	}
	return 1
}

// Decode decodes a JPEG at scale 1/denom (denom ∈ {1, 2, 4, 8}). The result
// is an *image.YCbCr (with the file's chroma subsampling when image.YCbCr can
// represent it, 4:4:4 otherwise) or an *image.Gray, with bounds
// ceil(w/denom) × ceil(h/denom).
func Decode(r io.Reader, denom int, opts Options) (image.Image, error) {
	switch denom {
	case 1, 2, 4, 8:
	default:
		return nil, fmt.Errorf("jpegscale: invalid scale denominator %d (want 1, 2, 4 or 8)", denom)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("jpegscale: read: %w", err)
	}
	return DecodeBytesContext(context.Background(), data, denom, opts)
}

// DecodeBytes is Decode on an in-memory file (the data is not retained).
func DecodeBytes(data []byte, denom int, opts Options) (image.Image, error) {
	return DecodeBytesContext(context.Background(), data, denom, opts)
}

// DecodeBytesContext is DecodeBytes that stops when ctx is done: ctx is
// checked before every scan and every row of blocks, and its error is
// returned wrapped.
func DecodeBytesContext(ctx context.Context, data []byte, denom int, opts Options) (image.Image, error) {
	switch denom {
	case 1, 2, 4, 8:
	default:
		return nil, fmt.Errorf("jpegscale: invalid scale denominator %d (want 1, 2, 4 or 8)", denom)
	}
	d := &decoder{data: data, denom: denom, maxPixels: opts.MaxPixels, maxScans: opts.MaxScans, ctx: ctx, done: ctx.Done()}
	return d.decode()
}

// stopped returns the context's error (wrapped) once it is done. It is
// cheap enough to call for every row of blocks.
func (d *decoder) stopped() error {
	if d.done == nil {
		return nil
	}
	select {
	case <-d.done:
		return fmt.Errorf("jpegscale: decoding stopped: %w", d.ctx.Err())
	default:
		return nil
	}
}

// Config is the frame header of a JPEG.
type Config struct {
	Width, Height int
	Components    int
	Progressive   bool
}

// DecodeConfig reads the markers up to the frame header and reports the
// frame's size. Unsupported frame types return an error wrapping
// ErrUnsupported.
func DecodeConfig(data []byte) (Config, error) {
	d := &decoder{data: data, denom: 1, headerOnly: true}
	if _, err := d.decode(); err != nil {
		return Config{}, err
	}
	return Config{Width: d.width, Height: d.height, Components: len(d.comps), Progressive: d.progressive}, nil
}

func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}

func unsupportedf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUnsupported}, args...)...)
}
