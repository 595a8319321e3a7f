package jpegscale

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/imgate/imgate/internal/testenv"
)

// plane is a view of one 8-bit sample plane.
type plane struct {
	pix    []byte
	stride int
	w, h   int
}

func (p plane) at(x, y int) byte { return p.pix[y*p.stride+x] }

// planes returns the Y/Cb/Cr (or gray) planes of an image with their
// valid sizes.
func planes(t *testing.T, img image.Image) (string, []plane) {
	t.Helper()
	switch m := img.(type) {
	case *image.Gray:
		b := m.Rect
		return "gray", []plane{{m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, b.Dx(), b.Dy()}}
	case *image.YCbCr:
		b := m.Rect
		cw, ch := b.Dx(), b.Dy()
		switch m.SubsampleRatio {
		case image.YCbCrSubsampleRatio422:
			cw = (cw + 1) / 2
		case image.YCbCrSubsampleRatio420:
			cw, ch = (cw+1)/2, (ch+1)/2
		case image.YCbCrSubsampleRatio440:
			ch = (ch + 1) / 2
		case image.YCbCrSubsampleRatio411:
			cw = (cw + 3) / 4
		case image.YCbCrSubsampleRatio410:
			cw, ch = (cw+3)/4, (ch+1)/2
		}
		co := m.COffset(b.Min.X, b.Min.Y)
		return m.SubsampleRatio.String(), []plane{
			{m.Y[m.YOffset(b.Min.X, b.Min.Y):], m.YStride, b.Dx(), b.Dy()},
			{m.Cb[co:], m.CStride, cw, ch},
			{m.Cr[co:], m.CStride, cw, ch},
		}
	}
	t.Fatalf("unexpected image type %T", img)
	return "", nil
}

// boxDown averages f×f boxes (partial boxes at the edges average what is there).
func boxDown(p plane, f int) plane {
	w, h := (p.w+f-1)/f, (p.h+f-1)/f
	out := plane{pix: make([]byte, w*h), stride: w, w: w, h: h}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			sum, n := 0, 0
			for yy := y * f; yy < min(y*f+f, p.h); yy++ {
				for xx := x * f; xx < min(x*f+f, p.w); xx++ {
					sum += int(p.at(xx, yy))
					n++
				}
			}
			out.pix[y*w+x] = byte((sum + n/2) / n)
		}
	}
	return out
}

// psnr compares two planes of the same size; maxDiff is the largest absolute difference.
func psnr(a, b plane) (db float64, maxDiff int) {
	var se float64
	for y := 0; y < a.h; y++ {
		for x := 0; x < a.w; x++ {
			d := int(a.at(x, y)) - int(b.at(x, y))
			se += float64(d * d)
			maxDiff = max(maxDiff, d, -d)
		}
	}
	if se == 0 {
		return math.Inf(1), 0
	}
	mse := se / float64(a.w*a.h)
	return 10 * math.Log10(255*255/mse), maxDiff
}

// compareWithStdMin checks Decode at every scale against image/jpeg (+ box
// averaging for the reduced scales). Full scale must agree to ≥ 45 dB per
// plane. The reduced scales must reach 35 dB on photo-sized images; a
// truncated DCT is a different low-pass filter from a box average, and on
// small images with sharp synthetic content and partial (edge-replicated)
// blocks the two legitimately differ more, so those get minSmallDB.
func compareWithStdMin(t *testing.T, name string, data []byte, minSmallDB float64) {
	t.Helper()
	ref, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: image/jpeg: %v", name, err)
	}
	refKind, refPlanes := planes(t, ref)
	for _, denom := range []int{1, 2, 4, 8} {
		got, err := DecodeBytes(data, denom, Options{MaxPixels: 100e6})
		if err != nil {
			t.Fatalf("%s 1/%d: %v", name, denom, err)
		}
		wantB := image.Rect(0, 0, (ref.Bounds().Dx()+denom-1)/denom, (ref.Bounds().Dy()+denom-1)/denom)
		if got.Bounds() != wantB {
			t.Fatalf("%s 1/%d: bounds %v, want %v", name, denom, got.Bounds(), wantB)
		}
		kind, gotPlanes := planes(t, got)
		if kind != refKind {
			// Sampling that image.YCbCr cannot express: compare the colours.
			compareRGB(t, fmt.Sprintf("%s 1/%d", name, denom), got, ref, denom, 30)
			continue
		}
		minDB := 35.0
		if min(ref.Bounds().Dx(), ref.Bounds().Dy()) < 500 {
			minDB = minSmallDB
		}
		if denom == 1 {
			minDB = 45
		}
		for i, rp := range refPlanes {
			want := rp
			if denom > 1 {
				want = boxDown(rp, denom)
			}
			gp := gotPlanes[i]
			if gp.w != want.w || gp.h != want.h {
				t.Fatalf("%s 1/%d plane %d: %dx%d, want %dx%d", name, denom, i, gp.w, gp.h, want.w, want.h)
			}
			db, md := psnr(gp, want)
			if db < minDB {
				t.Errorf("%s 1/%d plane %d: PSNR %.1f dB (max diff %d), want ≥ %.0f", name, denom, i, db, md, minDB)
			} else if testing.Verbose() {
				t.Logf("%s 1/%d plane %d: PSNR %.1f dB max diff %d", name, denom, i, db, md)
			}
		}
	}
}

// compareRGB compares the RGB colours of got against ref box-reduced by denom.
func compareRGB(t *testing.T, name string, got, ref image.Image, denom int, minDB float64) {
	t.Helper()
	b := ref.Bounds()
	var chans [2][3]plane
	for i, img := range []image.Image{ref, got} {
		bb := img.Bounds()
		for c := range 3 {
			chans[i][c] = plane{pix: make([]byte, bb.Dx()*bb.Dy()), stride: bb.Dx(), w: bb.Dx(), h: bb.Dy()}
		}
		for y := 0; y < bb.Dy(); y++ {
			for x := 0; x < bb.Dx(); x++ {
				r, g, bl, _ := img.At(bb.Min.X+x, bb.Min.Y+y).RGBA()
				chans[i][0].pix[y*bb.Dx()+x] = byte(r >> 8)
				chans[i][1].pix[y*bb.Dx()+x] = byte(g >> 8)
				chans[i][2].pix[y*bb.Dx()+x] = byte(bl >> 8)
			}
		}
	}
	_ = b
	for c := range 3 {
		want := chans[0][c]
		if denom > 1 {
			want = boxDown(want, denom)
		}
		db, md := psnr(chans[1][c], want)
		if db < minDB {
			t.Errorf("%s channel %d: PSNR %.1f dB (max diff %d), want ≥ %.0f", name, c, db, md, minDB)
		} else if testing.Verbose() {
			t.Logf("%s channel %d: PSNR %.1f dB max diff %d", name, c, db, md)
		}
	}
}

// synth makes a test picture with smooth gradients, edges and noise.
func synth(w, h int, seed uint64) *image.RGBA {
	rng := rand.New(rand.NewPCG(seed, 7))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			r := x * 255 / max(w-1, 1)
			g := y * 255 / max(h-1, 1)
			b := 128 + int(100*math.Sin(float64(x+y)/7))
			if (x/13+y/9)%2 == 0 {
				r, g = g, 255-r
			}
			n := rng.IntN(21) - 10
			img.Set(x, y, color.RGBA{clamp8(r + n), clamp8(g - n), clamp8(b + n), 255})
		}
	}
	return img
}

func clamp8(v int) uint8 { return uint8(max(0, min(255, v))) }

func TestGeneratedStd(t *testing.T) {
	// Sizes that are whole MCUs have no edge blocks: the reduced scales must
	// match box averaging closely there. Ragged sizes exercise the edges.
	sizes := [][3]int{{1, 1, 10}, {7, 9, 10}, {16, 16, 28}, {33, 17, 25}, {123, 77, 28}, {128, 96, 30}}
	for _, sz := range sizes {
		minDB := float64(sz[2])
		for _, q := range []int{30, 75, 95, 100} {
			img := synth(sz[0], sz[1], uint64(sz[0]*1000+q))
			var buf bytes.Buffer
			if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
				t.Fatal(err)
			}
			compareWithStdMin(t, fmt.Sprintf("rgb %dx%d q%d", sz[0], sz[1], q), buf.Bytes(), minDB)

			gray := image.NewGray(img.Bounds())
			for i := range gray.Pix {
				gray.Pix[i] = img.Pix[4*i+1]
			}
			buf.Reset()
			if err := jpeg.Encode(&buf, gray, &jpeg.Options{Quality: q}); err != nil {
				t.Fatal(err)
			}
			compareWithStdMin(t, fmt.Sprintf("gray %dx%d q%d", sz[0], sz[1], q), buf.Bytes(), minDB)
		}
	}
}

func testdataFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.jpg"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	return files
}

// TestTestdata decodes the ImageMagick/jpegtran-made files (sampling
// factors, progressive, restart intervals) and checks the unsupported ones.
func TestTestdata(t *testing.T) {
	unsupported := map[string]bool{"cmyk.jpg": true, "arith.jpg": true, "rgb.jpg": true}
	for _, f := range testdataFiles(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		if unsupported[name] {
			_, err := DecodeBytes(data, 1, Options{})
			if !errors.Is(err, ErrUnsupported) {
				t.Errorf("%s: err %v, want ErrUnsupported", name, err)
			}
			continue
		}
		t.Run(name, func(t *testing.T) {
			if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
				// image/jpeg refuses some legal sampling factors and some
				// progressive files with restart intervals: compare with
				// ImageMagick's (libjpeg's) decoding instead. libjpeg
				// upsamples chroma smoothly where image.YCbCr replicates,
				// hence 40 dB at full scale (30 for odd sampling factors).
				min1 := 40.0
				if strings.Contains(err.Error(), "subsampling") {
					min1 = 30
				}
				compareWithConvert(t, f, data, min1)
				return
			}
			compareWithStdMin(t, name, data, 30)
		})
	}
}

// compareWithConvert compares the RGB decoding with /usr/bin/convert's.
func compareWithConvert(t *testing.T, path string, data []byte, min1 float64) {
	convert := testenv.Tool(t, "/usr/bin/convert")
	out, err := exec.Command(convert, path, "-depth", "8", "ppm:-").Output()
	if err != nil {
		t.Fatalf("convert: %v", err)
	}
	ref, err := readPPM(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, denom := range []int{1, 2, 4, 8} {
		got, err := DecodeBytes(data, denom, Options{})
		if err != nil {
			t.Fatalf("1/%d: %v", denom, err)
		}
		// libjpeg upsamples chroma smoothly, this decoder replicates; a
		// subsampled luma (sodd2) halves the reduced-scale resolution.
		minDB := min1
		if denom > 1 {
			minDB = 20
		}
		compareRGB(t, fmt.Sprintf("%s 1/%d", filepath.Base(path), denom), got, ref, denom, minDB)
	}
}

func readPPM(b []byte) (image.Image, error) {
	var w, h, maxv int
	var hdrLen int
	fields := 0
	i := 0
	vals := [4]int{}
	for fields < 4 && i < len(b) {
		for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
			i++
		}
		j := i
		for j < len(b) && !(b[j] == ' ' || b[j] == '\n' || b[j] == '\r' || b[j] == '\t') {
			j++
		}
		tok := string(b[i:j])
		if fields == 0 {
			if tok != "P6" {
				return nil, fmt.Errorf("not a P6 PPM")
			}
		} else {
			fmt.Sscan(tok, &vals[fields])
		}
		fields++
		i = j
	}
	hdrLen = i + 1
	w, h, maxv = vals[1], vals[2], vals[3]
	if maxv != 255 || len(b) < hdrLen+3*w*h {
		return nil, fmt.Errorf("unexpected PPM %dx%d max %d", w, h, maxv)
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for p := 0; p < w*h; p++ {
		copy(img.Pix[4*p:4*p+3], b[hdrLen+3*p:hdrLen+3*p+3])
		img.Pix[4*p+3] = 255
	}
	return img, nil
}

// TestCorpus compares every corpus JPEG with image/jpeg at every scale.
func TestCorpus(t *testing.T) {
	n := 0
	for _, f := range testenv.CorpusImages(t) {
		if !strings.HasSuffix(strings.ToLower(f), ".jpg") {
			continue
		}
		n++
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			compareWithStdMin(t, filepath.Base(f), data, 30)
			runtime.GC()
		})
	}
	if n == 0 {
		t.Fatal("no JPEG in the corpus")
	}
}

// TestMalformed: every hostile corpus file is refused with an error, and the
// huge headers are refused by MaxPixels without allocating the frame.
func TestMalformed(t *testing.T) {
	dir := filepath.Join(testenv.Corpus(t), "malformed")
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.Name() == "MANIFEST.tsv" {
			continue
		}
		t.Run(e.Name(), func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			for _, denom := range []int{1, 8} {
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				img, err := DecodeBytes(data, denom, Options{MaxPixels: 50_000_000})
				runtime.ReadMemStats(&after)
				if err == nil {
					t.Fatalf("1/%d: decoded to %v, want an error", denom, img.Bounds())
				}
				if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrTooLarge) {
					t.Errorf("1/%d: error %v wraps none of the sentinels", denom, err)
				}
				if strings.HasPrefix(e.Name(), "bomb_") && strings.HasSuffix(e.Name(), ".jpg") {
					if !errors.Is(err, ErrTooLarge) {
						t.Errorf("1/%d: error %v, want ErrTooLarge", denom, err)
					}
					if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
						t.Errorf("1/%d: allocated %d bytes before refusing the header", denom, alloc)
					}
				}
			}
		})
	}
}

// TestTruncated: every prefix of a valid file is an error, never a panic.
func TestTruncated(t *testing.T) {
	for _, f := range []string{"testdata/s420_rst.jpg", "testdata/p422_rst.jpg", "testdata/podd.jpg", "testdata/sgray.jpg"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n < len(data)-1; n++ {
			for _, denom := range []int{1, 8} {
				if _, err := DecodeBytes(data[:n], denom, Options{}); err == nil {
					t.Fatalf("%s truncated to %d bytes at 1/%d: no error", f, n, denom)
				}
			}
		}
	}
}

// TestHeaderBomb: a frame header declaring 65500×65500 is refused.
func TestHeaderBomb(t *testing.T) {
	data, err := os.ReadFile("testdata/s420.jpg")
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(data, []byte{0xFF, 0xC0})
	if i < 0 {
		t.Fatal("no SOF0")
	}
	bomb := bytes.Clone(data)
	bomb[i+5], bomb[i+6], bomb[i+7], bomb[i+8] = 0xFF, 0xDC, 0xFF, 0xDC
	_, err = DecodeBytes(bomb, 1, Options{MaxPixels: 50_000_000})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err %v, want ErrTooLarge", err)
	}
	// Without MaxPixels, the size of the data still bounds the allocation.
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = DecodeBytes(bomb, 1, Options{})
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("no MaxPixels: err %v, want ErrCorrupt", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Errorf("no MaxPixels: allocated %d bytes before refusing", alloc)
	}
	cfg, err := DecodeConfig(bomb)
	if err != nil || cfg.Width != 65500 || cfg.Height != 65500 {
		t.Fatalf("DecodeConfig = %+v, %v", cfg, err)
	}
}

func TestChooseDenom(t *testing.T) {
	tests := []struct{ w, h, minW, minH, want int }{
		{6000, 4000, 300, 300, 8},
		{6000, 4000, 800, 300, 4},
		{6000, 4000, 3000, 1, 2},
		{6000, 4000, 3001, 1, 1},
		{100, 100, 14, 14, 4},
		{100, 100, 13, 13, 8},
		{100, 100, 12, 12, 8},
		{100, 100, 200, 200, 1},
		{1, 1, 1, 1, 8},
	}
	for _, tt := range tests {
		if got := ChooseDenom(tt.w, tt.h, tt.minW, tt.minH); got != tt.want {
			t.Errorf("ChooseDenom(%d,%d,%d,%d) = %d, want %d", tt.w, tt.h, tt.minW, tt.minH, got, tt.want)
		}
	}
}

// TestIDCT8 checks the AAN transform against the defining formula.
func TestIDCT8(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	d := &decoder{denom: 1}
	for k := range d.qt[0] {
		d.qt[0][k] = 1
	}
	qt := d.dequantTable(0)
	for iter := 0; iter < 200; iter++ {
		var coef [64]float64
		var blk, tmp [64]float32
		for k := 0; k < 64; k++ {
			if rng.IntN(3) == 0 {
				coef[zigzag[k]] = float64(rng.IntN(200) - 100)
				if k == 0 {
					coef[0] = float64(rng.IntN(1000) - 500)
				}
				blk[zigzag[k]] = float32(coef[zigzag[k]]) * qt[k]
			}
		}
		var out [64]byte
		idct8(&blk, &tmp, out[:], 8)
		for y := 0; y < 8; y++ {
			for x := 0; x < 8; x++ {
				s := 0.0
				for v := 0; v < 8; v++ {
					for u := 0; u < 8; u++ {
						cu, cv := 1.0, 1.0
						if u == 0 {
							cu = math.Sqrt2 / 2
						}
						if v == 0 {
							cv = math.Sqrt2 / 2
						}
						s += cu * cv * coef[v*8+u] * math.Cos(float64((2*x+1)*u)*math.Pi/16) * math.Cos(float64((2*y+1)*v)*math.Pi/16)
					}
				}
				want := math.Round(math.Max(0, math.Min(255, s/4+128)))
				if d := math.Abs(float64(out[y*8+x]) - want); d > 1 {
					t.Fatalf("iter %d (%d,%d): got %d want %v", iter, x, y, out[y*8+x], want)
				}
			}
		}
	}
}
