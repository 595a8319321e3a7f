package jpegenc

import (
	"image"
	"math"
)

// zigzag[i] is the natural (row-major) index of the i-th coefficient in
// zig-zag order.
var zigzag = [64]int{
	0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
}

// Base quantization tables of T.81 Annex K (natural order), the tables
// libjpeg scales by quality.
var baseLuma = [64]int{
	16, 11, 10, 16, 24, 40, 51, 61,
	12, 12, 14, 19, 26, 58, 60, 55,
	14, 13, 16, 24, 40, 57, 69, 56,
	14, 17, 22, 29, 51, 87, 80, 62,
	18, 22, 37, 56, 68, 109, 103, 77,
	24, 35, 55, 64, 81, 104, 113, 92,
	49, 64, 78, 87, 103, 121, 120, 101,
	72, 92, 95, 98, 112, 100, 103, 99,
}

var baseChroma = [64]int{
	17, 18, 24, 47, 99, 99, 99, 99,
	18, 21, 26, 66, 99, 99, 99, 99,
	24, 26, 56, 99, 99, 99, 99, 99,
	47, 66, 99, 99, 99, 99, 99, 99,
	99, 99, 99, 99, 99, 99, 99, 99,
	99, 99, 99, 99, 99, 99, 99, 99,
	99, 99, 99, 99, 99, 99, 99, 99,
	99, 99, 99, 99, 99, 99, 99, 99,
}

// scaleTable scales a base table by quality the way libjpeg does
// (jpeg_quality_scaling + jpeg_add_quant_table with force_baseline).
func scaleTable(base *[64]int, quality int) [64]uint8 {
	quality = min(max(quality, 1), 100)
	scale := 200 - 2*quality
	if quality < 50 {
		scale = 5000 / quality
	}
	var q [64]uint8
	for i, b := range base {
		q[i] = uint8(min(max((b*scale+50)/100, 1), 255))
	}
	return q
}

// component is one colour plane cut into quantized 8×8 blocks, each stored
// in zig-zag order. The block grid covers whole MCUs.
type component struct {
	id     uint8
	h, v   int // sampling factors
	tq     int // quantization table index
	bw, bh int // blocks across and down in the MCU-padded grid
	// nbw, nbh: the blocks a non-interleaved scan codes (T.81 A.2.2).
	nbw, nbh int
	blocks   [][64]int16
}

func (c *component) block(bx, by int) *[64]int16 { return &c.blocks[by*c.bw+bx] }

// cosTable[u][x] = C(u)/2 · cos((2x+1)uπ/16): the orthonormal 8-point DCT-II,
// which is exactly JPEG's forward DCT (T.81 A.3.3) when applied in 2-D.
var cosTable = func() (t [8][8]float64) {
	for u := range 8 {
		c := 0.5
		if u == 0 {
			c = 0.5 / math.Sqrt2
		}
		for x := range 8 {
			t[u][x] = c * math.Cos(float64(2*x+1)*float64(u)*math.Pi/16)
		}
	}
	return t
}()

// fdctQuantize transforms the level-shifted samples in px (natural order)
// and quantizes them into out (zig-zag order), rounding to nearest.
func fdctQuantize(px *[64]float32, q *[64]uint8, out *[64]int16) {
	var tmp [64]float64
	for y := range 8 {
		row := px[y*8 : y*8+8]
		for u := range 8 {
			c := &cosTable[u]
			var s float64
			for x := range 8 {
				s += c[x] * float64(row[x])
			}
			tmp[y*8+u] = s
		}
	}
	for u := range 8 {
		for v := range 8 {
			c := &cosTable[v]
			var s float64
			for y := range 8 {
				s += c[y] * tmp[y*8+u]
			}
			i := v*8 + u
			lim := 1023.0 // AC: category ≤ 10 in 8-bit JPEG
			if i == 0 {
				lim = 2047
			}
			out[unzig[i]] = int16(max(-lim, min(lim, math.Round(s/float64(q[i])))))
		}
	}
}

// unzig[natural] = zig-zag index.
var unzig = func() (t [64]int) {
	for z, n := range zigzag {
		t[n] = z
	}
	return t
}()

// plane is one full colour plane as float samples already shifted by −128.
type plane struct {
	w, h int
	pix  []float32
}

// at returns the sample at (x, y), replicating the edges for coordinates
// beyond the plane (the padding to whole blocks).
func (p *plane) at(x, y int) float32 {
	return p.pix[min(y, p.h-1)*p.w+min(x, p.w-1)]
}

// planesOf converts m to Y (and Cb, Cr unless gray) planes (JFIF, T.871).
func planesOf(m image.Image, gray bool) []*plane {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	n := 3
	if gray {
		n = 1
	}
	ps := make([]*plane, n)
	for i := range ps {
		ps[i] = &plane{w: w, h: h, pix: make([]float32, w*h)}
	}
	switch src := m.(type) {
	case *image.Gray:
		for y := range h {
			row := src.Pix[y*src.Stride:]
			for x := range w {
				v := float32(row[x]) - 128
				for _, p := range ps {
					p.pix[y*w+x] = v
				}
				if !gray {
					ps[1].pix[y*w+x], ps[2].pix[y*w+x] = 0, 0
				}
			}
		}
	case *image.RGBA:
		for y := range h {
			row := src.Pix[y*src.Stride:]
			for x := range w {
				setYCC(ps, y*w+x, row[4*x], row[4*x+1], row[4*x+2])
			}
		}
	default:
		for y := range h {
			for x := range w {
				r, g, bl, _ := m.At(b.Min.X+x, b.Min.Y+y).RGBA()
				setYCC(ps, y*w+x, uint8(r>>8), uint8(g>>8), uint8(bl>>8))
			}
		}
	}
	return ps
}

func setYCC(ps []*plane, i int, r8, g8, b8 uint8) {
	r, g, b := float32(r8), float32(g8), float32(b8)
	ps[0].pix[i] = 0.299*r + 0.587*g + 0.114*b - 128
	if len(ps) == 3 {
		ps[1].pix[i] = -0.168735892*r - 0.331264108*g + 0.5*b
		ps[2].pix[i] = 0.5*r - 0.418687589*g - 0.081312411*b
	}
}

// halve averages 2×2 boxes (edges replicated): 4:2:0 chroma.
func halve(p *plane) *plane {
	w, h := (p.w+1)/2, (p.h+1)/2
	o := &plane{w: w, h: h, pix: make([]float32, w*h)}
	for y := range h {
		for x := range w {
			o.pix[y*w+x] = (p.at(2*x, 2*y) + p.at(2*x+1, 2*y) + p.at(2*x, 2*y+1) + p.at(2*x+1, 2*y+1)) / 4
		}
	}
	return o
}

// fill cuts p into c's block grid and transforms every block that holds
// image samples. The MCU padding beyond them gets dummy blocks as libjpeg
// makes them (jccoefct.c): no AC, the DC of the last real block to the
// left, or in the bottom rows of the MCU above. They cost a few bits each
// where a transformed edge replica costs its vertical detail again.
func (c *component) fill(p *plane, q *[64]uint8) {
	c.nbw, c.nbh = (p.w+7)/8, (p.h+7)/8
	c.blocks = make([][64]int16, c.bw*c.bh)
	var px [64]float32
	for by := range c.nbh {
		for bx := range c.nbw {
			for y := range 8 {
				for x := range 8 {
					px[y*8+x] = p.at(bx*8+x, by*8+y)
				}
			}
			fdctQuantize(&px, q, c.block(bx, by))
		}
		for bx := c.nbw; bx < c.bw; bx++ {
			c.block(bx, by)[0] = c.block(c.nbw-1, by)[0]
		}
	}
	for by := c.nbh; by < c.bh; by++ {
		for bx := range c.bw {
			mcuLast := (bx/c.h)*c.h + c.h - 1
			c.block(bx, by)[0] = c.block(mcuLast, by-1)[0]
		}
	}
}
