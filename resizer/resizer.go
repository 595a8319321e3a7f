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
	"math"

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

	type resizeKey struct {
		inter *image.RGBA
		w, h  int
	}
	done := map[resizeKey]*image.RGBA{}
	variants := make([]Variant, 0, len(presets))
	for i, p := range presets {
		if err := ctx.Err(); err != nil {
			return source, nil, err
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
		perPx = 5 // the paletted frame, plus an RGBA screen when the frame is smaller
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
		if m, ok := decodeJPEGFull(data); ok {
			img = m
		} else {
			img, err = jpeg.Decode(rd)
		}
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

// plan picks how to get from the source (ow×oh after orientation) to the
// intermediates of the final Lanczos pass: one JPEG DCT scale n/8 (n = 1,
// 2, 4; 8 = full decode), then per preset a box grid (integer factor k and
// edge offsets), so that each intermediate stays ≥ minIntermediate× its
// target (bild's Lanczos cost grows with the intermediate, so k is as large
// as allowed). The smallest n, and per preset the largest k, whose partial
// edge blocks misplace the result by at most maxShift output pixels: an
// intermediate covers whole blocks while the output stands for exactly W
// source pixels, so the final pass scales by a slightly wrong ratio; that
// misalignment costs PSNR on detailed photos (33 dB instead of 50 on j05
// at 0.28 px). Offsetting the grid splits the excess between both edges.
// The grid is in stored (not oriented) coordinates: for orientations 5–8
// the sides swap.
func plan(ow, oh int, sizes [][2]int, scalable bool, orientation int) (n int, gs []grid) {
	gs = make([]grid, len(sizes))
	swap := orientation >= 5 && orientation <= 8
	for _, n := range []int{1, 2, 4, 8} {
		if n < 8 && !scalable {
			continue
		}
		ok := true
		for i, s := range sizes {
			g, shift := bestGrid(ow, oh, n, s[0], s[1])
			if n < 8 && (g.k < 1 || shift > maxShift) {
				ok = false
				break
			}
			g.k = max(g.k, 1)
			if swap {
				g.offX, g.offY = g.offY, g.offX
			}
			gs[i] = g
		}
		if ok {
			return n, gs
		}
	}
	return 8, gs
}

// align returns the grid offset (in decoded pixels) for a side of s decoded
// pixels, each unit source pixels, standing for src source pixels, reduced
// by k, and the worst misplacement at either edge in source pixels.
func align(s, k int, unit float64, src int) (int, float64) {
	bestOff, bestErr := 0, math.Inf(1)
	excess := float64((s+k-1)/k*k)*unit - float64(src)
	c := int(math.Round(excess / (2 * unit)))
	for _, off := range []int{c - 1, c, c + 1} {
		if off < 0 || off >= k {
			continue
		}
		blocks := (s + off + k - 1) / k
		left := float64(off) * unit
		right := float64(blocks*k-off)*unit - float64(src)
		if e := max(left, math.Abs(right)); e < bestErr {
			bestOff, bestErr = off, e
		}
	}
	return bestOff, bestErr
}

// bestGrid returns the grid for one target (w×h) from a source of ow×oh
// decoded at n/8, and the misplacement it causes in output pixels; k = 0
// when even k = 1 leaves less than minIntermediate× the target.
func bestGrid(ow, oh, n, w, h int) (grid, float64) {
	sw, sh := (ow*n+7)/8, (oh*n+7)/8
	unit := 8 / float64(n)
	kmax := min(maxBoxFactor, sw/(minIntermediate*w), sh/(minIntermediate*h))
	at := func(k int) (grid, float64) {
		ox, ex := align(sw, k, unit, ow)
		oy, ey := align(sh, k, unit, oh)
		return grid{k: k, offX: ox, offY: oy}, max(ex/float64(ow)*float64(w), ey/float64(oh)*float64(h))
	}
	if kmax < 1 {
		g, s := at(1)
		g.k = 0
		return g, s
	}
	best, bestShift := at(kmax)
	for k := kmax; k >= 1; k-- {
		g, s := at(k)
		if s <= maxShift {
			return g, s
		}
		if s < bestShift {
			best, bestShift = g, s
		}
	}
	return best, bestShift
}

// maxShift is the largest accepted misalignment, in output pixels.
const maxShift = 0.125

// checkDecoded verifies the decoded bounds against the header; a GIF frame
// smaller than the logical screen is placed on a transparent screen.
func checkDecoded(hdr header, img *image.Image) error {
	b := (*img).Bounds()
	if b == image.Rect(0, 0, hdr.width, hdr.height) {
		return nil
	}
	if hdr.format != "gif" {
		return newErr(KindCorrupt, nil, "corrupt image: decoded size differs from the header")
	}
	screen := image.NewRGBA(image.Rect(0, 0, hdr.width, hdr.height))
	draw.Draw(screen, b, *img, b.Min, draw.Over)
	*img = screen
	return nil
}

// streamCost estimates the memory of decodePNGReduced: the reduced
// outputs plus a few rows.
func streamCost(h header, ks []grid, encoded int) int64 {
	c := int64(16*h.width) + int64(encoded) + 64<<10
	seen := map[grid]bool{}
	for _, g := range ks {
		if !seen[g] {
			seen[g] = true
			w, h := g.size(h.width, h.height)
			c += int64(w) * int64(h) * 4
		}
	}
	return c
}

// scaledCost estimates the memory of decodeJPEGScaled.
func scaledCost(h header, n, encoded int) int64 {
	blocks := int64((h.width+7)/8) * int64((h.height+7)/8)
	per := int64(n * n) // output bytes per block per plane
	if h.progressive {
		per += int64(2*n*n + 8)
	}
	return blocks*int64(max(1, h.comps))*per + int64(encoded)
}
