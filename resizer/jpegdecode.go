package resizer

import (
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
func decodeJPEGScaled(data []byte, n int) (image.Image, error) {
	if n != 1 && n != 2 && n != 4 {
		return nil, errJPEGFallback
	}
	img, err := jpegscale.DecodeBytes(data, 8/n, jpegscale.Options{})
	if errors.Is(err, jpegscale.ErrUnsupported) {
		return nil, errJPEGFallback
	}
	return img, err
}

// decodeJPEGFull decodes data at full size with resizer/jpegscale (faster
// than image/jpeg, with less memory on progressive files); ok is false when it
// declines or finds the file corrupt, and image/jpeg then decodes it or gives
// the verdict.
func decodeJPEGFull(data []byte) (img image.Image, ok bool) {
	img, err := jpegscale.DecodeBytes(data, 1, jpegscale.Options{})
	return img, err == nil
}
