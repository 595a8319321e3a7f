package resizer

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// mkbox writes an ISOBMFF box.
func mkbox(typ string, parts ...[]byte) []byte {
	body := bytes.Join(parts, nil)
	b := binary.BigEndian.AppendUint32(nil, uint32(8+len(body)))
	return append(append(b, typ...), body...)
}

func u32(vs ...uint32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return b
}

// heifWith builds a HEIF/AVIF header whose primary item 1 has the given
// property boxes (no image data).
func heifWith(brand string, props ...[]byte) []byte {
	assoc := []byte{0, 0, 0, 0} // ipma v0 flags 0
	assoc = append(assoc, u32(1)...)
	assoc = append(assoc, 0, 1, byte(len(props)))
	for i := range props {
		assoc = append(assoc, byte(0x80|(i+1)))
	}
	meta := mkbox("meta", []byte{0, 0, 0, 0},
		mkbox("hdlr", make([]byte, 8), []byte("pict"), make([]byte, 13)),
		mkbox("pitm", []byte{0, 0, 0, 0, 0, 1}),
		mkbox("iloc", []byte{0, 0, 0, 0, 0x44, 0, 0, 0}),
		mkbox("iprp", mkbox("ipco", props...), mkbox("ipma", assoc)))
	return append(mkbox("ftyp", []byte(brand), u32(0), []byte("mif1"+brand)), meta...)
}

func ispe(w, h uint32) []byte { return mkbox("ispe", u32(0, w, h)) }

// webpWith builds a RIFF WebP from chunks.
func webpWith(chunks ...[]byte) []byte {
	body := append([]byte("WEBP"), bytes.Join(chunks, nil)...)
	return append(append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...), body...)
}

func chunk(id string, d []byte) []byte {
	b := append([]byte(id), binary.LittleEndian.AppendUint32(nil, uint32(len(d)))...)
	b = append(b, d...)
	if len(d)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

func vp8x(flags byte, w, h int) []byte {
	d := []byte{flags, 0, 0, 0}
	d = append(d, byte(w-1), byte((w-1)>>8), byte((w-1)>>16), byte(h-1), byte((h-1)>>8), byte((h-1)>>16))
	return chunk("VP8X", d)
}

// TestHostileNewFormats: bombs, frame floods, broken boxes and truncations
// of WebP, HEIF and AVIF are refused from the header with the right kind,
// before any decoder (or WebAssembly instance) runs.
func TestHostileNewFormats(t *testing.T) {
	anmf := chunk("ANMF", make([]byte, 16))
	var flood [][]byte
	flood = append(flood, vp8x(0x02, 10, 10), chunk("ANIM", make([]byte, 6)))
	for range 5000 {
		flood = append(flood, anmf)
	}
	many := heifWith("avif", ispe(64, 64))
	var free []byte
	for range maxBoxes + 1 {
		free = append(free, mkbox("free")...)
	}
	cases := []struct {
		name string
		data []byte
		kind Kind
	}{
		{"webp canvas bomb", webpWith(vp8x(0, 1<<24, 1<<24)), KindTooLarge},
		{"webp 16k×16k lossy header", webpWith(chunk("VP8 ", []byte{0, 0, 0, 0x9d, 1, 0x2a, 0xff, 0x3f, 0xff, 0x3f})), KindTooLarge},
		{"webp frame flood", webpWith(flood...), KindTooLarge},
		{"webp animated canvas × frames", webpWith(append([][]byte{vp8x(0x02, 4000, 4000)}, anmf, anmf, anmf, anmf)...), KindTooLarge},
		{"webp animation without frames", webpWith(vp8x(0x02, 10, 10)), KindCorrupt},
		{"webp chunk past the end", webpWith(chunk("VP8 ", []byte{1, 2}))[:20], KindCorrupt},
		{"webp bad VP8 start code", webpWith(chunk("VP8 ", make([]byte, 10))), KindCorrupt},
		{"webp bad VP8L signature", webpWith(chunk("VP8L", make([]byte, 5))), KindCorrupt},
		{"avif ispe bomb", heifWith("avif", ispe(60000, 60000)), KindTooLarge},
		{"heic ispe bomb", heifWith("heic", ispe(60000, 60000)), KindTooLarge},
		{"avif over the AVIF limit", heifWith("avif", ispe(8000, 6000)), KindTooLarge},
		{"avif no ispe", heifWith("avif", mkbox("irot", []byte{1})), KindCorrupt},
		{"avif no meta", mkbox("ftyp", []byte("avif"), u32(0)), KindCorrupt},
		{"avif meta past the end", many[:len(many)-10], KindCorrupt},
		{"avif box flood", append(mkbox("ftyp", []byte("avif"), u32(0)), mkbox("meta", []byte{0, 0, 0, 0}, free)...), KindCorrupt},
		{"avif box size below its header", append(mkbox("ftyp", []byte("avif"), u32(0)), 0, 0, 0, 4, 'm', 'e', 't', 'a'), KindCorrupt},
		{"avif property index out of range", bytes.Replace(many, []byte{0, 1, 1, 0x81}, []byte{0, 1, 1, 0x85}, 1), KindCorrupt},
		{"avif header only, no image data", many, KindCorrupt},
		{"heic header only, no image data", heifWith("heic", ispe(128, 64)), KindCorrupt},
		{"heic narrower than the decoder handles", heifWith("heic", ispe(96, 64)), KindUnsupported},
	}
	rz := New(Options{})
	for _, tc := range cases {
		_, _, err := rz.Resize(context.Background(), bytes.NewReader(tc.data), DefaultPresets())
		if KindOf(err) != tc.kind {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.kind)
		}
	}
}

// TestTruncatedSamples: every WebP/HEIC/AVIF sample cut at 10%, 50% and
// 90% is refused as corrupt (never decoded into garbage variants).
func TestTruncatedSamples(t *testing.T) {
	rz := New(Options{})
	for _, f := range mainSamples(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, pct := range []int{10, 50, 90} {
			_, _, err := rz.Resize(context.Background(), bytes.NewReader(b[:len(b)*pct/100]), DefaultPresets())
			if KindOf(err) != KindCorrupt {
				t.Errorf("%s cut at %d%%: %v, want corrupt", filepath.Base(f), pct, err)
			}
		}
	}
}

func TestHEIFOrientationMatrix(t *testing.T) {
	for _, tc := range []struct {
		props []byte
		want  int
	}{
		{nil, 1},
		{mkbox("irot", []byte{1}), 8},
		{mkbox("irot", []byte{2}), 3},
		{mkbox("irot", []byte{3}), 6},
		{mkbox("imir", []byte{1}), 2},
		{mkbox("imir", []byte{0}), 4},
		{append(mkbox("irot", []byte{1}), mkbox("imir", []byte{0})...), 5},
		{append(mkbox("irot", []byte{1}), mkbox("imir", []byte{1})...), 7},
	} {
		props := [][]byte{ispe(40, 30)}
		bs, err := boxes(tc.props, new(int))
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bs {
			props = append(props, mkbox(b.typ, b.data))
		}
		h, err := heifHeader("avif", heifWith("avif", props...))
		if err != nil || h.orientation != tc.want || h.width != 40 || h.height != 30 {
			t.Errorf("%x: orientation %d %dx%d %v, want %d", tc.props, h.orientation, h.width, h.height, err, tc.want)
		}
		// HEIF: libheif applies the transform; the header has the result.
		h, err = heifHeader("heif", heifWith("heic", props...))
		if err != nil || h.orientation != 1 || (tc.want >= 5) != (h.width == 30) {
			t.Errorf("heif %x: orientation %d %dx%d %v", tc.props, h.orientation, h.width, h.height, err)
		}
	}
}

func fuzzDecoder(f *testing.F, exts []string, synthetic ...[]byte) {
	for _, s := range synthetic {
		f.Add(s)
	}
	if dir := os.Getenv("IMGATE_SAMPLES"); dir != "" {
		for _, x := range exts {
			fs, _ := filepath.Glob(filepath.Join(dir, "*"+x))
			for _, p := range fs {
				if b, err := os.ReadFile(p); err == nil && len(b) < 20000 {
					f.Add(b)
				}
			}
		}
	}
	rz := New(Options{Limits: Limits{MaxPixels: 1 << 16, MaxBytes: 1 << 20, MaxFrames: 30}, MaxInFlightBytes: 256 << 20})
	presets := []Preset{{Geometry: "50x50"}, {Geometry: "x30", Format: "png"}}
	f.Fuzz(func(t *testing.T, b []byte) {
		src, vs, err := rz.Resize(context.Background(), bytes.NewReader(b), presets)
		if err != nil {
			if !IsPermanent(err) {
				t.Fatalf("non-permanent error from in-memory input: %v", err)
			}
			return
		}
		if len(vs) != len(presets) || int64(src.Width)*int64(src.Height) > 1<<16 {
			t.Fatalf("%d variants of a %dx%d source", len(vs), src.Width, src.Height)
		}
	})
}

// FuzzWebP, FuzzHEIF, FuzzAVIF: hostile bytes through the header parser and
// the decoder give a typed error or valid variants, never a panic. Seeds:
// synthetic headers, plus the small samples when IMGATE_SAMPLES names a
// scripts/make-samples.sh output.
func FuzzWebP(f *testing.F) {
	fuzzDecoder(f, []string{".webp"}, webpWith(vp8x(0x10, 8, 8)), webpWith(chunk("VP8L", []byte{0x2f, 7, 0xc0, 1, 0})),
		webpWith(vp8x(0x02, 8, 8), chunk("ANIM", make([]byte, 6)), chunk("ANMF", make([]byte, 16))))
}

func FuzzHEIF(f *testing.F) {
	fuzzDecoder(f, []string{".heic"}, heifWith("heic", ispe(128, 16), mkbox("irot", []byte{1})))
}

func FuzzAVIF(f *testing.F) {
	fuzzDecoder(f, []string{".avif"}, heifWith("avif", ispe(16, 16), mkbox("imir", []byte{1}), mkbox("colr", []byte("nclx"), []byte{0, 9, 0, 16, 0, 9, 0x80})))
}
