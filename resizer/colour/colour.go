// Package colour converts RGB pixels described by an ICC matrix/TRC profile
// (Adobe RGB, Display P3, ProPhoto, …) or by H.273 code points (the nclx
// colour of HEIF/AVIF) to sRGB, in pure Go.
//
// A Transform maps 8-bit non-premultiplied RGB to 8-bit sRGB: each channel
// is linearized by a table, the three are mixed by one 3×3 matrix (source
// RGB → PCS XYZ D50 → linear sRGB, relative colorimetric, out-of-gamut
// values clipped, as a matrix-profile conversion by LittleCMS does), and
// encoded by a table of the sRGB curve.
package colour

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// ErrUnsupported: a profile this package cannot convert (not RGB, or
// lookup-table based). Callers keep the pixels as they are.
var ErrUnsupported = errors.New("colour: unsupported profile")

// Transform converts 8-bit RGB to sRGB.
type Transform struct {
	lin [3][256]float32    // per input channel: encoded value → linear
	m   [9]float32         // linear source RGB → linear sRGB
	enc [encSize + 1]uint8 // linear (0..1 in encSize steps) → sRGB 8-bit
}

const encSize = 4096

// Identity reports whether t is sRGB to sRGB: its matrix within 0.01 of
// the identity and greys unchanged within one level.
func (t *Transform) Identity() bool {
	if t == nil {
		return true
	}
	for i, v := range t.m {
		want := float32(0)
		if i%4 == 0 {
			want = 1
		}
		if v-want > 0.01 || want-v > 0.01 {
			return false
		}
	}
	for v := range 256 {
		out := t.Apply8(uint8(v), uint8(v), uint8(v))
		for k := range 3 {
			if d := int(out[k]) - v; d > 1 || d < -1 {
				return false
			}
		}
	}
	return true
}

// Apply8 converts one pixel.
func (t *Transform) Apply8(r, g, b uint8) [3]uint8 {
	lr, lg, lb := t.lin[0][r], t.lin[1][g], t.lin[2][b]
	m := &t.m
	return [3]uint8{
		t.encode(m[0]*lr + m[1]*lg + m[2]*lb),
		t.encode(m[3]*lr + m[4]*lg + m[5]*lb),
		t.encode(m[6]*lr + m[7]*lg + m[8]*lb),
	}
}

func (t *Transform) encode(v float32) uint8 {
	switch {
	case v <= 0:
		return 0
	case v >= 1:
		return 255
	}
	return t.enc[int(v*encSize+0.5)]
}

// ApplyRGBA converts premultiplied RGBA pixels (image.RGBA's Pix) in place.
func (t *Transform) ApplyRGBA(pix []uint8) {
	for i := 0; i+3 < len(pix); i += 4 {
		a := pix[i+3]
		switch a {
		case 0:
			continue
		case 255:
			c := t.Apply8(pix[i], pix[i+1], pix[i+2])
			pix[i], pix[i+1], pix[i+2] = c[0], c[1], c[2]
		default:
			un := func(v uint8) uint8 { return uint8(min(255, (uint32(v)*255+uint32(a)/2)/uint32(a))) }
			c := t.Apply8(un(pix[i]), un(pix[i+1]), un(pix[i+2]))
			pre := func(v uint8) uint8 { return uint8((uint32(v)*uint32(a) + 127) / 255) }
			pix[i], pix[i+1], pix[i+2] = pre(c[0]), pre(c[1]), pre(c[2])
		}
	}
}

// srgbD50 is the sRGB colorant matrix adapted to D50 (Bradford), as in the
// sRGB ICC profiles: columns are the XYZ of red, green and blue.
var srgbD50 = [9]float64{
	0.4360747, 0.3850649, 0.1430804,
	0.2225045, 0.7168786, 0.0606169,
	0.0139322, 0.0971045, 0.7141733,
}

// newTransform builds a Transform from per-channel curves and the source's
// RGB → XYZ matrix, with dst the sRGB RGB → XYZ matrix in the same white.
func newTransform(curves [3]func(float64) float64, src, dst [9]float64) (*Transform, error) {
	inv, ok := invert(dst)
	if !ok {
		return nil, ErrUnsupported
	}
	m := mul3(inv, src)
	t := &Transform{}
	for i := range m {
		if math.IsNaN(m[i]) || math.IsInf(m[i], 0) {
			return nil, ErrUnsupported
		}
		t.m[i] = float32(m[i])
	}
	for c := range 3 {
		for v := range 256 {
			t.lin[c][v] = float32(curves[c](float64(v) / 255))
		}
	}
	for i := range t.enc {
		t.enc[i] = uint8(math.Round(255 * srgbEncode(float64(i)/encSize)))
	}
	return t, nil
}

func srgbEncode(v float64) float64 {
	if v <= 0.0031308 {
		return 12.92 * v
	}
	return 1.055*math.Pow(v, 1/2.4) - 0.055
}

func srgbDecode(v float64) float64 {
	if v <= 0.04045 {
		return v / 12.92
	}
	return math.Pow((v+0.055)/1.055, 2.4)
}

func mul3(a, b [9]float64) [9]float64 {
	var c [9]float64
	for i := range 3 {
		for j := range 3 {
			for k := range 3 {
				c[3*i+j] += a[3*i+k] * b[3*k+j]
			}
		}
	}
	return c
}

func invert(m [9]float64) ([9]float64, bool) {
	a, b, c, d, e, f, g, h, i := m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8]
	det := a*(e*i-f*h) - b*(d*i-f*g) + c*(d*h-e*g)
	if math.Abs(det) < 1e-12 {
		return m, false
	}
	return [9]float64{
		(e*i - f*h) / det, (c*h - b*i) / det, (b*f - c*e) / det,
		(f*g - d*i) / det, (a*i - c*g) / det, (c*d - a*f) / det,
		(d*h - e*g) / det, (b*g - a*h) / det, (a*e - b*d) / det,
	}, true
}

// FromICC builds the transform of an RGB matrix/TRC ICC profile (v2 or
// v4). Grey, CMYK, Lab and lookup-table-only profiles give ErrUnsupported.
func FromICC(p []byte) (*Transform, error) {
	if len(p) < 132 || string(p[36:40]) != "acsp" {
		return nil, fmt.Errorf("%w: not an ICC profile", ErrUnsupported)
	}
	if string(p[16:20]) != "RGB " || string(p[20:24]) != "XYZ " {
		return nil, fmt.Errorf("%w: colour space %q, PCS %q", ErrUnsupported, p[16:20], p[20:24])
	}
	tags, err := tagTable(p)
	if err != nil {
		return nil, err
	}
	var src [9]float64
	for col, sig := range []string{"rXYZ", "gXYZ", "bXYZ"} {
		d := tags[sig]
		if len(d) < 20 || string(d[:4]) != "XYZ " {
			return nil, fmt.Errorf("%w: no %s colorant", ErrUnsupported, sig)
		}
		for row := range 3 {
			src[3*row+col] = s15(d[8+4*row:])
		}
	}
	var curves [3]func(float64) float64
	for c, sig := range []string{"rTRC", "gTRC", "bTRC"} {
		if curves[c], err = parseCurve(tags[sig]); err != nil {
			return nil, fmt.Errorf("%s: %w", sig, err)
		}
	}
	return newTransform(curves, src, srgbD50)
}

// tagTable maps tag signatures to their data.
func tagTable(p []byte) (map[string][]byte, error) {
	n := binary.BigEndian.Uint32(p[128:])
	if n > 200 || 132+12*int(n) > len(p) {
		return nil, fmt.Errorf("%w: bad tag table", ErrUnsupported)
	}
	tags := map[string][]byte{}
	for i := range int(n) {
		e := p[132+12*i:]
		off, size := uint64(binary.BigEndian.Uint32(e[4:])), uint64(binary.BigEndian.Uint32(e[8:]))
		if off+size > uint64(len(p)) {
			return nil, fmt.Errorf("%w: tag %q past the end", ErrUnsupported, e[:4])
		}
		tags[string(e[:4])] = p[off : off+size]
	}
	return tags, nil
}

func s15(b []byte) float64 { return float64(int32(binary.BigEndian.Uint32(b))) / 65536 }

// parseCurve reads a curv or para tag as a function on 0..1.
func parseCurve(d []byte) (func(float64) float64, error) {
	if len(d) < 12 {
		return nil, fmt.Errorf("%w: missing curve", ErrUnsupported)
	}
	switch string(d[:4]) {
	case "curv":
		n := int(binary.BigEndian.Uint32(d[8:]))
		if n > (len(d)-12)/2 {
			return nil, fmt.Errorf("%w: short curve", ErrUnsupported)
		}
		switch n {
		case 0:
			return func(x float64) float64 { return x }, nil
		case 1:
			g := float64(binary.BigEndian.Uint16(d[12:])) / 256
			return func(x float64) float64 { return math.Pow(x, g) }, nil
		}
		tab := make([]float64, n)
		for i := range tab {
			tab[i] = float64(binary.BigEndian.Uint16(d[12+2*i:])) / 65535
		}
		return func(x float64) float64 {
			f := x * float64(n-1)
			i := min(int(f), n-2)
			w := f - float64(i)
			return tab[i]*(1-w) + tab[i+1]*w
		}, nil
	case "para":
		return parseParametric(d)
	}
	return nil, fmt.Errorf("%w: curve type %q", ErrUnsupported, d[:4])
}

// parseParametric reads an ICC parametric curve (types 0..4).
func parseParametric(d []byte) (func(float64) float64, error) {
	typ := int(binary.BigEndian.Uint16(d[8:]))
	counts := []int{1, 3, 4, 5, 7}
	if typ >= len(counts) || len(d) < 12+4*counts[typ] {
		return nil, fmt.Errorf("%w: parametric curve type %d", ErrUnsupported, typ)
	}
	p := make([]float64, 7)
	for i := range counts[typ] {
		p[i] = s15(d[12+4*i:])
	}
	g, a, b, c, dd, e, f := p[0], p[1], p[2], p[3], p[4], p[5], p[6]
	pow := func(x float64) float64 {
		if x <= 0 {
			return 0
		}
		return math.Pow(x, g)
	}
	switch typ {
	case 0:
		return pow, nil
	case 1:
		return func(x float64) float64 {
			if x >= -b/a {
				return pow(a*x + b)
			}
			return 0
		}, nil
	case 2:
		return func(x float64) float64 {
			if x >= -b/a {
				return pow(a*x+b) + c
			}
			return c
		}, nil
	case 3:
		return func(x float64) float64 {
			if x >= dd {
				return pow(a*x + b)
			}
			return c * x
		}, nil
	}
	return func(x float64) float64 {
		if x >= dd {
			return pow(a*x+b) + e
		}
		return c*x + f
	}, nil
}
