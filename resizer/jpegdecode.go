package resizer

import (
	"context"
	"errors"
	"image"

	"github.com/imgate/imgate/resizer/jpegscale"
)

// errJPEGFallback marks a JPEG the scaled decoder declines (arithmetic
// coding, 12-bit, CMYK/YCCK, RGB, an unusual scale): image/jpeg decodes it.
var errJPEGFallback = errors.New("jpeg feature left to image/jpeg")

// decodeJPEGScaled decodes data at n/8 of its size (n = 1, 2 or 4) in the DCT
// domain with resizer/jpegscale, into an *image.YCbCr or *image.Gray of
// ceil(W·n/8)×ceil(H·n/8). Files it does not support return errJPEGFallback;
// corrupt ones return its error (the caller lets image/jpeg give the verdict).
// It stops with ctx's error (wrapped) when ctx is done; maxScans > 0 refuses
// files with more scans (ErrTooManyScans).
func decodeJPEGScaled(ctx context.Context, data []byte, n, maxScans int) (image.Image, error) {
	if n != 1 && n != 2 && n != 4 {
		return nil, errJPEGFallback
	}
	img, err := jpegscale.DecodeBytesContext(ctx, data, 8/n, jpegscale.Options{MaxScans: maxScans})
	if errors.Is(err, jpegscale.ErrUnsupported) {
		return nil, errJPEGFallback
	}
	if errors.Is(err, jpegscale.ErrTooManyScans) {
		return nil, tooManyScans(err, maxScans)
	}
	return img, err
}

// tooManyScans is the verdict when the decoder meets more scans than the
// header counted (FuzzProgressiveScans says it does not happen): no other
// decoder gets the file.
func tooManyScans(err error, maxScans int) error {
	return newErr(KindTooLarge, err, "image too large to decode: the jpeg has more than %d scans", maxScans)
}

// decodeJPEGFull decodes data at full size with resizer/jpegscale (faster
// than image/jpeg, with less memory on progressive files); ok is false when it
// declines or finds the file corrupt, and image/jpeg then decodes it or gives
// the verdict. err is ctx's error (wrapped) when ctx ended the decoding, or
// the refusal of a file with too many scans.
func decodeJPEGFull(ctx context.Context, data []byte, maxScans int) (img image.Image, ok bool, err error) {
	img, err = jpegscale.DecodeBytesContext(ctx, data, 1, jpegscale.Options{MaxScans: maxScans})
	if errors.Is(err, jpegscale.ErrTooManyScans) {
		return nil, false, tooManyScans(err, maxScans)
	}
	if err != nil && ctx.Err() != nil {
		return nil, false, err
	}
	return img, err == nil, nil
}
