// Package halfblock draws an image in a terminal with "▀" cells: the upper
// half of each cell is the foreground colour, the lower half the background,
// both as 24-bit colour, so one cell shows two pixels stacked.
package halfblock

import (
	"fmt"
	"image"
	"image/color"
	"strings"
)

// Fit returns the size in pixels (w, 2*rows) that img is scaled to so it
// fits in cols×rows cells keeping its aspect ratio; it never enlarges
// beyond 1 pixel per half-cell.
func Fit(img image.Rectangle, cols, rows int) (w, h int) {
	sw, sh := img.Dx(), img.Dy()
	if sw <= 0 || sh <= 0 || cols <= 0 || rows <= 0 {
		return 0, 0
	}
	maxW, maxH := cols, rows*2
	w, h = sw, sh
	if w > maxW || h > maxH {
		// scale = min(maxW/sw, maxH/sh)
		if sw*maxH > sh*maxW {
			w, h = maxW, max(1, sh*maxW/sw)
		} else {
			w, h = max(1, sw*maxH/sh), maxH
		}
	}
	return w, h
}

// Render draws img scaled (box filter) to fit cols×rows cells. Each line
// ends with a colour reset. Transparent pixels are blended on bg.
func Render(img image.Image, cols, rows int, bg color.Color) string {
	b := img.Bounds()
	w, h := Fit(b, cols, rows)
	if w == 0 {
		return ""
	}
	px := scale(img, w, h, bg)
	var sb strings.Builder
	for y := 0; y < h; y += 2 {
		for x := 0; x < w; x++ {
			top := px[y*w+x]
			if y+1 < h {
				bot := px[(y+1)*w+x]
				fmt.Fprintf(&sb, "\x1b[38;2;%d;%d;%dm\x1b[48;2;%d;%d;%dm▀", top.R, top.G, top.B, bot.R, bot.G, bot.B)
			} else {
				fmt.Fprintf(&sb, "\x1b[38;2;%d;%d;%dm\x1b[49m▀", top.R, top.G, top.B)
			}
		}
		sb.WriteString("\x1b[0m")
		if y+2 < h {
			sb.WriteByte('\n')
		}
	}
	return sb.String()
}

// scale box-filters img down to w×h opaque pixels.
func scale(img image.Image, w, h int, bg color.Color) []color.RGBA {
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	br, bgc, bb, _ := bg.RGBA()
	out := make([]color.RGBA, w*h)
	for y := 0; y < h; y++ {
		y0, y1 := b.Min.Y+y*sh/h, b.Min.Y+(y+1)*sh/h
		if y1 <= y0 {
			y1 = y0 + 1
		}
		for x := 0; x < w; x++ {
			x0, x1 := b.Min.X+x*sw/w, b.Min.X+(x+1)*sw/w
			if x1 <= x0 {
				x1 = x0 + 1
			}
			var r, g, bl, n uint64
			// Sample at most 4×4 points per box: enough for a preview.
			stepY, stepX := max(1, (y1-y0)/4), max(1, (x1-x0)/4)
			for yy := y0; yy < y1; yy += stepY {
				for xx := x0; xx < x1; xx += stepX {
					cr, cg, cb, ca := img.At(xx, yy).RGBA()
					// premultiplied: add background for the transparent part
					inv := 0xffff - ca
					r += uint64(cr + br*inv/0xffff)
					g += uint64(cg + bgc*inv/0xffff)
					bl += uint64(cb + bb*inv/0xffff)
					n++
				}
			}
			out[y*w+x] = color.RGBA{uint8(r / n >> 8), uint8(g / n >> 8), uint8(bl / n >> 8), 255}
		}
	}
	return out
}
