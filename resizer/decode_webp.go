package resizer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"

	wasmwebp "github.com/gen2brain/webp"
	"golang.org/x/image/webp"
)

// webpHeader walks the RIFF chunks: the canvas size (VP8X, or the VP8/VP8L
// bitstream header of a simple file), frames and their durations (ANMF),
// the loop count (ANIM), the ICC profile (ICCP) and the EXIF orientation.
// Nothing is decompressed.
func webpHeader(b []byte) (header, error) {
	h := header{format: "webp", orientation: 1, frames: 1}
	if len(b) < 20 {
		return h, errTruncatedHeader
	}
	riff := uint64(binary.LittleEndian.Uint32(b[4:])) + 8
	if riff < uint64(len(b)) {
		b = b[:riff] // trailing bytes after the RIFF are ignored, as libwebp does
	}
	pos, anim, sawImage := 12, false, false
	frames := 0
	for pos+8 <= len(b) {
		id := string(b[pos : pos+4])
		n := uint64(binary.LittleEndian.Uint32(b[pos+4:]))
		end := uint64(pos) + 8 + n
		if end > uint64(len(b)) {
			if !sawImage {
				return h, errTruncatedHeader
			}
			break // the decoder reports the truncation
		}
		d := b[pos+8 : end]
		var err error
		switch id {
		case "VP8X":
			if len(d) < 10 {
				return h, errors.New("short VP8X chunk")
			}
			anim = d[0]&0x02 != 0
			h.alpha = d[0]&0x10 != 0
			h.width = int(le24(d[4:])) + 1
			h.height = int(le24(d[7:])) + 1
			sawImage = true // the canvas is known
		case "ANIM":
			if len(d) >= 6 {
				h.loop = int(binary.LittleEndian.Uint16(d[4:]))
			}
		case "ANMF":
			if len(d) < 16 {
				return h, errors.New("short ANMF chunk")
			}
			frames++
			h.delays = append(h.delays, int(le24(d[12:])))
		case "ICCP":
			h.icc = d
		case "EXIF":
			if o := tiffOrientation(bytes.TrimPrefix(d, []byte("Exif\x00\x00"))); o != 0 {
				h.orientation = o
			}
		case "VP8 ", "VP8L":
			if !sawImage {
				h.width, h.height, err = webpBitstreamSize(id, d)
				if err != nil {
					return h, err
				}
				h.alpha = h.alpha || id == "VP8L" && len(d) >= 5 && d[4]&0x10 != 0
				sawImage = true
			}
		}
		pos = int(end + n&1) // chunks are padded to an even size
	}
	if !sawImage {
		return h, errTruncatedHeader
	}
	if anim {
		if frames == 0 {
			return h, errors.New("animation without frames")
		}
		h.frames = frames
	} else {
		h.delays = nil
	}
	return h, nil
}

func le24(b []byte) uint32 { return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 }

// webpBitstreamSize reads the size from a VP8 (lossy) or VP8L (lossless)
// bitstream header.
func webpBitstreamSize(id string, d []byte) (int, int, error) {
	if id == "VP8L" {
		if len(d) < 5 || d[0] != 0x2f {
			return 0, 0, errors.New("bad VP8L signature")
		}
		v := binary.LittleEndian.Uint32(d[1:])
		return int(v&0x3fff) + 1, int(v>>14&0x3fff) + 1, nil
	}
	if len(d) < 10 || d[3] != 0x9d || d[4] != 0x01 || d[5] != 0x2a {
		return 0, 0, errors.New("bad VP8 start code")
	}
	return int(binary.LittleEndian.Uint16(d[6:]) & 0x3fff), int(binary.LittleEndian.Uint16(d[8:]) & 0x3fff), nil
}

// decodeWebP decodes a still WebP with golang.org/x/image/webp (pure Go: no
// WebAssembly instance and its memory for the common case) and an animated
// one's first frame with libwebp as WebAssembly.
func decodeWebP(h header, data []byte) (image.Image, error) {
	if h.frames > 1 {
		frames, err := decodeWebPFrames(data)
		if err != nil {
			return nil, err
		}
		return frames[0], nil
	}
	img, err := webp.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, classify("webp", err)
	}
	return vp8ToNRGBA(img), nil
}

// decodeWebPFrames decodes every frame of an animated WebP, each composited
// on the canvas (libwebp's WebPAnimDecoder handles blending and disposal).
func decodeWebPFrames(data []byte) (frames []image.Image, err error) {
	defer func() {
		if p := recover(); p != nil {
			frames, err = nil, newErr(KindCorrupt, fmt.Errorf("%v", p), "corrupt webp")
		}
	}()
	a, err := wasmwebp.DecodeAll(bytes.NewReader(data))
	if err != nil {
		return nil, newErr(KindCorrupt, err, "corrupt webp")
	}
	if len(a.Image) == 0 {
		return nil, newErr(KindCorrupt, nil, "corrupt webp: no frames")
	}
	// libwebp's frames are non-premultiplied RGBA in an image.RGBA.
	for i, m := range a.Image {
		if rgba, ok := m.(*image.RGBA); ok {
			a.Image[i] = &image.NRGBA{Pix: rgba.Pix, Stride: rgba.Stride, Rect: rgba.Rect}
		}
	}
	return a.Image, nil
}

// vp8ToNRGBA converts x/image/webp's lossy output, which carries VP8's
// limited-range BT.601 YCbCr (Y 16..235) in Go types whose conversion
// assumes full range (JFIF), to NRGBA the way libwebp does: limited range,
// chroma upsampled bilinearly ("fancy upsampling").
func vp8ToNRGBA(m image.Image) image.Image {
	var y *image.YCbCr
	var a []uint8
	var aStride int
	switch t := m.(type) {
	case *image.YCbCr:
		y = t
	case *image.NYCbCrA:
		y, a, aStride = &t.YCbCr, t.A, t.AStride
	default:
		return m
	}
	if y.SubsampleRatio != image.YCbCrSubsampleRatio420 {
		return m
	}
	r := y.Rect
	out := image.NewNRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	cw, ch := (r.Dx()+1)/2, (r.Dy()+1)/2
	// chroma sample at half-pixel positions: pixel x sits at (x-0.5)/2 in
	// chroma coordinates.
	for py := 0; py < r.Dy(); py++ {
		cy0, wy := chromaTap(py, ch)
		row := out.Pix[py*out.Stride:]
		for px := 0; px < r.Dx(); px++ {
			cx0, wx := chromaTap(px, cw)
			cb := bilinear(y.Cb, y.CStride, cx0, cy0, wx, wy, cw, ch)
			cr := bilinear(y.Cr, y.CStride, cx0, cy0, wx, wy, cw, ch)
			yy := (float64(y.Y[py*y.YStride+px]) - 16) * 1.164383
			row[4*px] = clamp8(yy + 1.596027*(cr-128))
			row[4*px+1] = clamp8(yy - 0.391762*(cb-128) - 0.812968*(cr-128))
			row[4*px+2] = clamp8(yy + 2.017232*(cb-128))
			row[4*px+3] = 255
			if a != nil {
				row[4*px+3] = a[py*aStride+px]
			}
		}
	}
	return out
}

// chromaTap returns the first chroma sample and the weight of the second
// for luma position p (chroma sited between luma pairs).
func chromaTap(p, n int) (int, float64) {
	c := (float64(p) - 0.5) / 2
	c0 := int(c+1) - 1 // floor for c ≥ -0.25
	w := c - float64(c0)
	if c0 < 0 {
		return 0, 0
	}
	if c0 >= n-1 {
		return n - 1, 0
	}
	return c0, w
}

func bilinear(p []uint8, stride, x, y int, wx, wy float64, w, h int) float64 {
	x1, y1 := min(x+1, w-1), min(y+1, h-1)
	a := float64(p[y*stride+x])*(1-wx) + float64(p[y*stride+x1])*wx
	b := float64(p[y1*stride+x])*(1-wx) + float64(p[y1*stride+x1])*wx
	return a*(1-wy) + b*wy
}

func clamp8(v float64) uint8 {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v + 0.5)
}
