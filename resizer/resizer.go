package resizer

import (
	"context"
	"image"
	"image/color"
	"io"

	"github.com/anthonynsimon/bild/transform"
)

// Resizer renders presets; it is safe for concurrent use.
type Resizer struct {
	limits     Limits
	sem        *weighted
	scaledJPEG bool
	streamPNG  bool
}

// New returns a Resizer with the given options (zero value = defaults).
func New(opts Options) *Resizer {
	n := opts.MaxInFlightBytes
	if n <= 0 {
		n = DefaultMaxInFlightBytes
	}
	return &Resizer{limits: opts.Limits.withDefaults(), sem: newWeighted(n), scaledJPEG: !opts.DisableScaledJPEG, streamPNG: !opts.DisableStreamingPNG}
}

// Source describes the decoded original.
type Source struct {
	Format      string // jpeg, png, gif
	Width       int    // after orientation
	Height      int    // after orientation
	Orientation int    // EXIF orientation 1..8 (1 when absent)
	Frames      int
	// Thumb is the image at most ThumbSize pixels wide or high, averaged
	// from the decode the variants came from (for placeholders).
	Thumb *image.RGBA
}

// Variant is one rendered preset.
type Variant struct {
	Preset      string // preset name
	Width       int
	Height      int
	Format      string // jpeg, png, gif
	ContentType string
	Data        []byte
	// Pixels are the variant's pixels before encoding, kept when the
	// preset has Formats so that EncodeSibling can encode them later.
	Pixels *image.RGBA
	// Anim holds an animated variant's frames instead, kept when the
	// preset has a WebP sibling (animations get no AVIF sibling).
	Anim *Animation
	// Animated is set on an animated variant (Anim may still be nil).
	Animated bool
}

// minIntermediate is how much larger than the largest target the
// box-reduced intermediate stays (bild's Lanczos does the rest).
const minIntermediate = 2

// maxBoxFactor keeps the box sums in uint32.
const maxBoxFactor = 1024

// Resize decodes src once (auto-oriented) and renders every preset from it.
// Limits are checked from the header before any pixel is decoded; the
// estimated memory (Estimate) is reserved from the budget for the whole
// call; ctx reaches the decoders (checked between scans and rows). Errors
// are *Error (permanent), ctx's error (wrapped), or an I/O error reading src.
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
	p, err := r.prepare(data, presets)
	if err != nil {
		return p.source, nil, err
	}
	source = p.source
	var got int64
	defer func() { r.sem.release(got) }()
	if err := r.reserve(ctx, &got, p.cost(p.n, p.ks, r.streamPNG, len(data)).Bytes); err != nil {
		return source, nil, err
	}
	inters, gray, pal, err := r.intermediates(ctx, p, data, &got) // the decoders check ctx first
	if err != nil {
		return source, nil, err
	}
	var raw []byte // an animation's frames are decoded after the stills
	if isAnimated(p.hdr) {
		raw = data
	}
	data = nil //nolint:ineffassign // let the GC take the encoded bytes
	convertColour(p.hdr, inters, gray)
	if m := smallest(inters); m != nil {
		source.Thumb = thumbnail(m, ThumbSize)
	}
	if err := stopped(ctx); err != nil {
		return source, nil, err
	}
	variants, err := render(ctx, presets, p.geoms, p.sizes, inters, defaultOutput(p.hdr), gray, pal)
	if err == nil && raw != nil {
		err = r.animateInBudget(ctx, p, raw, presets, variants, &got)
	}
	return source, variants, err
}

func isGray(m image.Image) bool {
	switch m.(type) {
	case *image.Gray, *image.Gray16:
		return true
	}
	return false
}

// render makes every preset's variant from its intermediate: one Lanczos
// pass per distinct (intermediate, size), then crop and encode.
func render(ctx context.Context, presets []Preset, geoms []Geometry, sizes [][2]int, inters []*image.RGBA, srcFormat string, gray bool, pal color.Palette) ([]Variant, error) {
	type resizeKey struct {
		inter *image.RGBA
		w, h  int
	}
	done := map[resizeKey]*image.RGBA{}
	variants := make([]Variant, 0, len(presets))
	for i, p := range presets {
		if err := stopped(ctx); err != nil {
			return nil, err
		}
		w, h := sizes[i][0], sizes[i][1]
		inter := inters[i]
		// Presets of the same size from the same intermediate (150x and
		// x150 of a square image) share one Lanczos pass.
		key := resizeKey{inter, w, h}
		resized, ok := done[key]
		if !ok {
			if w == inter.Rect.Dx() && h == inter.Rect.Dy() {
				resized = inter
			} else {
				resized = transform.Resize(inter, w, h, lanczos)
			}
			done[key] = resized
		}
		// encode may flatten in place: work on a copy.
		out := image.NewRGBA(resized.Rect)
		copy(out.Pix, resized.Pix)
		if p.Crop && geoms[i].Fill() {
			cw, ch := geoms[i].CropBox(w, h)
			out = crop(out, cw, ch, p.Gravity)
		}
		format := p.Format
		if format == "" {
			format = srcFormat
		}
		var pixels *image.RGBA
		if len(p.Formats) > 0 {
			pixels = image.NewRGBA(out.Rect)
			copy(pixels.Pix, out.Pix)
		}
		b, err := encode(out, format, p, gray, pal)
		if err != nil {
			return nil, newErr(KindUnsupported, err, "cannot encode %s", format)
		}
		variants = append(variants, Variant{
			Preset: p.Name, Width: out.Rect.Dx(), Height: out.Rect.Dy(),
			Format: format, ContentType: ContentType(format), Data: b, Pixels: pixels,
		})
	}
	return variants, nil
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

// intermediates decodes the source once and box-reduces it, for each
// preset, to an oriented premultiplied RGBA intermediate ≥ minIntermediate×
// that preset's size (presets with the same factor share one). gray tells
// that the source was grayscale; pal is a GIF's palette. *got is the
// budget held by the call: a fallback to a full decode grows it.
func (r *Resizer) intermediates(ctx context.Context, p *prepared, data []byte, got *int64) ([]*image.RGBA, bool, color.Palette, error) {
	hdr, ks := p.hdr, p.ks
	var img image.Image
	var pal color.Palette
	if p.n < 8 {
		var err error
		img, err = decodeJPEGScaled(ctx, data, p.n, r.limits.MaxScans)
		if err != nil {
			if e := stopped(ctx); e != nil {
				return nil, false, nil, e
			}
			if IsPermanent(err) {
				return nil, false, nil, err
			}
			// Declined (errJPEGFallback) or found corrupt: image/jpeg decodes
			// it, or gives the reference verdict on a corrupt file.
			img = nil
			_, ks = plan(p.ow, p.oh, p.sizes, false, hdr.orientation)
		}
	}
	if img == nil && hdr.format == "png" && r.streamPNG {
		reduced, gray, err := decodePNGReduced(ctx, data, ks)
		if err == nil {
			out := make([]*image.RGBA, len(ks))
			byK := map[*image.RGBA]*image.RGBA{}
			for i, m := range reduced {
				if byK[m] == nil {
					byK[m] = orient(m, hdr.orientation)
				}
				out[i] = byK[m]
			}
			return out, gray, nil, nil
		}
		if e := stopped(ctx); e != nil {
			return nil, false, nil, e
		}
		// Interlaced (errPNGFallback) or found corrupt: image/png decodes it,
		// or gives the reference verdict on a corrupt file.
	}
	if img == nil {
		if err := r.reserve(ctx, got, p.cost(8, ks, false, len(data)).Bytes); err != nil {
			return nil, false, nil, err
		}
		var err error
		release, err := acquireWASM(ctx, hdr)
		if err != nil {
			return nil, false, nil, err
		}
		defer release() // the decoded pixels alias the module's memory
		img, pal, err = decode(ctx, hdr, data, r.limits.MaxScans)
		if err == nil {
			err = checkDecoded(hdr, &img)
		}
		if err != nil {
			return nil, false, nil, err
		}
	}
	out := make([]*image.RGBA, len(p.sizes))
	byK := map[grid]*image.RGBA{}
	for i, k := range ks {
		if m, ok := byK[k]; ok {
			out[i] = m
			continue
		}
		if err := stopped(ctx); err != nil {
			return nil, false, nil, err
		}
		m := orient(boxReduceGrid(img, k), hdr.orientation)
		byK[k] = m
		out[i] = m
	}
	return out, isGray(img), pal, nil
}
