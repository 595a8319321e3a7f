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

	// Target sizes, then the decode plan: a JPEG is decoded at n/8 scale in
	// the DCT domain when that still leaves ≥ minIntermediate× every target.
	sizes := make([][2]int, len(presets))
	geoms := make([]Geometry, len(presets))
	for i, p := range presets {
		g, _ := ParseGeometry(p.Geometry) // validated above
		geoms[i] = g
		w, h := g.Size(ow, oh)
		sizes[i] = [2]int{w, h}
	}
	inters, gray, pal, err := r.intermediates(ctx, hdr, data, ow, oh, sizes)
	if err != nil {
		return source, nil, err
	}
	data = nil //nolint:ineffassign // let the GC take the encoded bytes
	if err := ctx.Err(); err != nil {
		return source, nil, err
	}

	variants, err := render(ctx, presets, geoms, sizes, inters, hdr.format, gray, pal)
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
		if err := ctx.Err(); err != nil {
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
				resized = transform.Resize(inter, w, h, transform.Lanczos)
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
		b, err := encode(out, format, p, gray, pal)
		if err != nil {
			return nil, newErr(KindUnsupported, err, "cannot encode %s", format)
		}
		variants = append(variants, Variant{
			Preset: p.Name, Width: out.Rect.Dx(), Height: out.Rect.Dy(),
			Format: format, ContentType: ContentType(format), Data: b,
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

// intermediates decodes the source once (holding its share of the memory
// budget meanwhile) and box-reduces it, for each preset, to an oriented
// premultiplied RGBA intermediate ≥ minIntermediate× that preset's size
// (presets with the same factor share one). gray tells that the source was
// grayscale; pal is a GIF's palette.
func (r *Resizer) intermediates(ctx context.Context, hdr header, data []byte, ow, oh int, sizes [][2]int) ([]*image.RGBA, bool, color.Palette, error) {
	n, ks := plan(ow, oh, sizes, hdr.format == "jpeg" && r.scaledJPEG, hdr.orientation)
	var img image.Image
	var pal color.Palette
	var got int64
	if n < 8 {
		var err error
		got, err = r.sem.acquire(ctx, scaledCost(hdr, n, len(data)))
		if err != nil {
			return nil, false, nil, err
		}
		img, err = decodeJPEGScaled(data, n)
		if err != nil {
			// Declined (errJPEGFallback) or found corrupt: image/jpeg decodes
			// it, or gives the reference verdict on a corrupt file.
			r.sem.release(got)
			img = nil
			_, ks = plan(ow, oh, sizes, false, hdr.orientation)
		}
	}
	if img == nil && hdr.format == "png" && r.streamPNG {
		got, err := r.sem.acquire(ctx, streamCost(hdr, ks, len(data)))
		if err != nil {
			return nil, false, nil, err
		}
		reduced, gray, err := decodePNGReduced(data, ks)
		r.sem.release(got)
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
		if ctx.Err() != nil {
			return nil, false, nil, ctx.Err()
		}
		// Interlaced (errPNGFallback) or found corrupt: image/png decodes it,
		// or gives the reference verdict on a corrupt file.
	}
	if img == nil {
		var err error
		got, err = r.sem.acquire(ctx, decodeCost(hdr, len(data)))
		if err != nil {
			return nil, false, nil, err
		}
		img, pal, err = decode(hdr.format, data)
		if err == nil {
			err = checkDecoded(hdr, &img)
		}
		if err != nil {
			r.sem.release(got)
			return nil, false, nil, err
		}
	}
	defer r.sem.release(got)
	out := make([]*image.RGBA, len(sizes))
	byK := map[grid]*image.RGBA{}
	for i, k := range ks {
		if m, ok := byK[k]; ok {
			out[i] = m
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, false, nil, err
		}
		m := orient(boxReduceGrid(img, k), hdr.orientation)
		byK[k] = m
		out[i] = m
	}
	return out, isGray(img), pal, nil
}
