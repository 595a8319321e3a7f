package resizer

import (
	"image"
	"image/color"
)

// boxReduce averages k×k blocks of src into a new premultiplied RGBA image of
// ceil(W/k)×ceil(H/k) (edge blocks average the pixels they have). With k=1 it
// is a fast conversion to RGBA. It reads the decoder's own planes (YCbCr,
// Gray, CMYK, NRGBA, RGBA, Paletted, 16-bit) without converting the whole
// image first; other types go through the generic color.Color path.
func boxReduce(src image.Image, k int) *image.RGBA { return boxReduceGrid(src, grid{k: k}) }

// grid is a box reduction: factor k, with the block grid starting offX and
// offY pixels before the image (0 ≤ off < k), so that the partial blocks
// are split between both edges.
type grid struct{ k, offX, offY int }

// size is the reduced size of a w×h image.
func (g grid) size(w, h int) (int, int) {
	return (w + g.offX + g.k - 1) / g.k, (h + g.offY + g.k - 1) / g.k
}

// boxReduceGrid is boxReduce on a grid with offsets.
func boxReduceGrid(src image.Image, g grid) *image.RGBA {
	if g.k < 1 {
		g = grid{k: 1}
	}
	b := src.Bounds()
	ow, oh := g.size(b.Dx(), b.Dy())
	dst := image.NewRGBA(image.Rect(0, 0, ow, oh))
	switch s := src.(type) {
	case *image.YCbCr:
		if s.Rect.Min == (image.Point{}) {
			reduceYCbCr(dst, s, g)
		} else {
			reduceRGBA(dst, src, g)
		}
	case *image.Gray:
		reduceGray(dst, s, g)
	default:
		reduceRGBA(dst, src, g)
	}
	return dst
}

// blockRange returns the source range [lo, hi) of output index i.
func blockRange(i, k, off, n int) (lo, hi int) {
	return max(0, i*k-off), min(n, (i+1)*k-off)
}

func reduceYCbCr(dst *image.RGBA, s *image.YCbCr, g grid) {
	k := g.k
	b := s.Rect
	w, h := b.Dx(), b.Dy()
	var hsh, vsh uint
	switch s.SubsampleRatio {
	case image.YCbCrSubsampleRatio422:
		hsh = 1
	case image.YCbCrSubsampleRatio420:
		hsh, vsh = 1, 1
	case image.YCbCrSubsampleRatio440:
		vsh = 1
	case image.YCbCrSubsampleRatio411:
		hsh = 2
	case image.YCbCrSubsampleRatio410:
		hsh, vsh = 2, 1
	}
	ow := dst.Rect.Dx()
	sy := make([]uint32, ow)
	scb := make([]uint32, ow)
	scr := make([]uint32, ow)
	// Chroma column of each luma column, relative to the row start.
	cx0 := b.Min.X >> hsh
	for oy := 0; oy < dst.Rect.Dy(); oy++ {
		y0, y1 := blockRange(oy, k, g.offY, h)
		clear(sy)
		clear(scb)
		clear(scr)
		for y := y0; y < y1; y++ {
			yrow := s.Y[(y)*s.YStride:]
			cy := ((b.Min.Y + y) >> vsh) - (b.Min.Y >> vsh)
			cbrow := s.Cb[cy*s.CStride:]
			crrow := s.Cr[cy*s.CStride:]
			for ox := range ow {
				x0, x1 := blockRange(ox, k, g.offX, w)
				var ay, ab, ar uint32
				for x := x0; x < x1; x++ {
					ay += uint32(yrow[x])
					c := ((b.Min.X + x) >> hsh) - cx0
					ab += uint32(cbrow[c])
					ar += uint32(crrow[c])
				}
				sy[ox] += ay
				scb[ox] += ab
				scr[ox] += ar
			}
		}
		drow := dst.Pix[oy*dst.Stride:]
		for ox := range ow {
			x0, x1 := blockRange(ox, k, g.offX, w)
			n := uint32((x1 - x0) * (y1 - y0))
			r, g, bb := color.YCbCrToRGB(uint8((sy[ox]+n/2)/n), uint8((scb[ox]+n/2)/n), uint8((scr[ox]+n/2)/n))
			d := drow[4*ox : 4*ox+4 : 4*ox+4]
			d[0], d[1], d[2], d[3] = r, g, bb, 255
		}
	}
}

func reduceGray(dst *image.RGBA, s *image.Gray, g grid) {
	k := g.k
	w, h := s.Rect.Dx(), s.Rect.Dy()
	ow := dst.Rect.Dx()
	acc := make([]uint32, ow)
	for oy := 0; oy < dst.Rect.Dy(); oy++ {
		y0, y1 := blockRange(oy, k, g.offY, h)
		clear(acc)
		for y := y0; y < y1; y++ {
			row := s.Pix[y*s.Stride:]
			for ox := range ow {
				x0, x1 := blockRange(ox, k, g.offX, w)
				var a uint32
				for _, v := range row[x0:x1] {
					a += uint32(v)
				}
				acc[ox] += a
			}
		}
		drow := dst.Pix[oy*dst.Stride:]
		for ox := range ow {
			x0, x1 := blockRange(ox, k, g.offX, w)
			n := uint32((x1 - x0) * (y1 - y0))
			v := uint8((acc[ox] + n/2) / n)
			d := drow[4*ox : 4*ox+4 : 4*ox+4]
			d[0], d[1], d[2], d[3] = v, v, v, 255
		}
	}
}

// rowReader converts one source row to premultiplied 8-bit RGBA.
type rowReader func(y int, out []uint8)

func rowReaderFor(src image.Image) rowReader {
	b := src.Bounds()
	w := b.Dx()
	switch s := src.(type) {
	case *image.RGBA:
		return func(y int, out []uint8) { copy(out, s.Pix[y*s.Stride:y*s.Stride+4*w]) }
	case *image.NRGBA:
		return func(y int, out []uint8) {
			row := s.Pix[y*s.Stride : y*s.Stride+4*w]
			for i := 0; i < len(row); i += 4 {
				a := uint32(row[i+3])
				o := out[i : i+4 : i+4]
				switch a {
				case 255:
					o[0], o[1], o[2], o[3] = row[i], row[i+1], row[i+2], 255
				case 0:
					o[0], o[1], o[2], o[3] = 0, 0, 0, 0
				default:
					o[0] = uint8((uint32(row[i])*a + 127) / 255)
					o[1] = uint8((uint32(row[i+1])*a + 127) / 255)
					o[2] = uint8((uint32(row[i+2])*a + 127) / 255)
					o[3] = uint8(a)
				}
			}
		}
	case *image.CMYK:
		return func(y int, out []uint8) {
			row := s.Pix[y*s.Stride : y*s.Stride+4*w]
			for i := 0; i < len(row); i += 4 {
				r, g, bb := color.CMYKToRGB(row[i], row[i+1], row[i+2], row[i+3])
				out[i], out[i+1], out[i+2], out[i+3] = r, g, bb, 255
			}
		}
	case *image.Paletted:
		var pal [256][4]uint8
		for i, c := range s.Palette {
			if i >= 256 {
				break
			}
			r, g, bb, a := c.RGBA()
			pal[i] = [4]uint8{uint8(r >> 8), uint8(g >> 8), uint8(bb >> 8), uint8(a >> 8)}
		}
		return func(y int, out []uint8) {
			row := s.Pix[y*s.Stride : y*s.Stride+w]
			for i, v := range row {
				p := pal[v]
				copy(out[4*i:4*i+4], p[:])
			}
		}
	case *image.Gray16:
		return func(y int, out []uint8) {
			row := s.Pix[y*s.Stride : y*s.Stride+2*w]
			for i := range w {
				v := to8(uint32(row[2*i])<<8 | uint32(row[2*i+1]))
				out[4*i], out[4*i+1], out[4*i+2], out[4*i+3] = v, v, v, 255
			}
		}
	case *image.NRGBA64:
		return func(y int, out []uint8) {
			row := s.Pix[y*s.Stride : y*s.Stride+8*w]
			for i := range w {
				p := row[8*i : 8*i+8 : 8*i+8]
				r := uint32(p[0])<<8 | uint32(p[1])
				g := uint32(p[2])<<8 | uint32(p[3])
				bb := uint32(p[4])<<8 | uint32(p[5])
				a := uint32(p[6])<<8 | uint32(p[7])
				// premultiply in 16 bits, then round to 8 bits
				r, g, bb = r*a/0xffff, g*a/0xffff, bb*a/0xffff
				out[4*i], out[4*i+1], out[4*i+2], out[4*i+3] = to8(r), to8(g), to8(bb), to8(a)
			}
		}
	case *image.RGBA64:
		return func(y int, out []uint8) {
			row := s.Pix[y*s.Stride : y*s.Stride+8*w]
			for i := range w {
				p := row[8*i : 8*i+8 : 8*i+8]
				out[4*i] = to8(uint32(p[0])<<8 | uint32(p[1]))
				out[4*i+1] = to8(uint32(p[2])<<8 | uint32(p[3]))
				out[4*i+2] = to8(uint32(p[4])<<8 | uint32(p[5]))
				out[4*i+3] = to8(uint32(p[6])<<8 | uint32(p[7]))
			}
		}
	}
	return func(y int, out []uint8) {
		for x := range w {
			r, g, bb, a := src.At(b.Min.X+x, b.Min.Y+y).RGBA()
			out[4*x], out[4*x+1], out[4*x+2], out[4*x+3] = to8(r), to8(g), to8(bb), to8(a)
		}
	}
}

// to8 rounds a 16-bit channel to 8 bits.
func to8(v uint32) uint8 { return uint8((v*255 + 32767) / 65535) }

func reduceRGBA(dst *image.RGBA, src image.Image, g grid) {
	k := g.k
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	read := rowReaderFor(src)
	ow := dst.Rect.Dx()
	if k == 1 {
		for y := range h {
			read(y, dst.Pix[y*dst.Stride:y*dst.Stride+4*w])
		}
		return
	}
	row := make([]uint8, 4*w)
	acc := make([]uint32, 4*ow)
	for oy := 0; oy < dst.Rect.Dy(); oy++ {
		y0, y1 := blockRange(oy, k, g.offY, h)
		clear(acc)
		for y := y0; y < y1; y++ {
			read(y, row)
			for ox := range ow {
				x0, x1 := blockRange(ox, k, g.offX, w)
				var r, g, bb, a uint32
				for x := x0; x < x1; x++ {
					p := row[4*x : 4*x+4 : 4*x+4]
					r += uint32(p[0])
					g += uint32(p[1])
					bb += uint32(p[2])
					a += uint32(p[3])
				}
				q := acc[4*ox : 4*ox+4 : 4*ox+4]
				q[0] += r
				q[1] += g
				q[2] += bb
				q[3] += a
			}
		}
		drow := dst.Pix[oy*dst.Stride:]
		for ox := range ow {
			x0, x1 := blockRange(ox, k, g.offX, w)
			n := uint32((x1 - x0) * (y1 - y0))
			q := acc[4*ox : 4*ox+4 : 4*ox+4]
			d := drow[4*ox : 4*ox+4 : 4*ox+4]
			d[0], d[1], d[2], d[3] = uint8((q[0]+n/2)/n), uint8((q[1]+n/2)/n), uint8((q[2]+n/2)/n), uint8((q[3]+n/2)/n)
		}
	}
}
