package resizer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"github.com/anthonynsimon/bild/transform"
)

// Resizer renders presets; it is safe for concurrent use.
type Resizer struct {
	limits Limits
	sem    *weighted
}

// New returns a Resizer with the given options (zero value = defaults).
func New(opts Options) *Resizer {
	n := opts.MaxInFlightBytes
	if n <= 0 {
		n = DefaultMaxInFlightBytes
	}
	return &Resizer{limits: opts.Limits.withDefaults(), sem: newWeighted(n)}
}

// Limits returns the effective limits.
func (r *Resizer) Limits() Limits { return r.limits }

// Source describes the decoded original.
type Source struct {
	Format      string // jpeg, png, gif
	Width       int    // after orientation
	Height      int    // after orientation
	Orientation int    // EXIF orientation 1..8 (1 when absent)
	Frames      int
}

// Variant is one rendered preset.
type Variant struct {
	Preset      string // preset name
	Width       int
	Height      int
	Format      string // jpeg, png, gif
	ContentType string
	Data        []byte
}

// minIntermediate is how much larger than the largest target the
// box-reduced intermediate stays (bild's Lanczos does the rest).
const minIntermediate = 2

// maxBoxFactor keeps the box sums in uint32.
const maxBoxFactor = 1024

// Resize decodes src once (auto-oriented) and renders every preset from it.
// Limits are checked from the header before any pixel is decoded, and ctx
// between steps. Presets are normalized and validated first. Errors are
// *Error (permanent), ctx's error, or an I/O error reading src.
func (r *Resizer) Resize(ctx context.Context, src io.Reader, presets []Preset) (Source, []Variant, error) {
	var source Source
	presets, err := ValidatePresets(presets)
	if err != nil {
		return source, nil, err
	}
	if len(presets) == 0 {
		return source, nil, newErr(KindInvalidPreset, nil, "no presets")
	}
	data, err := readLimited(src, r.limits.MaxBytes)
	if err != nil {
		return source, nil, err
	}
	hdr, err := r.inspect(data)
	if err != nil {
		return source, nil, err
	}
	ow, oh := orientedSize(hdr.width, hdr.height, hdr.orientation)
	source = Source{Format: hdr.format, Width: ow, Height: oh, Orientation: hdr.orientation, Frames: hdr.frames}
	if err := ctx.Err(); err != nil {
		return source, nil, err
	}

	// Wait for room in the memory budget.
	got, err := r.sem.acquire(ctx, decodeCost(hdr, len(data)))
	if err != nil {
		return source, nil, err
	}
	defer r.sem.release(got)

	img, pal, err := decode(hdr.format, data)
	if err != nil {
		return source, nil, err
	}
	data = nil //nolint:ineffassign // let the GC take the encoded bytes
	if b := img.Bounds(); b != image.Rect(0, 0, hdr.width, hdr.height) {
		if hdr.format != "gif" {
			return source, nil, newErr(KindCorrupt, nil, "corrupt image: decoded size differs from the header")
		}
		// A GIF frame may cover part of the logical screen: place it on a
		// transparent screen.
		screen := image.NewRGBA(image.Rect(0, 0, hdr.width, hdr.height))
		draw.Draw(screen, b, img, b.Min, draw.Over)
		img = screen
	}
	if err := ctx.Err(); err != nil {
		return source, nil, err
	}

	// Box-reduce to ≥ minIntermediate× the largest target.
	sizes := make([][2]int, len(presets))
	geoms := make([]Geometry, len(presets))
	for i, p := range presets {
		g, _ := ParseGeometry(p.Geometry) // validated above
		geoms[i] = g
		w, h := g.Size(ow, oh)
		sizes[i] = [2]int{w, h}
	}
	k := boxFactor(ow, oh, sizes)
	gray := isGray(img)
	inter := boxReduce(img, k)
	img = nil //nolint:ineffassign // the full-size decode is no longer needed
	inter = orient(inter, hdr.orientation)
	if err := ctx.Err(); err != nil {
		return source, nil, err
	}

	variants := make([]Variant, 0, len(presets))
	for i, p := range presets {
		if err := ctx.Err(); err != nil {
			return source, nil, err
		}
		w, h := sizes[i][0], sizes[i][1]
		var out *image.RGBA
		if w == inter.Rect.Dx() && h == inter.Rect.Dy() {
			out = image.NewRGBA(inter.Rect)
			copy(out.Pix, inter.Pix)
		} else {
			out = transform.Resize(inter, w, h, transform.Lanczos)
		}
		if p.Crop && geoms[i].Fill() {
			cw, ch := geoms[i].CropBox(w, h)
			out = crop(out, cw, ch, p.Gravity)
		}
		format := p.Format
		if format == "" {
			format = hdr.format
		}
		b, err := encode(out, format, p, gray, pal)
		if err != nil {
			return source, nil, newErr(KindUnsupported, err, "cannot encode %s", format)
		}
		variants = append(variants, Variant{
			Preset: p.Name, Width: out.Rect.Dx(), Height: out.Rect.Dy(),
			Format: format, ContentType: ContentType(format), Data: b,
		})
	}
	return source, variants, nil
}

// readLimited reads all of src, refusing more than max bytes.
func readLimited(src io.Reader, max int64) ([]byte, error) {
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(src, max+1))
	if err != nil {
		return nil, fmt.Errorf("read source: %w", err)
	}
	if n > max {
		return nil, newErr(KindTooLarge, nil, "image too large: more than %d bytes", max)
	}
	return buf.Bytes(), nil
}

// inspect sniffs the format and checks the limits from the header.
func (r *Resizer) inspect(data []byte) (header, error) {
	if len(data) == 0 {
		return header{}, newErr(KindNotImage, nil, "not an image: empty file")
	}
	format, other := sniff(data)
	if format == "" {
		if other != "" {
			return header{}, newErr(KindUnsupported, nil, "unsupported image format: %s (jpeg, png and gif are supported)", other)
		}
		return header{}, newErr(KindNotImage, nil, "not an image (jpeg, png or gif expected)")
	}
	hdr, err := readHeader(format, data)
	if err != nil {
		return hdr, newErr(KindCorrupt, err, "corrupt %s: unreadable header", format)
	}
	if hdr.width <= 0 || hdr.height <= 0 {
		return hdr, newErr(KindCorrupt, nil, "corrupt %s: zero width or height", format)
	}
	if px := int64(hdr.width) * int64(hdr.height); px > r.limits.MaxPixels {
		return hdr, newErr(KindTooLarge, nil, "image too large: %dx%d is %.1f megapixels, the limit is %.1f (refused before decoding)",
			hdr.width, hdr.height, float64(px)/1e6, float64(r.limits.MaxPixels)/1e6)
	}
	if hdr.frames > r.limits.MaxFrames {
		return hdr, newErr(KindTooLarge, nil, "image too large: %d frames, the limit is %d", hdr.frames, r.limits.MaxFrames)
	}
	if format == "jpeg" && hdr.comps != 1 && hdr.comps != 3 && hdr.comps != 4 {
		return hdr, newErr(KindUnsupported, nil, "unsupported jpeg: %d colour components", hdr.comps)
	}
	// Also let the standard decoder's header parser agree.
	var cfgErr error
	switch format {
	case "jpeg":
		_, cfgErr = jpeg.DecodeConfig(bytes.NewReader(data))
	case "png":
		_, cfgErr = png.DecodeConfig(bytes.NewReader(data))
	case "gif":
		_, cfgErr = gif.DecodeConfig(bytes.NewReader(data))
	}
	if cfgErr != nil {
		return hdr, classify(format, cfgErr)
	}
	return hdr, nil
}

// decodeCost estimates the bytes the standard decoders hold for a source.
func decodeCost(h header, encoded int) int64 {
	px := int64(h.width) * int64(h.height)
	var perPx float64
	switch h.format {
	case "jpeg":
		// Planes: luma + subsampled chroma.
		planes := 0.0
		hmax, vmax := 1, 1
		for i := 0; i < h.comps && i < 4; i++ {
			hmax, vmax = max(hmax, h.hs[i]), max(vmax, h.vs[i])
		}
		for i := 0; i < h.comps && i < 4; i++ {
			if h.hs[i] > 0 && h.vs[i] > 0 {
				planes += float64(h.hs[i]*h.vs[i]) / float64(hmax*vmax)
			}
		}
		perPx = planes
		if h.progressive {
			perPx += 4 * planes // int32 coefficients kept for every block
		}
	case "png":
		perPx = 4
		if h.bitDepth == 16 {
			perPx = 8
		}
		if h.colorType == 0 || h.colorType == 3 {
			perPx = float64(max(1, h.bitDepth/8))
		}
		perPx += 1 // the filtered row buffers and zlib are small; keep a margin
	case "gif":
		perPx = 1
	}
	// The reduced RGBA intermediate and outputs are small in comparison;
	// the encoded bytes are held too.
	return int64(perPx*float64(px)) + int64(encoded)
}

func decode(format string, data []byte) (image.Image, color.Palette, error) {
	rd := bytes.NewReader(data)
	var img image.Image
	var err error
	switch format {
	case "jpeg":
		img, err = jpeg.Decode(rd)
	case "png":
		img, err = png.Decode(rd)
	case "gif":
		img, err = gif.Decode(rd)
	}
	if err != nil {
		return nil, nil, classify(format, err)
	}
	var pal color.Palette
	if p, ok := img.(*image.Paletted); ok && format == "gif" {
		pal = p.Palette
	}
	return img, pal, nil
}

// classify maps a standard decoder error to a typed error.
func classify(format string, err error) error {
	var je jpeg.UnsupportedError
	var pe png.UnsupportedError
	switch {
	case errors.As(err, &je), errors.As(err, &pe):
		return newErr(KindUnsupported, err, "unsupported %s feature", format)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return newErr(KindCorrupt, err, "truncated %s", format)
	}
	return newErr(KindCorrupt, err, "corrupt %s", format)
}

func isGray(m image.Image) bool {
	switch m.(type) {
	case *image.Gray, *image.Gray16:
		return true
	}
	return false
}

// crop cuts a cw×ch box out of m, placed by gravity.
func crop(m *image.RGBA, cw, ch int, gravity string) *image.RGBA {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	if cw >= w && ch >= h {
		return m
	}
	x, y := (w-cw)/2, (h-ch)/2
	switch gravity {
	case "north", "northwest", "northeast":
		y = 0
	case "south", "southwest", "southeast":
		y = h - ch
	}
	switch gravity {
	case "west", "northwest", "southwest":
		x = 0
	case "east", "northeast", "southeast":
		x = w - cw
	}
	out := image.NewRGBA(image.Rect(0, 0, cw, ch))
	for row := range ch {
		s := m.Pix[(y+row)*m.Stride+4*x:]
		copy(out.Pix[row*out.Stride:row*out.Stride+4*cw], s[:4*cw])
	}
	return out
}

// boxFactor picks the integer box-reduction factor for a source of ow×oh
// and the target sizes: the intermediate stays ≥ minIntermediate× every
// target, and among the factors from that maximum down to half of it, the
// first whose partial edge block shifts the result by at most 0.05 output
// pixels (else the one shifting least). The shift: the intermediate covers
// ceil(W/k)·k source pixels while the output stands for W, so the final
// pass scales by a slightly wrong ratio; that misalignment costs PSNR on
// detailed photos.
func boxFactor(ow, oh int, sizes [][2]int) int {
	kmax := maxBoxFactor
	mw, mh := 1, 1
	for _, s := range sizes {
		kmax = min(kmax, ow/(minIntermediate*s[0]), oh/(minIntermediate*s[1]))
		mw, mh = max(mw, s[0]), max(mh, s[1])
	}
	if kmax <= 1 {
		return 1
	}
	shift := func(k int) float64 {
		ex := float64((ow+k-1)/k*k-ow) / float64(ow) * float64(mw)
		ey := float64((oh+k-1)/k*k-oh) / float64(oh) * float64(mh)
		return max(ex, ey)
	}
	best, bestShift := kmax, shift(kmax)
	for k := kmax; k >= max(1, (kmax+1)/2); k-- {
		s := shift(k)
		if s <= 0.05 {
			return k
		}
		if s < bestShift {
			best, bestShift = k, s
		}
	}
	return best
}
