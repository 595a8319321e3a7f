package resizer

import "image"

// orient returns src turned the way up EXIF orientation o says (1–8); for 1
// (and invalid values) it returns src itself.
//
//	2 mirror left-right     3 rotate 180         4 mirror top-bottom
//	5 transpose             6 rotate 90° CW      7 transverse
//	8 rotate 90° CCW
func orient(src *image.RGBA, o int) *image.RGBA {
	if o < 2 || o > 8 {
		return src
	}
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	dw, dh := sw, sh
	if o >= 5 {
		dw, dh = sh, sw
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	// For each destination pixel, the source pixel it comes from.
	var at func(x, y int) (int, int)
	switch o {
	case 2:
		at = func(x, y int) (int, int) { return sw - 1 - x, y }
	case 3:
		at = func(x, y int) (int, int) { return sw - 1 - x, sh - 1 - y }
	case 4:
		at = func(x, y int) (int, int) { return x, sh - 1 - y }
	case 5:
		at = func(x, y int) (int, int) { return y, x }
	case 6:
		at = func(x, y int) (int, int) { return y, sh - 1 - x }
	case 7:
		at = func(x, y int) (int, int) { return sw - 1 - y, sh - 1 - x }
	case 8:
		at = func(x, y int) (int, int) { return sw - 1 - y, x }
	}
	for y := range dh {
		drow := dst.Pix[y*dst.Stride : y*dst.Stride+4*dw]
		for x := range dw {
			sx, sy := at(x, y)
			i := sy*src.Stride + 4*sx
			copy(drow[4*x:4*x+4], src.Pix[i:i+4])
		}
	}
	return dst
}

// orientedSize is the size after orientation o.
func orientedSize(w, h, o int) (int, int) {
	if o >= 5 && o <= 8 {
		return h, w
	}
	return w, h
}
