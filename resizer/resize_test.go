package resizer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/imgate/imgate/internal/testenv"
)

// TestMalformedCorpus: every hostile file of corpus/malformed is refused with
// the right typed error (png_named.jpg is a valid PNG with a .jpg name: the
// format comes from the content, so it is accepted as PNG).
func TestMalformedCorpus(t *testing.T) {
	dir := filepath.Join(testenv.Corpus(t), "malformed")
	want := map[string]Kind{
		"bad_ihdr_crc.png":            KindCorrupt,
		"bomb_50000x50000.png":        KindTooLarge,
		"bomb_65500x65500.jpg":        KindTooLarge,
		"png_named.jpg":               0, // accepted
		"skimage_truncated.jpg":       KindCorrupt,
		"text_named.jpg":              KindNotImage,
		"trunc_50pct.png":             KindCorrupt,
		"trunc_baseline_30pct.jpg":    KindCorrupt,
		"trunc_header_only.jpg":       KindCorrupt,
		"trunc_progressive_50pct.jpg": KindCorrupt,
		"zero.jpg":                    KindNotImage,
		"zero.png":                    KindNotImage,
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	rz := New(Options{})
	seen := 0
	for _, e := range ents {
		if e.Name() == "MANIFEST.tsv" {
			continue
		}
		k, ok := want[e.Name()]
		if !ok {
			t.Errorf("%s: new file in corpus/malformed, add its expected error here", e.Name())
			continue
		}
		seen++
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		src, vs, err := rz.Resize(context.Background(), f, DefaultPresets())
		f.Close()
		if k == 0 {
			if err != nil || src.Format != "png" || len(vs) != 3 {
				t.Errorf("%s: %v, format %q, %d variants; want a PNG rendered", e.Name(), err, src.Format, len(vs))
			}
			continue
		}
		var re *Error
		if !errors.As(err, &re) {
			t.Errorf("%s: error %v, want *Error of kind %v", e.Name(), err, k)
			continue
		}
		if re.Kind != k || !IsPermanent(err) || re.Msg == "" {
			t.Errorf("%s: kind %v (%q), want %v", e.Name(), re.Kind, re.Msg, k)
		}
		t.Logf("%-28s %-13v %s", e.Name(), re.Kind, re.Msg)
	}
	if seen != len(want) {
		t.Errorf("saw %d of %d expected files", seen, len(want))
	}
}

// TestMalformedMemory runs the malformed files (and the corpus) in a child
// process and checks its peak RSS (VmHWM).
func TestMalformedMemory(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("VmHWM is Linux-only")
	}
	dir := filepath.Join(testenv.Corpus(t), "malformed")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "RESIZER_RSS_CHILD="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	m := regexpFind(string(out), "VmHWM_KB=")
	kb, err := strconv.Atoi(m)
	if err != nil || kb == 0 {
		t.Fatalf("no VmHWM in child output:\n%s", out)
	}
	t.Logf("peak RSS processing corpus/malformed: %d MB", kb/1024)
	if kb > 200*1024 {
		t.Errorf("peak RSS %d MB, want < 200 MB", kb/1024)
	}
}

func regexpFind(s, prefix string) string {
	i := strings.Index(s, prefix)
	if i < 0 {
		return ""
	}
	s = s[i+len(prefix):]
	if j := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }); j >= 0 {
		s = s[:j]
	}
	return s
}

// TestCorpusMemory renders the whole corpus with 2 concurrent workers (as
// imgate resize --workers 2 does) in a child process: peak RSS ≤ 150 MB.
func TestCorpusMemory(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("VmHWM is Linux-only")
	}
	dir := testenv.Corpus(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "RESIZER_RSS_CHILD="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	kb, err := strconv.Atoi(regexpFind(string(out), "VmHWM_KB="))
	if err != nil || kb == 0 {
		t.Fatalf("no VmHWM in child output:\n%s", out)
	}
	t.Logf("peak RSS rendering the corpus with 2 workers: %d MB", kb/1024)
	if kb > 150*1024 {
		t.Errorf("peak RSS %d MB, want ≤ 150 MB", kb/1024)
	}
}

// TestMain runs rssChild instead of the tests when the test binary is
// re-executed by TestMalformedMemory or TestCorpusMemory (a child process, so
// its peak RSS is its own; no test is reported as skipped).
func TestMain(m *testing.M) {
	if dir := os.Getenv("RESIZER_RSS_CHILD"); dir != "" {
		rssChild(dir)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// rssChild renders every file of dir with 2 workers and prints its VmHWM.
func rssChild(dir string) {
	ents, _ := os.ReadDir(dir)
	rz := New(Options{})
	files := make(chan string)
	done := make(chan struct{})
	for range 2 {
		go func() {
			defer func() { done <- struct{}{} }()
			for f := range files {
				fh, err := os.Open(f)
				if err != nil {
					continue
				}
				_, _, _ = rz.Resize(context.Background(), fh, DefaultPresets())
				fh.Close()
			}
		}()
	}
	for _, e := range ents {
		if e.Type().IsRegular() {
			files <- filepath.Join(dir, e.Name())
		}
	}
	close(files)
	<-done
	<-done
	fmt.Printf("VmHWM_KB=%d\n", vmHWM())
}

// vmHWM returns this process's peak RSS in kB (0 if unknown).
func vmHWM() int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	return 0
}

// TestFormats renders every fixture and compares it with ImageMagick
// (colours preserved: CMYK, grayscale, 16-bit, palette, alpha).
func TestFormats(t *testing.T) {
	convert(t)
	rz := New(Options{})
	for _, tc := range []struct {
		file, format string
		gray         bool
	}{
		{"photo.jpg", "jpeg", false},
		{"progressive.jpg", "jpeg", false},
		{"gray.jpg", "jpeg", true},
		{"cmyk.jpg", "jpeg", false},
		{"gray.png", "png", true},
		{"gray16.png", "png", true},
		{"graya.png", "png", false},
		{"palette.png", "png", false},
		{"rgba.png", "png", false},
		{"rgb16.png", "png", false},
		{"rgba16.png", "png", false},
		{"anim.gif", "gif", false},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b := readTestdata(t, tc.file)
			src, vs := resizeBytes(t, rz, b, Preset{Geometry: "80x"}, Preset{Name: "png", Geometry: "80x", Format: "png"})
			if src.Format != tc.format {
				t.Errorf("format %q, want %q", src.Format, tc.format)
			}
			if vs[0].Format != tc.format || vs[0].ContentType != "image/"+tc.format {
				t.Errorf("variant format %q %q", vs[0].Format, vs[0].ContentType)
			}
			ref := decodeAny(t, runIM(t, "testdata/"+tc.file+"[0]", "-filter", "Lanczos", "-resize", "80x>", "png:-"))
			ours := decodeAny(t, vs[1].Data)
			db := psnr(t, ours, ref)
			t.Logf("%s → png: %v, PSNR %.1f dB vs ImageMagick", tc.file, ours.Bounds().Size(), db)
			if db < 35 {
				t.Errorf("PSNR %.1f dB vs ImageMagick, want ≥ 35", db)
			}
			if tc.gray {
				if _, ok := ours.(*image.Gray); !ok {
					t.Errorf("gray source written as %T, want *image.Gray", ours)
				}
			}
			same := decodeAny(t, vs[0].Data)
			if same.Bounds().Size() != ours.Bounds().Size() {
				t.Errorf("same-format variant %v", same.Bounds().Size())
			}
		})
	}
}

// TestNoMetadata: a JPEG with EXIF GPS gives variants without any metadata.
func TestNoMetadata(t *testing.T) {
	in := readTestdata(t, "gps.jpg")
	if !bytes.Contains(in, []byte("Exif\x00\x00")) || !bytes.Contains(in, []byte("TestCam")) {
		t.Fatal("fixture gps.jpg lost its EXIF")
	}
	rz := New(Options{})
	_, vs := resizeBytes(t, rz, in,
		Preset{Geometry: "80x"}, Preset{Name: "p", Geometry: "80x", Format: "png"}, Preset{Name: "g", Geometry: "80x", Format: "gif"})
	for _, v := range vs {
		if bytes.Contains(v.Data, []byte("Exif")) || bytes.Contains(v.Data, []byte("TestCam")) {
			t.Errorf("%s (%s): EXIF bytes in the output", v.Preset, v.Format)
		}
		switch v.Format {
		case "jpeg":
			for _, m := range jpegMarkers(t, v.Data) {
				if m >= 0xe0 && m <= 0xef || m == 0xfe {
					t.Errorf("jpeg output has APP/COM marker 0x%02x", m)
				}
			}
		case "png":
			for _, c := range pngChunks(t, v.Data) {
				switch c {
				case "IHDR", "PLTE", "tRNS", "IDAT", "IEND":
				default:
					t.Errorf("png output has chunk %s", c)
				}
			}
		case "gif":
			if bytes.Contains(v.Data, []byte("XMP")) {
				t.Errorf("gif output has XMP")
			}
		}
	}
	if exiftool, err := exec.LookPath("exiftool"); err == nil {
		for _, v := range vs {
			cmd := exec.Command(exiftool, "-gps:all", "-exif:all", "-s", "-")
			cmd.Stdin = bytes.NewReader(v.Data)
			out, _ := cmd.Output()
			if strings.TrimSpace(string(out)) != "" {
				t.Errorf("%s: exiftool finds metadata:\n%s", v.Preset, out)
			}
		}
	}
}

func jpegMarkers(t *testing.T, b []byte) []byte {
	var ms []byte
	pos := 2
	for pos+4 <= len(b) && b[pos] == 0xff {
		m := b[pos+1]
		ms = append(ms, m)
		if m == 0xda {
			break
		}
		pos += 2 + int(binary.BigEndian.Uint16(b[pos+2:]))
	}
	return ms
}

func pngChunks(t *testing.T, b []byte) []string {
	var cs []string
	pos := 8
	for pos+8 <= len(b) {
		n := int(binary.BigEndian.Uint32(b[pos:]))
		cs = append(cs, string(b[pos+4:pos+8]))
		pos += 12 + n
	}
	return cs
}

func TestLimits(t *testing.T) {
	photo := readTestdata(t, "photo.jpg") // 160x90
	anim := readTestdata(t, "anim.gif")   // 24 frames
	for _, tc := range []struct {
		name   string
		limits Limits
		data   []byte
	}{
		{"pixels", Limits{MaxPixels: 160*90 - 1}, photo},
		{"bytes", Limits{MaxBytes: int64(len(photo) - 1)}, photo},
		{"frames", Limits{MaxFrames: 23}, anim},
	} {
		_, _, err := New(Options{Limits: tc.limits}).Resize(context.Background(), bytes.NewReader(tc.data), DefaultPresets())
		if KindOf(err) != KindTooLarge {
			t.Errorf("%s: %v, want KindTooLarge", tc.name, err)
		}
	}
	// At the limit: accepted.
	for _, l := range []Limits{{MaxPixels: 160 * 90}, {MaxBytes: int64(len(photo))}} {
		if _, _, err := New(Options{Limits: l}).Resize(context.Background(), bytes.NewReader(photo), DefaultPresets()); err != nil {
			t.Errorf("%+v: %v", l, err)
		}
	}
	if _, _, err := New(Options{Limits: Limits{MaxFrames: 24}}).Resize(context.Background(), bytes.NewReader(anim), DefaultPresets()); err != nil {
		t.Errorf("24 frames: %v", err)
	}
	if d := (Limits{}).withDefaults(); d.MaxPixels != 50_000_000 || d.MaxFrames != 100 || d.MaxBytes != 100<<20 {
		t.Errorf("defaults %+v", d)
	}
}

func TestUnsupportedAndNotImage(t *testing.T) {
	rz := New(Options{})
	for _, tc := range []struct {
		data string
		kind Kind
	}{
		{"RIFF\x10\x00\x00\x00WEBPVP8 ", KindCorrupt},
		{"BM\x36\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00", KindUnsupported},
		{"II*\x00\x08\x00\x00\x00", KindUnsupported},
		{"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00", KindCorrupt},
		{"\x00\x00\x00\x0cjP  \r\n\x87\n", KindUnsupported},
		{"<html>hello</html>", KindNotImage},
		{"", KindNotImage},
		{"\xff\xd8\xff", KindCorrupt},
		{"\x89PNG\r\n\x1a\n", KindCorrupt},
		{"GIF89a", KindCorrupt},
	} {
		_, _, err := rz.Resize(context.Background(), strings.NewReader(tc.data), DefaultPresets())
		if KindOf(err) != tc.kind {
			t.Errorf("%q: %v, want %v", tc.data, err, tc.kind)
		}
	}
}

func TestCropGravityAndBackground(t *testing.T) {
	rz := New(Options{})
	b := readTestdata(t, "rgba.png") // 160x90, alpha 0 at the top row → 1 at the bottom
	_, vs := resizeBytes(t, rz, b,
		Preset{Name: "n", Geometry: "40x40^", Crop: true, Gravity: "north", Format: "jpeg", Background: "#ff0000"},
		Preset{Name: "s", Geometry: "40x40^", Crop: true, Gravity: "south", Format: "jpeg", Background: "#ff0000"},
		Preset{Name: "nocrop", Geometry: "40x40^"},
	)
	for _, v := range vs[:2] {
		if v.Width != 40 || v.Height != 40 {
			t.Errorf("%s: %dx%d, want 40x40", v.Preset, v.Width, v.Height)
		}
	}
	if vs[2].Width != 71 || vs[2].Height != 40 {
		t.Errorf("nocrop: %dx%d, want 71x40", vs[2].Width, vs[2].Height)
	}
	n, s := decodeAny(t, vs[0].Data), decodeAny(t, vs[1].Data)
	// North crop, top row: transparent over red background.
	r, g, bb, _ := n.At(20, 0).RGBA()
	if r>>8 < 200 || g>>8 > 60 || bb>>8 > 60 {
		t.Errorf("top of north crop = %d,%d,%d, want red background", r>>8, g>>8, bb>>8)
	}
	// South crop, bottom row: opaque photo, not red.
	r, g, bb, _ = s.At(20, 39).RGBA()
	if r>>8 > 200 && g>>8 < 60 && bb>>8 < 60 {
		t.Errorf("bottom of south crop is background red")
	}
	_ = color.White
}

func TestContextAndPermanence(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := New(Options{}).Resize(ctx, bytes.NewReader(readTestdata(t, "photo.jpg")), DefaultPresets())
	if !errors.Is(err, context.Canceled) || IsPermanent(err) {
		t.Errorf("canceled: %v (permanent %v)", err, IsPermanent(err))
	}
	_, _, err = New(Options{}).Resize(context.Background(), iotestErrReader{}, DefaultPresets())
	if err == nil || IsPermanent(err) {
		t.Errorf("read error: %v, permanent %v", err, IsPermanent(err))
	}
	_, _, err = New(Options{}).Resize(context.Background(), bytes.NewReader(readTestdata(t, "photo.jpg")), []Preset{{Geometry: "bad"}})
	if KindOf(err) != KindInvalidPreset || !IsPermanent(err) {
		t.Errorf("bad preset: %v", err)
	}
}

type iotestErrReader struct{}

func (iotestErrReader) Read([]byte) (int, error) { return 0, io.ErrClosedPipe }

// TestGOMAXPROCSRestored: bild's parallel package sets GOMAXPROCS to the CPU
// count at load; this package restores the environment's value.
func TestGOMAXPROCSRestored(t *testing.T) {
	if os.Getenv("RESIZER_GOMAXPROCS_CHILD") != "" {
		fmt.Printf("GOMAXPROCS=%d\n", runtime.GOMAXPROCS(0))
		return
	}
	if runtime.NumCPU() < 2 {
		t.Skip("needs 2 CPUs to tell the values apart")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestGOMAXPROCSRestored$", "-test.v")
	cmd.Env = append(os.Environ(), "RESIZER_GOMAXPROCS_CHILD=1", "GOMAXPROCS=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(string(out), "GOMAXPROCS=1\n") {
		t.Errorf("GOMAXPROCS not restored to the environment's 1:\n%s", out)
	}
}

func FuzzResize(f *testing.F) {
	ents, _ := os.ReadDir("testdata")
	for _, e := range ents {
		// Only the small fixtures: the fuzzer spends its time on its seeds'
		// mutations, and instrumented decoding of bigger ones is slow.
		info, err := e.Info()
		if err != nil || info.Size() > 5000 {
			continue
		}
		if ext := filepath.Ext(e.Name()); ext == ".jpg" || ext == ".png" || ext == ".gif" {
			b, err := os.ReadFile(filepath.Join("testdata", e.Name()))
			if err == nil {
				f.Add(b)
			}
		}
	}
	// Tiny images of each format, so that mutations stay fast.
	tiny := image.NewNRGBA(image.Rect(0, 0, 9, 7))
	for i := range tiny.Pix {
		tiny.Pix[i] = uint8(i * 37)
	}
	for _, enc := range []func(io.Writer, image.Image) error{
		func(w io.Writer, m image.Image) error { return jpeg.Encode(w, m, nil) },
		png.Encode,
		func(w io.Writer, m image.Image) error { return gif.Encode(w, m, nil) },
	} {
		var buf bytes.Buffer
		if err := enc(&buf, tiny); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Add([]byte("\xff\xd8\xff\xe1\x00\x10Exif\x00\x00MM\x00*\x00\x00\x00\x08"))
	f.Add([]byte("GIF89a\x01\x00\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"))
	// Small limits keep every input cheap (fuzzing instruments the code).
	const maxPixels = 1 << 14
	rz := New(Options{Limits: Limits{MaxPixels: maxPixels, MaxBytes: 1 << 20, MaxFrames: 50}, MaxInFlightBytes: 16 << 20})
	presets := []Preset{
		{Geometry: "50x50"}, {Geometry: "x30", Format: "png"}, {Geometry: "20x20^", Crop: true, Format: "jpeg"},
		{Geometry: "x40<", Format: "gif"}, {Geometry: "50%x25%", Format: "png"},
		{Geometry: "3x3"}, // small enough that JPEGs take the DCT-scaled decoder
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		src, vs, err := rz.Resize(context.Background(), bytes.NewReader(b), presets)
		if err != nil {
			if !IsPermanent(err) {
				t.Fatalf("non-permanent error from in-memory input: %v", err)
			}
			var e *Error
			errors.As(err, &e)
			if e.Msg == "" || e.Kind < KindNotImage || e.Kind > KindInvalidPreset {
				t.Fatalf("bad error %#v", e)
			}
			return
		}
		if len(vs) != len(presets) {
			t.Fatalf("%d variants", len(vs))
		}
		if int64(src.Width)*int64(src.Height) > maxPixels {
			t.Fatalf("source %dx%d over the pixel limit was decoded", src.Width, src.Height)
		}
		for _, v := range vs {
			m, _, err := image.Decode(bytes.NewReader(v.Data))
			if err != nil {
				t.Fatalf("variant %s does not decode: %v", v.Preset, err)
			}
			if m.Bounds().Dx() != v.Width || m.Bounds().Dy() != v.Height {
				t.Fatalf("variant %s is %v, says %dx%d", v.Preset, m.Bounds().Size(), v.Width, v.Height)
			}
		}
	})
}
