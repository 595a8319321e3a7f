package webhooks

import (
	"image"
	"image/color"
	"testing"

	"github.com/buckket/go-blurhash"
)

func TestPlaceholder(t *testing.T) {
	m := image.NewRGBA(image.Rect(0, 0, 32, 24))
	for y := range 24 {
		for x := range 32 {
			c := color.RGBA{200, 30, 40, 255} // mostly red
			if x < 8 {
				c = color.RGBA{10, 10, 200, 255} // a blue quarter
			}
			m.SetRGBA(x, y, c)
		}
	}
	p := placeholder(m)
	if p == nil || p.DominantColor != "#c81e28" {
		t.Fatalf("placeholder %+v, want dominant #c81e28", p)
	}
	if cx, cy, err := blurhash.Components(p.BlurHash); err != nil || cx != 4 || cy != 3 {
		t.Fatalf("blurhash %q: %d×%d %v", p.BlurHash, cx, cy, err)
	}
	if placeholder(nil) != nil {
		t.Fatal("placeholder of no thumbnail")
	}
	// Transparent pixels do not count.
	clear := image.NewRGBA(image.Rect(0, 0, 4, 4))
	clear.SetRGBA(0, 0, color.RGBA{0, 128, 0, 255})
	if d := dominant(clear); d != "#008000" {
		t.Fatalf("dominant with transparency: %s", d)
	}
}
