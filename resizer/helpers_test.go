package resizer

import (
	"bytes"
	"context"
	"image"
	"image/draw"
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/imgate/imgate/internal/testenv"
)

// convert returns ImageMagick's convert (never the fake in /usr/local/bin).
func convert(t testing.TB) string {
	t.Helper()
	return testenv.Tool(t, "/usr/bin/convert")
}

// runIM runs /usr/bin/convert with args and returns its stdout.
func runIM(t testing.TB, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(convert(t), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("convert %v: %v\n%s", args, err, errb.String())
	}
	return out.Bytes()
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeAny(t testing.TB, b []byte) image.Image {
	t.Helper()
	m, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return m
}

// onWhite converts m to 8-bit RGB composited on white, as float64 triples.
func onWhite(m image.Image) []float64 {
	b := m.Bounds()
	n := image.NewNRGBA64(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(n, n.Rect, m, b.Min, draw.Src)
	out := make([]float64, 0, 3*b.Dx()*b.Dy())
	for i := 0; i < len(n.Pix); i += 8 {
		p := n.Pix[i : i+8]
		a := float64(uint16(p[6])<<8|uint16(p[7])) / 65535
		for c := 0; c < 3; c++ {
			v := float64(uint16(p[2*c])<<8|uint16(p[2*c+1])) / 65535
			out = append(out, (v*a+(1-a))*255)
		}
	}
	return out
}

// psnr compares two images of the same size on RGB composited on white.
func psnr(t testing.TB, a, b image.Image) float64 {
	t.Helper()
	if a.Bounds().Size() != b.Bounds().Size() {
		t.Fatalf("psnr: sizes differ: %v vs %v", a.Bounds().Size(), b.Bounds().Size())
	}
	pa, pb := onWhite(a), onWhite(b)
	var se float64
	for i := range pa {
		d := pa[i] - pb[i]
		se += d * d
	}
	mse := se / float64(len(pa))
	if mse == 0 {
		return 99
	}
	return 10 * math.Log10(255*255/mse)
}

func resizeBytes(t testing.TB, r *Resizer, b []byte, presets ...Preset) (Source, []Variant) {
	t.Helper()
	src, vs, err := r.Resize(context.Background(), bytes.NewReader(b), presets)
	if err != nil {
		t.Fatalf("Resize: %v", err)
	}
	if len(vs) != len(presets) {
		t.Fatalf("%d variants for %d presets", len(vs), len(presets))
	}
	return src, vs
}

var execCommand = exec.Command
