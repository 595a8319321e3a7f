package resizer

import (
	"bytes"
	"fmt"
	"image/gif"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/imgate/imgate/internal/testenv"
)

var samples struct {
	once sync.Once
	dir  string
	err  error
	out  []byte
}

// samplesDir builds the WebP/HEIC/AVIF/colour/animation samples once per
// test binary with scripts/make-samples.sh (Debian's encoders; skipped
// locally when they are missing, required under CI=true).
func samplesDir(t testing.TB) string {
	t.Helper()
	for _, tool := range []string{"heif-enc", "avifenc", "cwebp", "img2webp", "gif2webp", "exiftool"} {
		testenv.Tool(t, tool)
	}
	convert(t)
	corpus := testenv.Corpus(t)
	samples.once.Do(func() {
		samples.dir, samples.err = os.MkdirTemp("", "imgate-samples-")
		if samples.err != nil {
			return
		}
		cmd := exec.Command("bash", filepath.Join(testenv.RepoRoot(t), "scripts", "make-samples.sh"), samples.dir, corpus)
		samples.out, samples.err = cmd.CombinedOutput()
	})
	if samples.err != nil {
		t.Fatalf("make-samples.sh: %v\n%s", samples.err, samples.out)
	}
	return samples.dir
}

// sampleFiles lists the samples with one of the extensions.
func sampleFiles(t testing.TB, exts ...string) []string {
	t.Helper()
	dir := samplesDir(t)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		for _, x := range exts {
			if strings.HasSuffix(e.Name(), x) && !strings.HasPrefix(e.Name(), "big.") {
				out = append(out, filepath.Join(dir, e.Name()))
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("no %v samples in %s", exts, dir)
	}
	return out
}

// imSizes returns ImageMagick's sizes of file f for geometries gs
// (-auto-orient -resize G>), in one run.
func imSizes(t testing.TB, f string, gs ...string) []string {
	t.Helper()
	args := []string{f + "[0]", "-auto-orient"}
	for _, g := range gs {
		args = append(args, "(", "+clone", "-resize", g+">", "-format", "%wx%h\n", "-write", "info:-", "+delete", ")")
	}
	args = append(args, "null:")
	return strings.Fields(string(runIM(t, args...)))
}

// mainSamples are the samples the size and pixel tests walk: every format
// and feature once (the orientation series has its own test).
func mainSamples(t testing.TB) []string {
	var out []string
	for _, f := range sampleFiles(t, ".webp", ".heic", ".avif") {
		b := filepath.Base(f)
		if strings.HasPrefix(b, "orient") && !strings.HasPrefix(b, "orient6.") {
			continue
		}
		out = append(out, f)
	}
	return out
}

// TestSampleSizesAndPixels: every WebP/HEIC/AVIF sample × classic preset
// has ImageMagick's size (ImageMagick applies irot/imir when it reads
// HEIF/AVIF, and ignores the EXIF orientation inside them, as HEIF
// requires); and each sample rendered losslessly (PNG, 150x) is within
// 30 dB of ImageMagick's auto-oriented Lanczos result (decoders,
// orientation once).
func TestSampleSizesAndPixels(t *testing.T) {
	rz := New(Options{})
	presets := DefaultPresets()
	presets = append(presets, Preset{Name: "png150", Geometry: "150x", Format: "png"}.Normalize())
	for _, f := range mainSamples(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		_, vs := resizeBytes(t, rz, b, presets...)
		want := imSizes(t, f, "50x50", "150x", "x150")
		for i, v := range vs[:3] {
			if got := fmt.Sprintf("%dx%d", v.Width, v.Height); i >= len(want) || got != want[i] {
				t.Errorf("%s %s: %s, ImageMagick %v", filepath.Base(f), v.Preset, got, want)
			}
			if v.Format != "jpeg" && v.Format != "png" && v.Format != "gif" {
				t.Errorf("%s %s: format %s", filepath.Base(f), v.Preset, v.Format)
			}
		}
		if tagged(f) {
			continue // TestSampleColour: ImageMagick ignores ICC in HEIF/AVIF
		}
		ref := runIM(t, f+"[0]", "-auto-orient", "-filter", "Lanczos", "-resize", "150x>", "png:-")
		if db := psnr(t, decodeAny(t, vs[3].Data), decodeAny(t, ref)); db < 30 {
			t.Errorf("%s: %.1f dB against ImageMagick", filepath.Base(f), db)
		}
	}
}

// TestSampleOrientation: AVIFs made by avifenc from JPEGs with EXIF
// orientations 2..8 (irot/imir, and the EXIF orientation kept inside) show
// as ImageMagick shows the JPEG auto-oriented: the orientation is applied
// exactly once.
func TestSampleOrientation(t *testing.T) {
	rz := New(Options{})
	dir := samplesDir(t)
	for _, o := range []string{"2", "3", "4", "5", "7", "8"} {
		b, err := os.ReadFile(filepath.Join(dir, "orient"+o+".avif"))
		if err != nil {
			t.Fatal(err)
		}
		p := Preset{Geometry: "200x200", Format: "png"}.Normalize()
		_, vs := resizeBytes(t, rz, b, p)
		ref := runIM(t, filepath.Join(dir, "orient"+o+".jpg"), "-auto-orient", "png:-")
		got, want := decodeAny(t, vs[0].Data), decodeAny(t, ref)
		if got.Bounds().Size() != want.Bounds().Size() {
			t.Errorf("orientation %s: %v, want %v", o, got.Bounds().Size(), want.Bounds().Size())
			continue
		}
		if db := psnr(t, got, want); db < 28 {
			t.Errorf("orientation %s: %.1f dB against the auto-oriented JPEG", o, db)
		}
	}
}

func TestSniffContentType(t *testing.T) {
	for f, want := range map[string]string{
		"photo.webp": "image/webp", "anim.webp": "image/webp", "photo.heic": "image/heic",
		"photo.avif": "image/avif", "anim3.gif": "image/gif", "prophoto.jpg": "image/jpeg", "prophoto.png": "image/png",
	} {
		b, err := os.ReadFile(filepath.Join(samplesDir(t), f))
		if err != nil {
			t.Fatal(err)
		}
		if got := SniffContentType(b[:min(len(b), 512)]); got != want {
			t.Errorf("%s: %q, want %q", f, got, want)
		}
		if !Decodable(SniffContentType(b)) {
			t.Errorf("%s: not decodable", f)
		}
	}
	if got := SniffContentType([]byte("\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1miaf")); got != "image/heif" {
		t.Errorf("mif1: %q", got)
	}
	if got := SniffContentType([]byte("II*\x00\x08\x00\x00\x00")); got != "image/tiff" || Decodable(got) {
		t.Errorf("tiff: %q", got)
	}
}

// tagged reports whether a sample carries a wide-gamut ICC profile.
func tagged(f string) bool {
	b := filepath.Base(f)
	return strings.HasPrefix(b, "prophoto.") || strings.HasPrefix(b, "adobe.")
}

// TestSampleColour: photos tagged ProPhoto RGB and Adobe RGB, as JPEG, PNG,
// lossless WebP, AVIF and HEIC, give 150x PNG variants within 30 dB of
// ImageMagick's colour-managed result (-profile sRGB.icc, from the lossless
// PNG twin: ImageMagick ignores ICC profiles in HEIF/AVIF). Without the
// conversion the ProPhoto variants were ~22 dB (the washed-out case).
func TestSampleColour(t *testing.T) {
	rz := New(Options{})
	dir := samplesDir(t)
	p := Preset{Geometry: "150x", Format: "png"}.Normalize()
	for _, space := range []string{"prophoto", "adobe"} {
		ref := decodeAny(t, runIM(t, filepath.Join(dir, space+".png"), "-profile", "/usr/share/color/icc/colord/sRGB.icc",
			"-filter", "Lanczos", "-resize", "150x", "png:-"))
		for _, ext := range []string{".png", ".jpg", ".webp", ".avif", ".heic"} {
			b, err := os.ReadFile(filepath.Join(dir, space+ext))
			if err != nil {
				t.Fatal(err)
			}
			_, vs := resizeBytes(t, rz, b, p)
			db := psnr(t, decodeAny(t, vs[0].Data), ref)
			t.Logf("%s%s: %.1f dB", space, ext, db)
			if db < 30 {
				t.Errorf("%s%s: %.1f dB against ImageMagick's colour-managed result", space, ext, db)
			}
		}
	}
}

// TestSampleAnimation: animated GIF and WebP originals give animated GIF
// variants with the original's frame count, delays and loop count, at the
// still's size; "animated": false gives the first frame.
func TestSampleAnimation(t *testing.T) {
	rz := New(Options{})
	dir := samplesDir(t)
	still := false
	for _, tc := range []struct {
		file   string
		frames int
		delays []int // 1/100 s; nil: the corpus GIF's own
		loop   int
	}{
		{"anim3.gif", 3, []int{8, 12, 20}, -2}, // -2: the source GIF's own
		{"anim3.webp", 3, []int{8, 12, 20}, 2}, // ANIM loop 3 = played 3 times
		{"anim.webp", 24, nil, 0},
	} {
		b, err := os.ReadFile(filepath.Join(dir, tc.file))
		if err != nil {
			t.Fatal(err)
		}
		src, vs := resizeBytes(t, rz, b, Preset{Geometry: "50x50"}, Preset{Geometry: "x150"},
			Preset{Name: "still", Geometry: "50x50", Animated: &still}, Preset{Name: "jpeg", Geometry: "50x50", Format: "jpeg"})
		if src.Frames != tc.frames {
			t.Errorf("%s: source frames %d, want %d", tc.file, src.Frames, tc.frames)
		}
		want := tc.delays
		if want == nil {
			g, err := gif.DecodeAll(bytes.NewReader(readCorpus(t, "g01_notime_14x25_anim24.gif")))
			if err != nil {
				t.Fatal(err)
			}
			want = g.Delay
		}
		if tc.loop == -2 {
			g, err := gif.DecodeAll(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			tc.loop = g.LoopCount
		}
		for _, v := range vs {
			if v.Format == "jpeg" {
				continue
			}
			g, err := gif.DecodeAll(bytes.NewReader(v.Data))
			if err != nil {
				t.Fatalf("%s %s: %v", tc.file, v.Preset, err)
			}
			n := tc.frames
			if v.Preset == "still" {
				n = 1
			}
			if len(g.Image) != n || g.Config.Width != v.Width || g.Config.Height != v.Height {
				t.Errorf("%s %s: %d frames %dx%d, want %d at %dx%d", tc.file, v.Preset, len(g.Image), g.Config.Width, g.Config.Height, n, v.Width, v.Height)
				continue
			}
			if n > 1 && (!slices.Equal(g.Delay, want) || g.LoopCount != tc.loop) {
				t.Errorf("%s %s: delays %v loop %d, want %v loop %d", tc.file, v.Preset, g.Delay, g.LoopCount, want, tc.loop)
			}
		}
	}
}

func readCorpus(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.Corpus(t), name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
