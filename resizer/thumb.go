package resizer

import "image"

// ThumbSize is the longest side of Source.Thumb.
const ThumbSize = 32

// thumbnail box-averages m (premultiplied RGBA, already oriented) down to
// at most size pixels on its longest side: enough for a BlurHash or a
// dominant colour, made from pixels the resizer decoded anyway.
func thumbnail(m *image.RGBA, size int) *image.RGBA {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	if w == 0 || h == 0 {
		return nil
	}
	tw, th := w, h
	if w >= h && w > size {
		tw, th = size, max(1, h*size/w)
	} else if h > w && h > size {
		tw, th = max(1, w*size/h), size
	}
	out := image.NewRGBA(image.Rect(0, 0, tw, th))
	for ty := range th {
		y0, y1 := ty*h/th, max((ty+1)*h/th, ty*h/th+1)
		for tx := range tw {
			x0, x1 := tx*w/tw, max((tx+1)*w/tw, tx*w/tw+1)
			var sum [4]uint64
			for y := y0; y < y1; y++ {
				row := m.Pix[(y)*m.Stride:]
				for x := x0; x < x1; x++ {
					p := row[4*x : 4*x+4]
					sum[0] += uint64(p[0])
					sum[1] += uint64(p[1])
					sum[2] += uint64(p[2])
					sum[3] += uint64(p[3])
				}
			}
			n := uint64((y1 - y0) * (x1 - x0))
			o := out.Pix[ty*out.Stride+4*tx:]
			for c := range 4 {
				o[c] = uint8(sum[c] / n)
			}
		}
	}
	return out
}

// smallest returns the intermediate with the fewest pixels.
func smallest(inters []*image.RGBA) *image.RGBA {
	var best *image.RGBA
	for _, m := range inters {
		if m != nil && (best == nil || m.Rect.Dx()*m.Rect.Dy() < best.Rect.Dx()*best.Rect.Dy()) {
			best = m
		}
	}
	return best
}
