package resizer

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	wasmwebp "github.com/gen2brain/webp"

	"github.com/imgate/imgate/internal/testenv"
)

// animatedGIF is a 120x80 GIF of three frames (red, green, blue with a
// transparent right half) with delays 8, 12 and 0 (1/100 s), looping twice
// after the first play.
func animatedGIF(t *testing.T) []byte {
	t.Helper()
	pal := color.Palette{color.RGBA{}, color.RGBA{255, 0, 0, 255}, color.RGBA{0, 255, 0, 255}, color.RGBA{0, 0, 255, 255}}
	g := &gif.GIF{Delay: []int{8, 12, 0}, LoopCount: 2}
	for i := range 3 {
		m := image.NewPaletted(image.Rect(0, 0, 120, 80), pal)
		for y := range 80 {
			for x := range 120 {
				if i == 2 && x >= 60 {
					continue // index 0: transparent
				}
				m.SetColorIndex(x, y, uint8(i+1))
			}
		}
		g.Image = append(g.Image, m)
		g.Disposal = append(g.Disposal, gif.DisposalBackground)
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestAnimatedWebPSibling: an animated original gets an animated WebP
// sibling with every frame, the delays and the loop count, and no AVIF one
// (nor a still of its first frame).
func TestAnimatedWebPSibling(t *testing.T) {
	p := Preset{Geometry: "60x", Formats: []string{"avif", "webp"}}.Normalize()
	_, vs := resizeBytes(t, New(Options{}), animatedGIF(t), p)
	v := vs[0]
	if !v.Animated || v.Anim == nil || len(v.Anim.Frames) != 3 || v.Pixels != nil {
		t.Fatalf("variant: animated %v, anim %v, pixels kept %v", v.Animated, v.Anim != nil, v.Pixels != nil)
	}
	if v.SiblingPossible("avif") || !v.SiblingPossible("webp") {
		t.Error("an animation may have a WebP sibling and no AVIF one")
	}
	if _, err := EncodeSibling(v, "avif", p); err == nil {
		t.Error("AVIF sibling of an animation encoded")
	}
	sib, err := EncodeSibling(v, "webp", p)
	if err != nil {
		t.Fatal(err)
	}
	if sib.ContentType != "image/webp" || sib.Width != 60 || sib.Height != 40 {
		t.Fatalf("sibling %s %dx%d", sib.ContentType, sib.Width, sib.Height)
	}
	// imgate's own header reader: frames, delays in ms, ANIM loop (3 plays).
	h, err := webpHeader(sib.Data)
	if err != nil {
		t.Fatal(err)
	}
	if h.frames != 3 || !slices.Equal(h.delays, []int{80, 120, 100}) || h.loop != 3 || h.width != 60 || h.height != 40 {
		t.Errorf("header: %d frames, delays %v, loop %d, %dx%d", h.frames, h.delays, h.loop, h.width, h.height)
	}
	// libwebp's animation decoder: the frames' colours, transparency kept.
	a, err := wasmwebp.DecodeAll(bytes.NewReader(sib.Data))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Image) != 3 {
		t.Fatalf("libwebp decodes %d frames", len(a.Image))
	}
	for i, want := range []color.RGBA{{255, 0, 0, 255}, {0, 255, 0, 255}, {0, 0, 255, 255}} {
		r, g, b, al := a.Image[i].At(10, 20).RGBA()
		got := color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(al >> 8)}
		if d := max(absDiff(got.R, want.R), absDiff(got.G, want.G), absDiff(got.B, want.B)); d > 24 || got.A != 255 {
			t.Errorf("frame %d at (10,20) = %v, want about %v", i, got, want)
		}
	}
	if _, _, _, al := a.Image[2].At(55, 20).RGBA(); al != 0 {
		t.Errorf("frame 2's transparent half has alpha %d", al>>8)
	}
}

func absDiff(a, b uint8) uint8 {
	if a > b {
		return a - b
	}
	return b - a
}

// TestAnimatedWebPSiblingWebpmux: libwebp's own container tool reads the
// file imgate writes (webpmux from Debian's webp package).
func TestAnimatedWebPSiblingWebpmux(t *testing.T) {
	webpmux := testenv.Tool(t, "webpmux")
	p := Preset{Geometry: "60x", Formats: []string{"webp"}}.Normalize()
	_, vs := resizeBytes(t, New(Options{}), animatedGIF(t), p)
	sib, err := EncodeSibling(vs[0], "webp", p)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "anim.webp")
	if err := os.WriteFile(f, sib.Data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(webpmux, "-info", f).CombinedOutput()
	if err != nil {
		t.Fatalf("webpmux -info: %v\n%s", err, out)
	}
	info := string(out)
	for _, want := range []string{"Canvas size: 60 x 40", "Features present: animation transparency", "Loop Count : 3", "Number of frames: 3"} {
		if !strings.Contains(info, want) {
			t.Errorf("webpmux -info lacks %q:\n%s", want, info)
		}
	}
}

func TestWebPLoopAndDuration(t *testing.T) {
	for gifLoop, want := range map[int]uint16{0: 0, -1: 1, 1: 2, 65535: 65535} {
		if got := webpLoop(gifLoop); got != want {
			t.Errorf("webpLoop(%d) = %d, want %d", gifLoop, got, want)
		}
	}
	for delay, want := range map[int]int{0: 100, -3: 100, 1: 10, 12: 120} {
		if got := webpDuration(delay); got != want {
			t.Errorf("webpDuration(%d) = %d, want %d", delay, got, want)
		}
	}
}
