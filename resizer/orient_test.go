package resizer

import (
	"fmt"
	"image"
	"testing"
)

// TestOrientation: testdata/orientN.jpg hold the same pixels with the EXIF
// Orientation tag set to N (exiftool). Each variant must match
// ImageMagick's "-auto-orient -resize" of the same file (PSNR ≥ 30 dB) and
// be far from ImageMagick's results for the other orientations of the same
// size (the wrong way up).
func TestOrientation(t *testing.T) {
	convert(t)
	rz := New(Options{})
	const geom = "60x60"
	refs := map[int]image.Image{}
	for o := 1; o <= 8; o++ {
		refs[o] = decodeAny(t, runIM(t, fmt.Sprintf("testdata/orient%d.jpg", o), "-auto-orient", "-filter", "Lanczos", "-resize", geom, "png:-"))
	}
	check := func(t *testing.T, file string, want int) {
		src, vs := resizeBytes(t, rz, readTestdata(t, file), Preset{Geometry: geom, Format: "png"})
		if src.Orientation != want {
			t.Fatalf("Source.Orientation = %d, want %d", src.Orientation, want)
		}
		ours := decodeAny(t, vs[0].Data)
		ww, wh, sw, sh := 60, 40, 120, 80
		if want >= 5 {
			ww, wh, sw, sh = 40, 60, 80, 120
		}
		if ours.Bounds().Dx() != ww || ours.Bounds().Dy() != wh || src.Width != sw || src.Height != sh {
			t.Fatalf("variant %v, source %dx%d; want %dx%d", ours.Bounds().Size(), src.Width, src.Height, ww, wh)
		}
		for o, ref := range refs {
			if ref.Bounds().Size() != ours.Bounds().Size() {
				continue
			}
			db := psnr(t, ours, ref)
			switch {
			case o == want && db < 30:
				t.Errorf("orientation %d: PSNR %.1f dB vs ImageMagick, want ≥ 30", want, db)
			case o != want && db > 22:
				t.Errorf("orientation %d: PSNR %.1f dB vs ImageMagick's orientation %d, want < 22 (looks the same?)", want, db, o)
			default:
				t.Logf("orientation %d vs ImageMagick %d: %.1f dB", want, o, db)
			}
		}
	}
	for o := 1; o <= 8; o++ {
		t.Run(fmt.Sprintf("jpeg%d", o), func(t *testing.T) { check(t, fmt.Sprintf("orient%d.jpg", o), o) })
	}
	// PNG with an eXIf chunk (same pixels).
	for _, o := range []int{5, 6} {
		t.Run(fmt.Sprintf("png%d", o), func(t *testing.T) { check(t, fmt.Sprintf("orient%d.png", o), o) })
	}
}

// TestOrientTransforms checks orient on a 3×2 image against hand-written
// expectations for all 8 orientations.
func TestOrientTransforms(t *testing.T) {
	// Pixels labelled by their value: a b c / d e f.
	src := image.NewRGBA(image.Rect(0, 0, 3, 2))
	for i := range 6 {
		src.Pix[4*i] = uint8('a' + i)
	}
	want := map[int]string{
		1: "abc/def", 2: "cba/fed", 3: "fed/cba", 4: "def/abc",
		5: "ad/be/cf", 6: "da/eb/fc", 7: "fc/eb/da", 8: "cf/be/ad",
	}
	for o := 1; o <= 8; o++ {
		m := orient(src, o)
		got := ""
		for y := range m.Rect.Dy() {
			if y > 0 {
				got += "/"
			}
			for x := range m.Rect.Dx() {
				got += string(rune(m.Pix[y*m.Stride+4*x]))
			}
		}
		if got != want[o] {
			t.Errorf("orientation %d: %s, want %s", o, got, want[o])
		}
	}
}
