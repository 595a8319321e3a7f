package resizer

import (
	"bytes"
	"context"
	"image/jpeg"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/imgate/imgate/internal/testenv"
)

// onlyRead hides every method of its reader but Read.
type onlyRead struct{ io.Reader }

// sizedRead is a plain reader that states its length (resizer.Sized).
type sizedRead struct {
	io.Reader
	n int64
}

func (s sizedRead) Size() int64 { return s.n }

// TestReadLimitedSized: a source that states its size is read into one
// buffer of that size once past its first MiB — about half the bytes an unsized source of 8 MiB
// costs while its buffer doubles — and the limit still holds.
func TestReadLimitedSized(t *testing.T) {
	data := bytes.Repeat([]byte{0xAB}, 8<<20)
	allocated := func(mk func() io.Reader) uint64 {
		res := testing.Benchmark(func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				got, err := readLimited(mk(), 16<<20)
				if err != nil || len(got) != len(data) {
					b.Fatalf("readLimited: %d bytes, %v", len(got), err)
				}
			}
		})
		return uint64(res.AllocedBytesPerOp())
	}
	sized := allocated(func() io.Reader { return sizedRead{onlyRead{bytes.NewReader(data)}, int64(len(data))} })
	unsized := allocated(func() io.Reader { return onlyRead{bytes.NewReader(data)} })
	if sized > uint64(len(data))+firstBuf+64<<10 {
		t.Errorf("sized source: %d bytes allocated for %d bytes read", sized, len(data))
	}
	if unsized < sized*3/2 {
		t.Errorf("unsized source allocated %d bytes, sized %d: the test no longer shows the difference", unsized, sized)
	}
	t.Logf("8 MiB read: %d bytes allocated with a stated size, %d without", sized, unsized)

	// The largest limit there is reads the source (limit+1 does not wrap).
	if got, err := readLimited(onlyRead{bytes.NewReader(data)}, math.MaxInt64); err != nil || len(got) != len(data) {
		t.Errorf("limit MaxInt64: %d bytes, %v", len(got), err)
	}

	// A stated size never lifts the limit.
	if _, err := readLimited(sizedRead{onlyRead{bytes.NewReader(data)}, 10}, 1<<20); KindOf(err) != KindTooLarge {
		t.Errorf("over the limit with a small stated size: %v, want too large", err)
	}

	// A size stated over the limit is refused before any byte is read.
	src := &countingSrc{r: bytes.NewReader(data)}
	if _, err := readLimited(sizedRead{src, int64(len(data))}, 1<<20); KindOf(err) != KindTooLarge || src.n != 0 {
		t.Errorf("stated over the limit: %v after %d bytes read, want too large after 0", err, src.n)
	}
}

// countingSrc counts the bytes its reader has handed out.
type countingSrc struct {
	r io.Reader
	n int
}

func (c *countingSrc) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// trailer is what phones append after a JPEG's EOI (a motion photo's
// video, a gain map): here 4 MiB that holds JPEG markers, EOI included.
func trailer() []byte {
	t := bytes.Repeat([]byte{0x00, 0x00, 0x00, 0x18, 'f', 't', 'y', 'p', 0xff, 0xd9, 0xff, 0xd8, 0xff, 0xe1}, 4<<20/14)
	return append(t, 0xff, 0xd9)
}

// TestReadLimitedStopsAtJPEGEnd: a JPEG followed by a trailer is read up to
// its EOI (and at most one read beyond it), fed in small or large reads;
// what comes back is exactly the JPEG. The test images have EXIF
// thumbnails (an EOI of their own inside APP1), progressive scans and
// restart markers.
func TestReadLimitedStopsAtJPEGEnd(t *testing.T) {
	ents, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".jpg") {
			checkStopsAtEnd(t, e.Name(), readTestdata(t, e.Name()))
		}
	}
}

// TestReadLimitedCorpusJPEGEnd: the same for the real photos of the corpus.
func TestReadLimitedCorpusJPEGEnd(t *testing.T) {
	for _, p := range testenv.CorpusImages(t) {
		if !strings.HasSuffix(p, ".jpg") {
			continue
		}
		img, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		checkStopsAtEnd(t, filepath.Base(p), img)
	}
}

// checkStopsAtEnd reads img alone and with a trailer. Alone, it comes back
// whole or cut just past an EOI (a camera may store a preview JPEG after
// the image's end, as Minolta's maker notes do), and decodes to the same
// pixels as the whole file. With a trailer, it comes back the same, read
// at most one read beyond its end.
func checkStopsAtEnd(t *testing.T, name string, img []byte) {
	t.Helper()
	alone, err := readLimited(bytes.NewReader(img), 64<<20)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(alone) < len(img) {
		if !bytes.HasSuffix(alone, []byte{0xff, 0xd9}) {
			t.Fatalf("%s: cut at %d of %d bytes, not after an EOI", name, len(alone), len(img))
		}
		a, errA := jpeg.Decode(bytes.NewReader(alone))
		w, errW := jpeg.Decode(bytes.NewReader(img))
		if errA != nil || errW != nil || !reflect.DeepEqual(a, w) {
			t.Fatalf("%s: the first %d bytes decode differently from all %d (%v, %v)", name, len(alone), len(img), errA, errW)
		}
		t.Logf("%s: %d bytes after the image's EOI are not read", name, len(img)-len(alone))
	}
	file := append(slices.Clip(img), trailer()...)
	for _, chunk := range []int{1 << 30, 4096, 7} {
		src := &countingSrc{r: &chunkReader{b: file, max: chunk}}
		got, err := readLimited(src, 64<<20)
		if err != nil {
			t.Fatalf("%s, reads of %d: %v", name, chunk, err)
		}
		if !bytes.Equal(got, alone) {
			t.Fatalf("%s, reads of %d: got %d bytes, want the %d of the JPEG", name, chunk, len(got), len(alone))
		}
		if src.n > len(alone)+readChunk {
			t.Errorf("%s, reads of %d: read %d bytes of a %d-byte JPEG with a trailer", name, chunk, src.n, len(alone))
		}
	}
}

// chunkReader hands out b at most max bytes per Read.
type chunkReader struct {
	b   []byte
	max int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), c.max)], c.b)
	c.b = c.b[n:]
	return n, nil
}

// TestReadLimitedWhole: sources that are not JPEGs, or JPEGs whose markers
// do not parse, are read whole, as before.
func TestReadLimitedWhole(t *testing.T) {
	png := readTestdata(t, "rgba.png")
	broken := slices.Clone(readTestdata(t, "tiny_gray.jpg")[:20])
	broken[4], broken[5] = 0, 1 // APP0 length 1: malformed
	for name, data := range map[string][]byte{
		"png with a trailer": append(slices.Clip(png), trailer()...),
		"malformed jpeg":     append(broken, trailer()...),
		"jpeg without EOI":   readTestdata(t, "tiny_gray.jpg")[:200],
		"empty":              nil,
	} {
		got, err := readLimited(&chunkReader{b: data, max: 1000}, 64<<20)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s: got %d bytes (%v), want all %d", name, len(got), err, len(data))
		}
	}
}

// TestResizeIgnoresJPEGTrailer: the variants of a JPEG with a trailer are
// byte-identical to those of the JPEG alone.
func TestResizeIgnoresJPEGTrailer(t *testing.T) {
	r := New(Options{})
	for _, name := range []string{"photo.jpg", "progressive_restart.jpg", "gps.jpg"} {
		img := readTestdata(t, name)
		_, want, err := r.Resize(context.Background(), bytes.NewReader(img), DefaultPresets())
		if err != nil {
			t.Fatal(err)
		}
		_, got, err := r.Resize(context.Background(), bytes.NewReader(append(slices.Clip(img), trailer()...)), DefaultPresets())
		if err != nil {
			t.Fatalf("%s with a trailer: %v", name, err)
		}
		for i := range want {
			if !bytes.Equal(got[i].Data, want[i].Data) {
				t.Errorf("%s %s: variant differs with a trailer", name, want[i].Preset)
			}
		}
	}
}

// TestJPEGEnd: table of marker layouts, fed whole and byte by byte.
func TestJPEGEnd(t *testing.T) {
	seg := func(m byte, body ...byte) []byte {
		return append([]byte{0xff, m, byte((len(body) + 2) >> 8), byte(len(body) + 2)}, body...)
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	soi, eoi := []byte{0xff, 0xd8}, []byte{0xff, 0xd9}
	for _, tc := range []struct {
		name string
		data []byte
		end  int // 0: none
	}{
		{"eoi right after soi", cat(soi, eoi, []byte{1, 2}), 4},
		{"eoi inside APP1 skipped", cat(soi, seg(0xe1, 0xff, 0xd9, 0xff, 0xd9), eoi, []byte{0}), 12},
		{"entropy data, stuffing, restarts, fill", cat(soi, seg(0xda, 1, 2), []byte{5, 0xff, 0x00, 6, 0xff, 0xd3, 7, 0xff, 0xff}, eoi, eoi), 19},
		{"second scan after entropy data", cat(soi, seg(0xda, 1), []byte{9, 9}, seg(0xc4, 3), seg(0xda, 1), []byte{8}, eoi), 22},
		{"no eoi", cat(soi, seg(0xda, 1), []byte{1, 2, 3}), 0},
		{"length under 2", cat(soi, []byte{0xff, 0xe0, 0x00, 0x01}, eoi), 0},
		{"segment longer than the data", cat(soi, []byte{0xff, 0xe0, 0x40, 0x00}, eoi), 0},
		{"not a jpeg", cat([]byte{0x89, 'P', 'N', 'G'}, eoi), 0},
	} {
		var whole jpegEnd
		if got := whole.find(tc.data); got != tc.end {
			t.Errorf("%s, whole: end %d, want %d", tc.name, got, tc.end)
		}
		var inc jpegEnd
		got := 0
		for k := 1; k <= len(tc.data) && got == 0; k++ {
			got = inc.find(tc.data[:k])
		}
		if got != tc.end {
			t.Errorf("%s, byte by byte: end %d, want %d", tc.name, got, tc.end)
		}
	}
}

// FuzzJPEGEnd: fed in pieces, jpegEnd finds the same end as fed whole; an
// end found is just past an EOI marker inside the data.
func FuzzJPEGEnd(f *testing.F) {
	for _, name := range []string{"tiny_gray.jpg", "tiny_progressive.jpg", "orient6.jpg", "restart.jpg"} {
		f.Add(append(readTestdata(f, name), 0xff, 0xd9, 1), uint16(97))
	}
	f.Fuzz(func(t *testing.T, data []byte, step uint16) {
		var whole jpegEnd
		want := whole.find(data)
		if want > 0 && (want > len(data) || want < 4 || data[want-2] != 0xff || data[want-1] != 0xd9) {
			t.Fatalf("end %d is not just past an EOI in %d bytes", want, len(data))
		}
		var inc jpegEnd
		got, k := 0, 0
		for got == 0 && k < len(data) {
			k = min(len(data), k+1+int(step))
			got = inc.find(data[:k])
		}
		if got != want {
			t.Fatalf("in pieces of %d: end %d, whole: %d", int(step)+1, got, want)
		}
	})
}

// TestReadLimitedSmallJPEGInLargeFile: a small JPEG at the start of a large
// sized source costs a small buffer, not one of the source's size.
func TestReadLimitedSmallJPEGInLargeFile(t *testing.T) {
	img := readTestdata(t, "photo.jpg")
	file := append(slices.Clip(img), bytes.Repeat(trailer(), 8)...) // 32 MiB after EOI
	res := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			got, err := readLimited(sizedRead{onlyRead{bytes.NewReader(file)}, int64(len(file))}, 64<<20)
			if err != nil || len(got) != len(img) {
				b.Fatalf("readLimited: %d bytes, %v", len(got), err)
			}
		}
	})
	if a := res.AllocedBytesPerOp(); a > 2*firstBuf {
		t.Errorf("%d bytes allocated to read a %d-byte JPEG from a %d-byte source", a, len(img), len(file))
	}
}
