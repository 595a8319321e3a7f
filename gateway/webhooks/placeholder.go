package webhooks

import (
	"fmt"
	"image"

	"github.com/buckket/go-blurhash"
)

// Placeholder is what a page shows while the image loads.
type Placeholder struct {
	BlurHash      string `json:"blurhash"`
	DominantColor string `json:"dominant_color"` // #rrggbb
}

// placeholder computes the BlurHash (4×3 components) and dominant colour
// of the resizer's thumbnail (nil when there is none).
func placeholder(thumb *image.RGBA) *Placeholder {
	if thumb == nil || thumb.Rect.Empty() {
		return nil
	}
	cx, cy := 4, 3
	if thumb.Rect.Dy() > thumb.Rect.Dx() {
		cx, cy = 3, 4
	}
	hash, err := blurhash.Encode(cx, cy, thumb)
	if err != nil {
		return nil
	}
	return &Placeholder{BlurHash: hash, DominantColor: dominant(thumb)}
}

// dominant is the mean colour of the most common 4-bit-per-channel bucket
// (ignoring transparent pixels): the colour most of the image has, not the
// muddy average of all of it.
func dominant(m *image.RGBA) string {
	type acc struct{ n, r, g, b int }
	var buckets [4096]acc
	best := -1
	for y := m.Rect.Min.Y; y < m.Rect.Max.Y; y++ {
		for x := m.Rect.Min.X; x < m.Rect.Max.X; x++ {
			p := m.Pix[m.PixOffset(x, y):]
			a := int(p[3])
			if a < 128 {
				continue
			}
			// Un-premultiply.
			r, g, b := int(p[0])*255/a, int(p[1])*255/a, int(p[2])*255/a
			i := (r>>4)<<8 | (g>>4)<<4 | b>>4
			bk := &buckets[i]
			bk.n++
			bk.r += r
			bk.g += g
			bk.b += b
			if best < 0 || bk.n > buckets[best].n {
				best = i
			}
		}
	}
	if best < 0 {
		return "#000000"
	}
	bk := buckets[best]
	return fmt.Sprintf("#%02x%02x%02x", bk.r/bk.n, bk.g/bk.n, bk.b/bk.n)
}
