package colour

import (
	"fmt"
	"math"
)

// primaries are the CIE xy chromaticities of red, green, blue and white.
type primaries [8]float64

// h273Primaries maps ColourPrimaries code points (ITU-T H.273) with a D65
// white to their chromaticities.
var h273Primaries = map[int]primaries{
	1:  {0.64, 0.33, 0.30, 0.60, 0.15, 0.06, 0.3127, 0.3290},       // BT.709, sRGB
	5:  {0.64, 0.33, 0.29, 0.60, 0.15, 0.06, 0.3127, 0.3290},       // BT.601 625
	6:  {0.630, 0.340, 0.310, 0.595, 0.155, 0.070, 0.3127, 0.3290}, // BT.601 525
	7:  {0.630, 0.340, 0.310, 0.595, 0.155, 0.070, 0.3127, 0.3290}, // SMPTE 240M
	9:  {0.708, 0.292, 0.170, 0.797, 0.131, 0.046, 0.3127, 0.3290}, // BT.2020
	12: {0.680, 0.320, 0.265, 0.690, 0.150, 0.060, 0.3127, 0.3290}, // Display P3
}

// rgbToXYZ returns the RGB → XYZ matrix of a set of primaries (white Y = 1).
func rgbToXYZ(p primaries) ([9]float64, bool) {
	xyz := func(x, y float64) [3]float64 { return [3]float64{x / y, 1, (1 - x - y) / y} }
	r, g, b, w := xyz(p[0], p[1]), xyz(p[2], p[3]), xyz(p[4], p[5]), xyz(p[6], p[7])
	m := [9]float64{r[0], g[0], b[0], r[1], g[1], b[1], r[2], g[2], b[2]}
	inv, ok := invert(m)
	if !ok {
		return m, false
	}
	var s [3]float64
	for i := range 3 {
		s[i] = inv[3*i]*w[0] + inv[3*i+1]*w[1] + inv[3*i+2]*w[2]
	}
	for row := range 3 {
		for col := range 3 {
			m[3*row+col] *= s[col]
		}
	}
	return m, true
}

// transferCurve maps a TransferCharacteristics code point to its decoding
// function (encoded → linear). HDR transfers (PQ, HLG) are unsupported.
func transferCurve(tc int) (func(float64) float64, bool) {
	switch tc {
	case 2, 13: // unspecified (as sRGB), sRGB
		return srgbDecode, true
	case 1, 6, 14, 15: // BT.709 family
		return func(v float64) float64 {
			if v < 0.081 {
				return v / 4.5
			}
			return math.Pow((v+0.099)/1.099, 1/0.45)
		}, true
	case 4:
		return func(v float64) float64 { return math.Pow(v, 2.2) }, true
	case 5:
		return func(v float64) float64 { return math.Pow(v, 2.8) }, true
	case 8:
		return func(v float64) float64 { return v }, true
	}
	return nil, false
}

// FromNCLX builds the transform of H.273 colour primaries and transfer
// characteristics (the nclx colr box of HEIF/AVIF) to sRGB. Unspecified
// (2) is taken as sRGB; HDR transfers and non-D65 primaries give
// ErrUnsupported.
func FromNCLX(prim, transfer int) (*Transform, error) {
	if prim == 2 {
		prim = 1
	}
	p, ok := h273Primaries[prim]
	if !ok {
		return nil, fmt.Errorf("%w: colour primaries %d", ErrUnsupported, prim)
	}
	curve, ok := transferCurve(transfer)
	if !ok {
		return nil, fmt.Errorf("%w: transfer characteristics %d", ErrUnsupported, transfer)
	}
	src, ok1 := rgbToXYZ(p)
	dst, ok2 := rgbToXYZ(h273Primaries[1])
	if !ok1 || !ok2 {
		return nil, ErrUnsupported
	}
	return newTransform([3]func(float64) float64{curve, curve, curve}, src, dst)
}
