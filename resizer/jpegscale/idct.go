package jpegscale

import "math"

// The full-size inverse DCT is the separable Arai–Agui–Nakajima
// factorisation (5 multiplications per 1-D 8-point transform): its output
// scale factors are folded into the dequantization table. The reduced
// transforms evaluate an N-point inverse DCT (N = 4 or 2) on the top-left
// N×N coefficients, scaled by sqrt(N/8) per dimension so that each output
// sample is the mean of the (8/N)×(8/N) pixels it replaces.

var (
	aanScale [8]float64    // cos(kπ/16)·√2, 1 for k = 0
	idct4M   [4][4]float32 // [x][u]
	idct2M   [2][2]float32
)

func init() {
	aanScale[0] = 1
	for k := 1; k < 8; k++ {
		aanScale[k] = math.Cos(float64(k)*math.Pi/16) * math.Sqrt2
	}
	fill := func(n int, set func(x, u int, v float32)) {
		for x := 0; x < n; x++ {
			for u := 0; u < n; u++ {
				a := math.Sqrt(2 / float64(n))
				if u == 0 {
					a = math.Sqrt(1 / float64(n))
				}
				v := math.Sqrt(float64(n)/8) * a * math.Cos(float64((2*x+1)*u)*math.Pi/float64(2*n))
				set(x, u, float32(v))
			}
		}
	}
	fill(4, func(x, u int, v float32) { idct4M[x][u] = v })
	fill(2, func(x, u int, v float32) { idct2M[x][u] = v })
}

// dequantTable returns quantization table tq as float multipliers in
// zig-zag order, prescaled for the transform used at the decoder's scale.
func (d *decoder) dequantTable(tq uint8) *[64]float32 {
	t := new([64]float32)
	for k := 0; k < 64; k++ {
		q := float64(d.qt[tq][k])
		z := zigzag[k]
		switch d.denom {
		case 1:
			q *= aanScale[z/8] * aanScale[z%8] / 8
		case 8:
			q /= 8
		}
		t[k] = float32(q)
	}
	return t
}

func clamp(x float32) byte {
	v := int32(x + 0.5)
	if uint32(v) > 255 {
		if v < 0 {
			return 0
		}
		return 255
	}
	return byte(v)
}

// idct8 is the full 8×8 inverse DCT of an AAN-prescaled block.
func idct8(blk, tmp *[64]float32, dst []byte, stride int) {
	const (
		r2    = 1.414213562
		c2p6  = 1.847759065
		c2m6  = 1.082392200
		c2p6b = 2.613125930
	)
	// columns
	for c := 0; c < 8; c++ {
		i0, i1, i2, i3 := blk[c], blk[8+c], blk[16+c], blk[24+c]
		i4, i5, i6, i7 := blk[32+c], blk[40+c], blk[48+c], blk[56+c]
		if i1 == 0 && i2 == 0 && i3 == 0 && i4 == 0 && i5 == 0 && i6 == 0 && i7 == 0 {
			tmp[c], tmp[8+c], tmp[16+c], tmp[24+c] = i0, i0, i0, i0
			tmp[32+c], tmp[40+c], tmp[48+c], tmp[56+c] = i0, i0, i0, i0
			continue
		}
		t10 := i0 + i4
		t11 := i0 - i4
		t13 := i2 + i6
		t12 := (i2-i6)*r2 - t13
		e0 := t10 + t13
		e3 := t10 - t13
		e1 := t11 + t12
		e2 := t11 - t12

		z13 := i5 + i3
		z10 := i5 - i3
		z11 := i1 + i7
		z12 := i1 - i7
		o7 := z11 + z13
		o11 := (z11 - z13) * r2
		z5 := (z10 + z12) * c2p6
		o10 := c2m6*z12 - z5
		o12 := -c2p6b*z10 + z5
		o6 := o12 - o7
		o5 := o11 - o6
		o4 := o10 + o5

		tmp[c] = e0 + o7
		tmp[56+c] = e0 - o7
		tmp[8+c] = e1 + o6
		tmp[48+c] = e1 - o6
		tmp[16+c] = e2 + o5
		tmp[40+c] = e2 - o5
		tmp[32+c] = e3 + o4
		tmp[24+c] = e3 - o4
	}
	// rows, with the +128 level shift
	for r := 0; r < 8; r++ {
		row := tmp[r*8 : r*8+8 : r*8+8]
		out := dst[r*stride : r*stride+8 : r*stride+8]
		i0, i1, i2, i3, i4, i5, i6, i7 := row[0]+128, row[1], row[2], row[3], row[4], row[5], row[6], row[7]
		t10 := i0 + i4
		t11 := i0 - i4
		t13 := i2 + i6
		t12 := (i2-i6)*r2 - t13
		e0 := t10 + t13
		e3 := t10 - t13
		e1 := t11 + t12
		e2 := t11 - t12

		z13 := i5 + i3
		z10 := i5 - i3
		z11 := i1 + i7
		z12 := i1 - i7
		o7 := z11 + z13
		o11 := (z11 - z13) * r2
		z5 := (z10 + z12) * c2p6
		o10 := c2m6*z12 - z5
		o12 := -c2p6b*z10 + z5
		o6 := o12 - o7
		o5 := o11 - o6
		o4 := o10 + o5

		out[0] = clamp(e0 + o7)
		out[7] = clamp(e0 - o7)
		out[1] = clamp(e1 + o6)
		out[6] = clamp(e1 - o6)
		out[2] = clamp(e2 + o5)
		out[5] = clamp(e2 - o5)
		out[4] = clamp(e3 + o4)
		out[3] = clamp(e3 - o4)
	}
}

// idct4 computes the 4×4 output of the top-left 4×4 dequantized coefficients.
func idct4(blk *[64]float32, dst []byte, stride int) {
	var t [4][4]float32 // [v][x]
	for v := 0; v < 4; v++ {
		f0, f1, f2, f3 := blk[v*8], blk[v*8+1], blk[v*8+2], blk[v*8+3]
		for x := 0; x < 4; x++ {
			m := &idct4M[x]
			t[v][x] = m[0]*f0 + m[1]*f1 + m[2]*f2 + m[3]*f3
		}
	}
	for y := 0; y < 4; y++ {
		m := &idct4M[y]
		out := dst[y*stride : y*stride+4 : y*stride+4]
		for x := 0; x < 4; x++ {
			out[x] = clamp(m[0]*t[0][x] + m[1]*t[1][x] + m[2]*t[2][x] + m[3]*t[3][x] + 128)
		}
	}
}

// idct2 computes the 2×2 output of the top-left 2×2 dequantized coefficients.
func idct2(blk *[64]float32, dst []byte, stride int) {
	a, b, c, e := blk[0], blk[1], blk[8], blk[9]
	k := idct2M[0][0] * idct2M[0][0] // all products have this magnitude
	dst[0] = clamp(k*(a+b+c+e) + 128)
	dst[1] = clamp(k*(a-b+c-e) + 128)
	dst[stride] = clamp(k*(a+b-c-e) + 128)
	dst[stride+1] = clamp(k*(a-b-c+e) + 128)
}
