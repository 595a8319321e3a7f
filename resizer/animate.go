package resizer

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/color/palette"
	"image/draw"
	"image/gif"
	"slices"

	"github.com/anthonynsimon/bild/transform"
)

// Animated GIF and WebP originals give animated GIF variants: every frame
// composited on the canvas (disposal and blending handled), resized and
// cropped like the still, with the source's delays and loop count. A
// preset with "animated": false, or one whose format is not GIF, gets the
// first frame (the still path). When the frames do not fit the memory
// budget the variants stay stills.

// isAnimated reports whether a source's frames are rendered as animations.
func isAnimated(h header) bool {
	return h.frames > 1 && (h.format == "gif" || h.format == "webp")
}

// wantsAnimation reports whether preset p renders an animated source as an
// animation (its output format is GIF and it does not opt out).
func wantsAnimation(p Preset, out string) bool {
	return (p.Animated == nil || *p.Animated) && out == "gif"
}

// animCost estimates the memory of rendering the frames: the decoded
// frames (libwebp's composited canvases, or GIF's paletted frames plus two
// canvases) and the resized frames of every animated preset.
func animCost(h header, sizes [][2]int) int64 {
	px := int64(h.width) * int64(h.height)
	c := px * int64(h.frames)
	if h.format == "webp" {
		c *= 8 // RGBA in linear memory and in Go
	}
	c += 3 * 4 * px
	for _, s := range sizes {
		c += int64(h.frames) * int64(s[0]) * int64(s[1]) * 5
	}
	return c
}

// keepsFrames reports whether an animated preset's resized frames are kept
// for its animated WebP sibling.
func keepsFrames(p Preset) bool { return slices.Contains(p.Formats, "webp") }

// decodeAnimation decodes every frame of an animated GIF or WebP,
// calling emit with each composited canvas (valid during the call).
func decodeAnimation(ctx context.Context, h header, data []byte, emit func(i int, canvas *image.RGBA, pal color.Palette) error) (delays []int, loop int, err error) {
	if h.format == "webp" {
		frames, err := decodeWebPFrames(data)
		if err != nil {
			return nil, 0, err
		}
		for i, f := range frames {
			if err := stopped(ctx); err != nil {
				return nil, 0, err
			}
			canvas := image.NewRGBA(f.Bounds())
			draw.Draw(canvas, canvas.Rect, f, f.Bounds().Min, draw.Src)
			if err := emit(i, canvas, nil); err != nil {
				return nil, 0, err
			}
			delays = append(delays, (h.delays[min(i, len(h.delays)-1)]+5)/10)
		}
		switch h.loop {
		case 0:
			loop = 0
		case 1:
			loop = -1
		default:
			loop = h.loop - 1
		}
		return delays, loop, nil
	}
	g, err := gif.DecodeAll(&ctxReader{ctx: ctx, r: bytes.NewReader(data)})
	if err != nil {
		if e := stopped(ctx); e != nil {
			return nil, 0, e
		}
		return nil, 0, classify("gif", err)
	}
	canvas := image.NewRGBA(image.Rect(0, 0, h.width, h.height))
	for i, fr := range g.Image {
		if err := stopped(ctx); err != nil {
			return nil, 0, err
		}
		var saved *image.RGBA
		if g.Disposal[i] == gif.DisposalPrevious {
			saved = image.NewRGBA(canvas.Rect)
			copy(saved.Pix, canvas.Pix)
		}
		draw.Draw(canvas, fr.Bounds(), fr, fr.Bounds().Min, draw.Over)
		if err := emit(i, canvas, fr.Palette); err != nil {
			return nil, 0, err
		}
		switch g.Disposal[i] {
		case gif.DisposalBackground:
			draw.Draw(canvas, fr.Bounds(), image.Transparent, image.Point{}, draw.Src)
		case gif.DisposalPrevious:
			canvas = saved
		}
	}
	return g.Delay, g.LoopCount, nil
}

// animateInBudget runs animate with its memory reserved on top of the
// call's; when that is more than the whole budget the variants stay stills.
func (r *Resizer) animateInBudget(ctx context.Context, p *prepared, data []byte, presets []Preset, variants []Variant, got *int64) error {
	want := *got + animCost(p.hdr, p.sizes)
	for i, ps := range presets {
		if keepsFrames(ps) { // the RGBA frames kept for the WebP sibling
			want += int64(p.hdr.frames) * int64(p.sizes[i][0]) * int64(p.sizes[i][1]) * 4
		}
	}
	if r.fits(want) != nil {
		return nil
	}
	if err := r.reserve(ctx, got, want); err != nil {
		return err
	}
	release, err := acquireWASM(ctx, p.hdr)
	if err != nil {
		return err
	}
	defer release()
	return r.animate(ctx, p, data, presets, variants)
}

// animate replaces the still variants of the presets that want an
// animation with animated GIFs rendered from every frame. sizes are the
// presets' target sizes.
func (r *Resizer) animate(ctx context.Context, p *prepared, data []byte, presets []Preset, variants []Variant) error {
	h := p.hdr
	var idx []int
	for i, ps := range presets {
		if wantsAnimation(ps, variants[i].Format) {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return nil
	}
	tr := sourceColour(h)
	outs := make([][]*image.Paletted, len(presets))
	kept := make([][]*image.RGBA, len(presets)) // for WebP siblings
	emit := func(_ int, canvas *image.RGBA, pal color.Palette) error {
		src := orient(canvas, h.orientation)
		for _, i := range idx {
			w, hh := p.sizes[i][0], p.sizes[i][1]
			m := transform.Resize(src, w, hh, lanczos)
			if tr != nil {
				tr.ApplyRGBA(m.Pix)
			}
			if presets[i].Crop && p.geoms[i].Fill() {
				cw, ch := p.geoms[i].CropBox(w, hh)
				m = crop(m, cw, ch, presets[i].Gravity)
			}
			outs[i] = append(outs[i], quantize(m, pal))
			if keepsFrames(presets[i]) {
				kept[i] = append(kept[i], m)
			}
		}
		return nil
	}
	delays, loop, err := decodeAnimation(ctx, h, data, emit)
	if err != nil {
		return err
	}
	for _, i := range idx {
		frames := outs[i]
		g := &gif.GIF{Image: frames, Delay: delays[:len(frames)], LoopCount: loop, Disposal: make([]byte, len(frames))}
		for k := range g.Disposal {
			g.Disposal[k] = gif.DisposalBackground // full frames: clear, so transparency shows the background
		}
		var buf bytes.Buffer
		if err := gif.EncodeAll(&buf, g); err != nil {
			return newErr(KindUnsupported, err, "cannot encode the animation")
		}
		variants[i].Data = buf.Bytes()
		variants[i].Width, variants[i].Height = frames[0].Rect.Dx(), frames[0].Rect.Dy()
		variants[i].Pixels = nil // the still's pixels: no sibling may show the first frame only
		variants[i].Animated = true
		if kept[i] != nil {
			variants[i].Anim = &Animation{Frames: kept[i], Delays: g.Delay, Loop: loop}
		}
	}
	return nil
}

// quantize maps a premultiplied frame to pal (the source frame's palette),
// or to Plan 9's with a transparent entry, with Floyd-Steinberg dithering.
func quantize(m *image.RGBA, pal color.Palette) *image.Paletted {
	if len(pal) == 0 || len(pal) > 256 {
		pal = append(color.Palette{color.RGBA{}}, palette.Plan9[:255]...)
	}
	out := image.NewPaletted(m.Rect, pal)
	draw.FloydSteinberg.Draw(out, m.Rect, m, image.Point{})
	return out
}
