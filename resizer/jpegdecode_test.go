package resizer

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgate/imgate/internal/testenv"
)

// TestScaledJPEGMatchesFull: the DCT-scaled decoder at n/8 agrees with
// image/jpeg's full decode box-reduced by 8/n (baseline, progressive,
// grayscale, 4:2:0/4:2:2/4:4:4, restart intervals), and declines CMYK.
func TestScaledJPEGMatchesFull(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.jpg")
	if testing.Short() {
		files = files[:3]
	} else if dir := os.Getenv("IMGATE_CORPUS"); dir != "" || testenv.InCI() {
		files = append(files, testenv.CorpusImages(t)...)
	}
	for _, f := range files {
		if filepath.Ext(f) != ".jpg" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		full, err := jpeg.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{1, 2, 4} {
			m, err := decodeJPEGScaled(context.Background(), b, n, 0)
			if err == errJPEGFallback {
				if filepath.Base(f) != "cmyk.jpg" && filepath.Base(f) != "tiny_cmyk.jpg" {
					t.Errorf("%s: declined", f)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s n=%d: %v", f, n, err)
				continue
			}
			ref, got := boxReduce(full, 8/n), boxReduce(m, 1)
			if ref.Bounds() != got.Bounds() {
				t.Errorf("%s n=%d: %v, want %v", f, n, got.Bounds(), ref.Bounds())
				continue
			}
			db := psnr(t, got, ref)
			t.Logf("%s n=%d: %.1f dB", filepath.Base(f), n, db)
			if db < 30 {
				t.Errorf("%s n=%d: %.1f dB vs box-reduced full decode, want ≥ 30", f, n, db)
			}
		}
	}
}

// TestScaledJPEGRestartAndTruncation: restart markers are honoured (the
// fixtures come from jpegtran -restart) and a truncated stream is an error,
// not a partial image.
func TestScaledJPEGRestartAndTruncation(t *testing.T) {
	for _, name := range []string{"restart.jpg", "progressive_restart.jpg", "photo.jpg", "progressive.jpg", "s411.jpg", "s440.jpg"} {
		b := readTestdata(t, name)
		if strings.Contains(name, "restart") && !bytes.Contains(b, []byte{0xff, 0xd0}) {
			t.Fatalf("%s: no restart markers", name)
		}
		full, err := jpeg.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		m, err := decodeJPEGScaled(context.Background(), b, 2, 0)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if db := psnr(t, boxReduce(m, 1), boxReduce(full, 4)); db < 30 {
			t.Errorf("%s: %.1f dB", name, db)
		}
		for _, cut := range []int{len(b) / 3, len(b) * 2 / 3, len(b) - 10} {
			if _, err := decodeJPEGScaled(context.Background(), b[:cut], 2, 0); err == nil {
				t.Errorf("%s cut at %d of %d: decoded", name, cut, len(b))
			}
		}
	}
}

// FuzzDecodeJPEGScaled feeds the DCT-scaled decoder directly (after the
// same header limit check Resize does first).
func FuzzDecodeJPEGScaled(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.jpg")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil && len(b) < 10000 {
			f.Add(b, uint8(1))
			f.Add(b, uint8(2))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte, n uint8) {
		h, err := jpegHeader(b)
		if err != nil || h.width*h.height > 1<<16 {
			return
		}
		scale := []int{1, 2, 4}[int(n)%3]
		m, err := decodeJPEGScaled(context.Background(), b, scale, 0)
		if err != nil {
			return
		}
		want := image.Rect(0, 0, (h.width*scale+7)/8, (h.height*scale+7)/8)
		if m.Bounds() != want {
			t.Fatalf("bounds %v, want %v", m.Bounds(), want)
		}
		_ = boxReduce(m, 2)
	})
}
