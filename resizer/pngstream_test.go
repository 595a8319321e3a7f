package resizer

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestStreamingPNGMatchesImagePNG: the row-streaming decoder gives the same
// pixels as image/png (exactly at k=1; box-reduced at k=3) for every colour
// type, bit depth and transparency form.
func TestStreamingPNGMatchesImagePNG(t *testing.T) {
	inputs := map[string][]byte{}
	files, _ := filepath.Glob("testdata/*.png")
	for _, f := range files {
		inputs[filepath.Base(f)] = readTestdata(t, filepath.Base(f))
	}
	// Palette with transparency (PLTE + tRNS), written by image/png.
	pm := image.NewPaletted(image.Rect(0, 0, 37, 23), color.Palette{color.NRGBA{255, 0, 0, 255}, color.NRGBA{0, 0, 255, 128}, color.NRGBA{0, 0, 0, 0}, color.NRGBA{10, 200, 30, 255}})
	for i := range pm.Pix {
		pm.Pix[i] = uint8(i*7) % 4
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, pm); err != nil {
		t.Fatal(err)
	}
	inputs["go-palette-trns"] = buf.Bytes()
	// Low bit depths and a tRNS colour key, written by ImageMagick.
	if im, err := exec.LookPath("/usr/bin/convert"); err == nil {
		for name, args := range map[string][]string{
			"gray1":    {"testdata/photo.jpg", "-colorspace", "gray", "-threshold", "50%", "-depth", "1", "-define", "png:color-type=0", "png:-"},
			"gray2":    {"testdata/photo.jpg", "-colorspace", "gray", "-depth", "2", "-define", "png:color-type=0", "-define", "png:bit-depth=2", "png:-"},
			"gray4":    {"testdata/photo.jpg", "-colorspace", "gray", "-depth", "4", "-define", "png:color-type=0", "-define", "png:bit-depth=4", "png:-"},
			"rgb-trns": {"testdata/palette.png", "-transparent", "#000000", "-define", "png:color-type=2", "png:-"},
			"pal4":     {"testdata/photo.jpg", "-colors", "12", "-define", "png:bit-depth=4", "PNG8:-"},
		} {
			out, err := exec.Command(im, args...).Output()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			inputs[name] = out
		}
	}
	for name, b := range inputs {
		ref, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, _, err := decodePNGReduced(context.Background(), b, []grid{{k: 1}, {k: 3, offX: 1, offY: 2}})
		if err == errPNGFallback {
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		want1, want3 := boxReduce(ref, 1), boxReduceGrid(ref, grid{k: 3, offX: 1, offY: 2})
		if !bytes.Equal(got[0].Pix, want1.Pix) || got[0].Rect != want1.Rect {
			t.Errorf("%s (%T): k=1 differs from image/png", name, ref)
		}
		if !bytes.Equal(got[1].Pix, want3.Pix) || got[1].Rect != want3.Rect {
			t.Errorf("%s (%T): k=3 differs from image/png's box reduction", name, ref)
		}
		for _, cut := range []int{len(b) / 2, len(b) - 20} {
			if _, _, err := decodePNGReduced(context.Background(), b[:cut], []grid{{k: 1}}); err == nil {
				t.Errorf("%s cut at %d of %d: decoded", name, cut, len(b))
			}
		}
	}
}

// FuzzDecodePNGReduced: differential fuzzing against image/png — whenever
// both decode, the pixels agree.
func FuzzDecodePNGReduced(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.png")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil && len(b) < 20000 {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := pngHeader(b)
		if err != nil || h.width <= 0 || h.height <= 0 || h.width*h.height > 1<<16 {
			return
		}
		g := grid{k: 3, offX: 1, offY: 2}
		got, _, err := decodePNGReduced(context.Background(), b, []grid{{k: 1}, g})
		if err != nil {
			return
		}
		ref, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			return
		}
		if !bytes.Equal(got[0].Pix, boxReduce(ref, 1).Pix) || !bytes.Equal(got[1].Pix, boxReduceGrid(ref, g).Pix) {
			t.Fatalf("pixels differ from image/png (%T)", ref)
		}
	})
}
