package jpegenc

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/imgate/imgate/internal/testenv"
)

// testImage is a smooth gradient with sharp coloured edges and noise: every
// kind of block (flat, edge, texture) appears.
func testImage(w, h int, seed uint64) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(seed, 1))
	for y := range h {
		for x := range w {
			r := uint8(255 * x / max(w-1, 1))
			g := uint8(255 * y / max(h-1, 1))
			b := uint8(128)
			if (x/7+y/5)%3 == 0 {
				b = 240
			}
			if x > w/2 && y > h/2 {
				n := uint8(rng.IntN(64))
				r, g = r^n, g^n
			}
			m.SetRGBA(x, y, color.RGBA{r, g, b, 255})
		}
	}
	return m
}

func decodeGo(t testing.TB, b []byte) image.Image {
	t.Helper()
	m, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("image/jpeg cannot decode: %v", err)
	}
	return m
}

// psnr of the decoded image against the source, over R, G and B.
func psnr(a image.Image, b *image.RGBA) float64 {
	var se float64
	r := b.Rect
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			c := b.RGBAAt(x, y)
			for _, d := range []float64{float64(r1>>8) - float64(c.R), float64(g1>>8) - float64(c.G), float64(b1>>8) - float64(c.B)} {
				se += d * d
			}
		}
	}
	mse := se / float64(3*r.Dx()*r.Dy())
	return 10 * math.Log10(255*255/max(mse, 1e-9))
}

func samePixels(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 {
				return false
			}
		}
	}
	return true
}

func TestRoundTrip(t *testing.T) {
	cases := []struct {
		w, h, q int
		sub     int
	}{
		{1, 1, 85, 0}, {7, 3, 85, 0}, {50, 50, 85, 0}, {64, 17, 50, 444},
		{150, 100, 85, 420}, {151, 99, 85, 420}, {300, 200, 95, 0},
		{33, 65, 100, 420}, {150, 150, 10, 0}, {17, 300, 1, 444},
	}
	for _, c := range cases {
		src := testImage(c.w, c.h, uint64(c.w*c.h))
		// Go's encoder (same Annex K tables, same quality scaling, 4:2:0) is
		// the yardstick: no worse picture, fewer bytes.
		var gb bytes.Buffer
		if err := jpeg.Encode(&gb, src, &jpeg.Options{Quality: c.q}); err != nil {
			t.Fatal(err)
		}
		goPSNR := psnr(decodeGo(t, gb.Bytes()), src)
		var decoded []image.Image
		for _, mode := range []int{ProgressiveNever, ProgressiveAlways} {
			b, err := Append(nil, src, &Options{Quality: c.q, Subsampling: c.sub, Progressive: mode})
			if err != nil {
				t.Fatal(err)
			}
			m := decodeGo(t, b)
			if m.Bounds().Dx() != c.w || m.Bounds().Dy() != c.h {
				t.Fatalf("%dx%d: decoded as %v", c.w, c.h, m.Bounds())
			}
			if p := psnr(m, src); p < goPSNR-0.1 {
				t.Errorf("%dx%d q%d sub %d mode %d: PSNR %.2f, image/jpeg %.2f", c.w, c.h, c.q, c.sub, mode, p, goPSNR)
			}
			if is420 := c.sub == 420 || c.sub == 0 && max(c.w, c.h) > Small444; is420 && len(b) >= gb.Len() {
				t.Errorf("%dx%d q%d sub %d mode %d: %d bytes, image/jpeg %d", c.w, c.h, c.q, c.sub, mode, len(b), gb.Len())
			}
			decoded = append(decoded, m)
		}
		// Same coefficients, so the same decoder must give the same pixels.
		if !samePixels(decoded[0], decoded[1]) {
			t.Errorf("%dx%d q%d: progressive decodes differently from baseline", c.w, c.h, c.q)
		}
	}
}

func TestGray(t *testing.T) {
	src := testImage(90, 70, 3)
	g := image.NewGray(src.Rect)
	for i := range g.Pix {
		g.Pix[i] = src.Pix[4*i+1]
	}
	for _, mode := range []int{ProgressiveNever, ProgressiveAlways} {
		b, err := Append(nil, g, &Options{Progressive: mode})
		if err != nil {
			t.Fatal(err)
		}
		m := decodeGo(t, b)
		if _, ok := m.(*image.Gray); !ok {
			t.Fatalf("decoded as %T, want one-component *image.Gray", m)
		}
	}
}

// TestAutoChoosesSmaller: automatic mode is never larger than either fixed
// mode, and small images get 4:4:4.
func TestAutoChoosesSmaller(t *testing.T) {
	for _, sz := range [][2]int{{50, 50}, {150, 100}, {400, 300}} {
		src := testImage(sz[0], sz[1], 9)
		auto, _ := Append(nil, src, nil)
		base, _ := Append(nil, src, &Options{Progressive: ProgressiveNever})
		prog, _ := Append(nil, src, &Options{Progressive: ProgressiveAlways})
		if len(auto) > min(len(base), len(prog)) {
			t.Errorf("%v: auto %d bytes, baseline %d, progressive %d", sz, len(auto), len(base), len(prog))
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(auto))
		if err != nil {
			t.Fatal(err)
		}
		_ = cfg
		sub := sampling(t, auto)
		want := "420"
		if sz[0] <= Small444 && sz[1] <= Small444 {
			want = "444"
		}
		if sub != want {
			t.Errorf("%v: sampling %s, want %s", sz, sub, want)
		}
	}
}

// sampling reads the luma sampling factors from the SOF.
func sampling(t *testing.T, b []byte) string {
	for i := 2; i+4 < len(b); {
		m := b[i+1]
		n := int(b[i+2])<<8 | int(b[i+3])
		if m == 0xc0 || m == 0xc2 {
			if b[i+11] == 0x22 {
				return "420"
			}
			return "444"
		}
		i += 2 + n
	}
	t.Fatal("no SOF")
	return ""
}

// TestLibjpegDecodes: djpeg (libjpeg-turbo) decodes baseline and progressive
// output to the same pixels, close to the source.
func TestLibjpegDecodes(t *testing.T) {
	djpeg, err := exec.LookPath("djpeg")
	if err != nil {
		testenv.Missing(t, "djpeg (Debian libjpeg-turbo-progs)")
		return
	}
	dir := t.TempDir()
	for _, sz := range [][2]int{{1, 1}, {50, 50}, {151, 97}, {640, 480}} {
		src := testImage(sz[0], sz[1], 5)
		var outs [][]byte
		for _, mode := range []int{ProgressiveNever, ProgressiveAlways} {
			b, err := Append(nil, src, &Options{Progressive: mode})
			if err != nil {
				t.Fatal(err)
			}
			in := filepath.Join(dir, "in.jpg")
			if err := os.WriteFile(in, b, 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(djpeg, "-pnm", in).Output()
			if err != nil {
				t.Fatalf("%v mode %d: djpeg: %v", sz, mode, err)
			}
			outs = append(outs, out)
			m := parsePPM(t, out)
			if p := psnr(m, src); p < 22 {
				t.Errorf("%v mode %d: djpeg PSNR %.1f", sz, mode, p)
			}
		}
		if !bytes.Equal(outs[0], outs[1]) {
			t.Errorf("%v: djpeg decodes progressive differently from baseline", sz)
		}
	}
}

func parsePPM(t *testing.T, b []byte) *image.RGBA {
	var w, h, maxv int
	var off int
	fields := 0
	i := 2
	for fields < 3 {
		for b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t' {
			i++
		}
		v := 0
		for b[i] >= '0' && b[i] <= '9' {
			v = v*10 + int(b[i]-'0')
			i++
		}
		switch fields {
		case 0:
			w = v
		case 1:
			h = v
		case 2:
			maxv = v
		}
		fields++
	}
	off = i + 1
	if string(b[:2]) != "P6" || maxv != 255 {
		t.Fatalf("djpeg output is not 8-bit P6: %q", b[:2])
	}
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for p := range w * h {
		copy(m.Pix[4*p:], b[off+3*p:off+3*p+3])
		m.Pix[4*p+3] = 255
	}
	return m
}

// FuzzEncode: any pixels at any size and quality encode to a JPEG that
// image/jpeg decodes to the same size, baseline and progressive alike.
func FuzzEncode(f *testing.F) {
	f.Add(uint8(1), uint8(1), uint8(85), []byte{1, 2, 3})
	f.Add(uint8(17), uint8(9), uint8(1), []byte{255, 0, 255, 0})
	f.Add(uint8(70), uint8(33), uint8(100), []byte{})
	f.Fuzz(func(t *testing.T, w, h, q uint8, pix []byte) {
		if w == 0 || h == 0 {
			return
		}
		m := image.NewRGBA(image.Rect(0, 0, int(w), int(h)))
		for i := range m.Pix {
			if len(pix) > 0 {
				m.Pix[i] = pix[i%len(pix)] ^ byte(i*7)
			}
		}
		for _, mode := range []int{ProgressiveNever, ProgressiveAlways} {
			b, err := Append(nil, m, &Options{Quality: int(q%100) + 1, Progressive: mode})
			if err != nil {
				t.Fatal(err)
			}
			d := decodeGo(t, b)
			if d.Bounds() != m.Rect {
				t.Fatalf("decoded %v, want %v", d.Bounds(), m.Rect)
			}
		}
	})
}

// TestEveryScript: each progressive script decodes (image/jpeg and djpeg)
// to exactly the pixels of the baseline file, colour and gray.
func TestEveryScript(t *testing.T) {
	djpeg, _ := exec.LookPath("djpeg")
	dir := t.TempDir()
	for _, gray := range []bool{false, true} {
		for _, sz := range [][2]int{{1, 1}, {50, 50}, {151, 97}, {333, 250}} {
			src := testImage(sz[0], sz[1], 11)
			e := newEncoder(src, Options{Quality: 80, Gray: gray})
			n := len(e.comps)
			files := [][]byte{e.file(nil, e.entropy(baselineScans(n)), false)}
			for _, sc := range progressiveScripts(n) {
				files = append(files, e.file(nil, e.entropy(sc), true))
			}
			var goRef image.Image
			var djRef []byte
			for i, b := range files {
				m := decodeGo(t, b)
				if i == 0 {
					goRef = m
				} else if !samePixels(goRef, m) {
					t.Errorf("gray %v %v: script %d decodes differently (image/jpeg)", gray, sz, i-1)
				}
				if djpeg == "" {
					continue
				}
				in := filepath.Join(dir, "in.jpg")
				if err := os.WriteFile(in, b, 0o600); err != nil {
					t.Fatal(err)
				}
				out, err := exec.Command(djpeg, in).Output()
				if err != nil {
					t.Fatalf("gray %v %v script %d: djpeg: %v", gray, sz, i-1, err)
				}
				if i == 0 {
					djRef = out
				} else if !bytes.Equal(djRef, out) {
					t.Errorf("gray %v %v: script %d decodes differently (djpeg)", gray, sz, i-1)
				}
			}
		}
	}
	if djpeg == "" {
		testenv.Missing(t, "djpeg (Debian libjpeg-turbo-progs)")
	}
}
