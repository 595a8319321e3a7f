package resizer

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// MaxGeometrySide is the largest width or height a geometry may name, and
// MaxGeometryPercent the largest percentage.
const (
	MaxGeometrySide    = 16384
	MaxGeometryPercent = 1000
)

// Geometry is a parsed ImageMagick-style resize geometry:
//
//	150x      width 150, height by aspect ratio
//	x150      height 150, width by aspect ratio
//	150       same as 150x
//	50x50     fit inside the box
//	50x50^    fill the box (the smaller side fits; see Preset.Crop)
//	50x50!    exactly 50x50, ignoring the aspect ratio
//	50x50>    only shrink (imgate's default anyway, see the package doc)
//	50x50<    only enlarge
//	50%       scale both sides; 50%x25% or 50x25% scale each side
//
// Flags may be combined ("150x>", "50x50^>", "50x50!<"), as ImageMagick allows.
// Offsets (+X+Y), area (@) and aspect (:) geometries are refused.
type Geometry struct {
	w, h        float64 // 0 = not given
	percent     bool
	fill        bool // ^
	exact       bool // !
	shrinkOnly  bool // >
	enlargeOnly bool // <
}

// ParseGeometry parses an ImageMagick-style geometry (see Geometry).
func ParseGeometry(s string) (Geometry, error) {
	var g Geometry
	bad := func(format string, args ...any) (Geometry, error) {
		return Geometry{}, newErr(KindInvalidPreset, nil, "invalid geometry %q: %s", s, fmt.Sprintf(format, args...))
	}
	if s == "" {
		return bad("empty")
	}
	if len(s) > 32 {
		return bad("too long")
	}
	body, dup := g.trailingFlags(s)
	if dup != 0 {
		return bad("flag %q given twice", string(dup))
	}
	if g.shrinkOnly && g.enlargeOnly {
		return bad("'<' and '>' cannot be combined")
	}
	if strings.ContainsAny(body, "+-@:") {
		return bad("offsets, area (@) and aspect (:) geometries are not supported")
	}
	ws, hs, hasX := strings.Cut(body, "x")
	if !hasX {
		ws, hs, hasX = strings.Cut(body, "X")
	}
	// A '%' may follow each number ("50%x25%").
	if strings.HasSuffix(ws, "%") {
		g.percent = true
		ws = ws[:len(ws)-1]
	}
	var err error
	if g.w, err = geometryNumber(ws); err != nil {
		return bad("%v", err)
	}
	if g.h, err = geometryNumber(hs); err != nil {
		return bad("%v", err)
	}
	if g.w == 0 && g.h == 0 {
		return bad("no width or height")
	}
	_ = hasX
	if g.percent {
		// "x50%" scales the width by 100%; "50%" scales both sides.
		if g.w == 0 {
			g.w = 100
		}
		if g.h == 0 {
			g.h = g.w
		}
		if g.w > MaxGeometryPercent || g.h > MaxGeometryPercent {
			return bad("percentage above %d%%", MaxGeometryPercent)
		}
		return g, nil
	}
	if g.fill {
		// ImageMagick fills a square box when one side is missing ("150x^").
		if g.w == 0 {
			g.w = g.h
		}
		if g.h == 0 {
			g.h = g.w
		}
	}
	for _, v := range []float64{g.w, g.h} {
		if v != math.Trunc(v) {
			return bad("sizes in pixels must be whole numbers")
		}
		if v > MaxGeometrySide {
			return bad("side above %d pixels", MaxGeometrySide)
		}
	}
	return g, nil
}

// String returns the canonical text of g; ParseGeometry(g.String()) == g.
func (g Geometry) String() string {
	var b strings.Builder
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	if g.percent {
		w, h := g.w, g.h
		if w == 0 {
			w = 100
		}
		if h == 0 {
			h = w
		}
		b.WriteString(f(w) + "%")
		if h != w {
			b.WriteString("x" + f(h) + "%")
		}
	} else {
		if g.w > 0 {
			b.WriteString(f(g.w))
		}
		b.WriteByte('x')
		if g.h > 0 {
			b.WriteString(f(g.h))
		}
	}
	if g.fill {
		b.WriteByte('^')
	}
	if g.exact {
		b.WriteByte('!')
	}
	if g.shrinkOnly {
		b.WriteByte('>')
	}
	if g.enlargeOnly {
		b.WriteByte('<')
	}
	return b.String()
}

// Fill reports whether the geometry has the '^' flag.
func (g Geometry) Fill() bool { return g.fill }

// imRound is ImageMagick's floor(x+0.5) with a minimum of 1.
func imRound(v float64) int {
	r := int(math.Floor(v + 0.5))
	if r < 1 {
		r = 1
	}
	return r
}

// Size returns the size of the resized image for a source of srcW×srcH (after
// orientation): ImageMagick 6's -resize arithmetic, except that a geometry
// without '<', '!' or '%' never enlarges (as if '>' were given).
func (g Geometry) Size(srcW, srcH int) (w, h int) {
	if srcW <= 0 || srcH <= 0 {
		return 0, 0
	}
	w, h = g.scaled(srcW, srcH)
	if g.percent {
		return w, h // ImageMagick ignores '<' and '>' after a percentage
	}
	if g.shrinkOnly || (!g.enlargeOnly && !g.exact) {
		w, h = min(w, srcW), min(h, srcH)
	}
	if g.enlargeOnly {
		w, h = max(w, srcW), max(h, srcH)
	}
	return w, h
}

// imSize is ImageMagick's own -resize result, enlarging included (tests
// compare it with the real ImageMagick).
func (g Geometry) imSize(srcW, srcH int) (int, int) {
	if srcW <= 0 || srcH <= 0 {
		return 0, 0
	}
	if g.shrinkOnly || g.enlargeOnly || g.percent {
		return g.Size(srcW, srcH)
	}
	return g.scaled(srcW, srcH)
}

// scaled is ImageMagick's size arithmetic before the '<' and '>' clamps.
func (g Geometry) scaled(srcW, srcH int) (w, h int) {
	sw, sh := float64(srcW), float64(srcH)
	if g.percent {
		pw, ph := g.w, g.h
		if pw == 0 {
			pw = 100
		}
		if ph == 0 {
			ph = pw
		}
		return imRound(pw * sw / 100), imRound(ph * sh / 100)
	}
	if g.exact {
		w, h = srcW, srcH
		if g.w > 0 {
			w = int(g.w)
		}
		if g.h > 0 {
			h = int(g.h)
		}
		return w, h
	}
	var scale float64
	switch {
	case g.w > 0 && g.h > 0:
		sx, sy := g.w/sw, g.h/sh
		if g.fill == (sx < sy) {
			scale = sy
		} else {
			scale = sx
		}
	case g.w > 0:
		scale = g.w / sw
	default:
		scale = g.h / sh
	}
	return imRound(scale * sw), imRound(scale * sh)
}

// CropBox returns the box a '^' geometry crops to once the image has been
// resized to w×h (Preset.Crop): the geometry's width and height, each limited
// to the resized size; a side the geometry does not name is not cropped.
func (g Geometry) CropBox(w, h int) (cw, ch int) {
	cw, ch = w, h
	if g.percent {
		return
	}
	if g.w > 0 && int(g.w) < cw {
		cw = int(g.w)
	}
	if g.h > 0 && int(g.h) < ch {
		ch = int(g.h)
	}
	return
}

// trailingFlags sets g's flags from the trailing characters of s (^!<>%) and
// returns the rest; dup is a flag character given twice (0 when none).
func (g *Geometry) trailingFlags(s string) (body string, dup byte) {
	body = s
	for len(body) > 0 {
		c := body[len(body)-1]
		var flag *bool
		switch c {
		case '^':
			flag = &g.fill
		case '!':
			flag = &g.exact
		case '<':
			flag = &g.enlargeOnly
		case '>':
			flag = &g.shrinkOnly
		case '%':
			flag = &g.percent
		}
		if flag == nil {
			return body, 0
		}
		if *flag {
			return body, c
		}
		*flag = true
		body = body[:len(body)-1]
	}
	return body, 0
}

// geometryNumber parses one side of a geometry: empty (0), or a positive
// decimal number.
func geometryNumber(t string) (float64, error) {
	if t == "" {
		return 0, nil
	}
	for _, c := range t {
		if (c < '0' || c > '9') && c != '.' {
			return 0, fmt.Errorf("%q is not a number", t)
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("%q is not a number", t)
	}
	if v <= 0 {
		return 0, fmt.Errorf("%q must be greater than zero", t)
	}
	return v, nil
}
