package resizer

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	"image/draw"
	"image/gif"
	"image/png"

	"github.com/imgate/imgate/resizer/jpegenc"
)

// Extension returns the usual file extension of a format: "jpeg" → ".jpg",
// "png" → ".png", "gif" → ".gif"; "" for an unknown format.
func Extension(format string) string {
	switch format {
	case "jpeg", "jpg":
		return ".jpg"
	case "png":
		return ".png"
	case "gif":
		return ".gif"
	case "webp":
		return ".webp"
	case "avif":
		return ".avif"
	}
	return ""
}

// ContentType returns the MIME type of a format.
func ContentType(format string) string {
	switch format {
	case "jpeg", "jpg":
		return "image/jpeg"
	case "png":
		return "image/png"
	case "gif":
		return "image/gif"
	case "webp":
		return "image/webp"
	case "avif":
		return "image/avif"
	}
	return "application/octet-stream"
}

// opaque reports whether every pixel has alpha 255.
func opaque(m *image.RGBA) bool {
	for y := range m.Rect.Dy() {
		row := m.Pix[y*m.Stride : y*m.Stride+4*m.Rect.Dx()]
		for i := 3; i < len(row); i += 4 {
			if row[i] != 255 {
				return false
			}
		}
	}
	return true
}

// flatten composites premultiplied m onto an opaque background, in place.
func flatten(m *image.RGBA, bg [3]uint8) {
	for y := range m.Rect.Dy() {
		row := m.Pix[y*m.Stride : y*m.Stride+4*m.Rect.Dx()]
		for i := 0; i < len(row); i += 4 {
			a := uint32(row[i+3])
			if a == 255 {
				continue
			}
			inv := 255 - a
			row[i] = uint8(min(255, uint32(row[i])+(uint32(bg[0])*inv+127)/255))
			row[i+1] = uint8(min(255, uint32(row[i+1])+(uint32(bg[1])*inv+127)/255))
			row[i+2] = uint8(min(255, uint32(row[i+2])+(uint32(bg[2])*inv+127)/255))
			row[i+3] = 255
		}
	}
}

// grayish reports whether every pixel has r == g == b.
func grayish(m *image.RGBA) bool {
	for y := range m.Rect.Dy() {
		row := m.Pix[y*m.Stride : y*m.Stride+4*m.Rect.Dx()]
		for i := 0; i < len(row); i += 4 {
			if row[i] != row[i+1] || row[i] != row[i+2] {
				return false
			}
		}
	}
	return true
}

func toGray(m *image.RGBA) *image.Gray {
	g := image.NewGray(m.Rect)
	for y := range m.Rect.Dy() {
		row := m.Pix[y*m.Stride : y*m.Stride+4*m.Rect.Dx()]
		out := g.Pix[y*g.Stride:]
		for i := 0; i < len(row); i += 4 {
			out[i/4] = row[i]
		}
	}
	return g
}

// encode writes m in format. m may be modified (flattened for JPEG).
// gray says the source was grayscale, so an all-gray result is written as a
// one-channel image. pal is the source palette (GIF), if any.
func encode(m *image.RGBA, format string, p Preset, gray bool, pal color.Palette) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(16 << 10)
	switch format {
	case "jpeg":
		bg, err := parseColor(p.Background)
		if err != nil {
			bg = [3]uint8{255, 255, 255}
		}
		if !opaque(m) {
			flatten(m, bg)
		}
		var img image.Image = m
		if gray && grayish(m) {
			img = toGray(m)
		}
		q := p.Quality
		if q == 0 {
			q = DefaultQuality
		}
		b, err := jpegenc.Append(buf.Bytes(), img, &jpegenc.Options{Quality: q})
		if err != nil {
			return nil, err
		}
		return b, nil
	case "png":
		var img image.Image = m
		if gray && opaque(m) && grayish(m) {
			img = toGray(m)
		}
		enc := png.Encoder{CompressionLevel: png.DefaultCompression}
		if err := enc.Encode(&buf, img); err != nil {
			return nil, err
		}
	case "gif":
		if len(pal) == 0 || len(pal) > 256 {
			pal = palette.Plan9
			if !opaque(m) {
				pal = append(color.Palette{color.RGBA{}}, palette.Plan9[:255]...)
			}
		}
		pm := image.NewPaletted(m.Rect, pal)
		draw.FloydSteinberg.Draw(pm, m.Rect, m, image.Point{})
		if err := gif.Encode(&buf, pm, nil); err != nil {
			return nil, err
		}
	case "webp", "avif":
		q := p.Quality
		if q == 0 {
			q = DefaultQuality
		}
		return encodeSibling(m, format, q)
	default:
		return nil, fmt.Errorf("cannot encode format %q", format)
	}
	return buf.Bytes(), nil
}

// Encode writes m in format with p's options, exactly as Resize writes a
// variant (JPEG output is flattened onto p's background). m may be modified.
func Encode(m *image.RGBA, format string, p Preset) ([]byte, error) {
	return encode(m, format, p.Normalize(), false, nil)
}
