package resizer

import (
	"bytes"
	"image"
	"slices"
	"strings"
	"testing"

	"github.com/gen2brain/avif"
	"github.com/gen2brain/webp"
)

func TestConfigFormats(t *testing.T) {
	cases := []struct {
		cfg  string
		want [][]string // formats per preset
		err  string
	}{
		{`{"sizes":["50x50","150x"],"formats":["AVIF","webp","avif"]}`, [][]string{{"avif", "webp"}, {"avif", "webp"}}, ""},
		{`{"sizes":["50x50"],"presets":[{"geometry":"150x","formats":["webp"]},{"geometry":"x150"}],"formats":["avif"]}`,
			[][]string{{"avif"}, {"webp"}, {"avif"}}, ""},
		{`{"sizes":["50x50"]}`, [][]string{nil}, ""},
		{`{"sizes":["50x50"],"formats":["heic"]}`, nil, `"heic": want avif or webp`},
		{`{"presets":[{"name":"thumb.webp","geometry":"50x50"}]}`, nil, "reserved for sibling directories"},
	}
	for _, c := range cases {
		ps, err := ParseConfig([]byte(c.cfg))
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: err %v, want %q", c.cfg, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.cfg, err)
		}
		for i, p := range ps {
			if !slices.Equal(p.Formats, c.want[i]) {
				t.Errorf("%s: preset %s formats %v, want %v", c.cfg, p.Name, p.Formats, c.want[i])
			}
		}
	}
}

func TestEncodeSiblingDecodes(t *testing.T) {
	m := image.NewRGBA(image.Rect(0, 0, 320, 200))
	for i := range m.Pix {
		m.Pix[i] = uint8(i * 7)
	}
	src, err := Encode(m, "jpeg", Preset{Geometry: "1x1"})
	if err != nil {
		t.Fatal(err)
	}
	r := New(Options{})
	p := Preset{Geometry: "150x", Formats: []string{"avif", "webp"}}.Normalize()
	_, vs := resizeBytes(t, r, src, p)
	if vs[0].Pixels == nil {
		t.Fatal("no pixels kept for siblings")
	}
	for _, f := range []string{"webp", "avif"} {
		sib, err := EncodeSibling(vs[0], f, p)
		if err != nil {
			t.Fatal(err)
		}
		var d image.Image
		if f == "webp" {
			d, err = webp.Decode(bytes.NewReader(sib.Data))
		} else {
			d, err = avif.Decode(bytes.NewReader(sib.Data))
		}
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if d.Bounds().Dx() != 150 || d.Bounds().Dy() != 94 || sib.ContentType != "image/"+f {
			t.Errorf("%s: %v %s", f, d.Bounds(), sib.ContentType)
		}
	}
	// Without formats no pixels are kept.
	_, vs = resizeBytes(t, r, src, Preset{Geometry: "150x"}.Normalize())
	if vs[0].Pixels != nil {
		t.Error("pixels kept without formats")
	}
}
