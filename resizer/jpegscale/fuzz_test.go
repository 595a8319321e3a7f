package jpegscale

import (
	"bytes"
	"errors"
	"image/jpeg"
	"os"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to Decode at every scale: it must never
// panic, must refuse frames over MaxPixels, and every error must wrap one of
// the sentinels. Seeds: the testdata files and a few std-encoded images.
func FuzzDecode(f *testing.F) {
	for _, p := range testdataFiles(f) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, uint8(0))
	}
	for _, q := range []int{10, 90} {
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, synth(20, 12, uint64(q)), &jpeg.Options{Quality: q}); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes(), uint8(3))
	}
	f.Fuzz(func(t *testing.T, data []byte, scale uint8) {
		denom := 1 << (scale % 4)
		const maxPixels = 1 << 20
		img, err := DecodeBytes(data, denom, Options{MaxPixels: maxPixels})
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			return
		}
		b := img.Bounds()
		if int64(b.Dx())*int64(b.Dy()) > maxPixels {
			t.Fatalf("decoded %v over MaxPixels", b)
		}
		_ = img.At(b.Max.X-1, b.Max.Y-1)
	})
}
