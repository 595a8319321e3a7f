package resizer

// The cost of a job, from the header: the memory it reserves from the
// budget for its whole run, decided before any pixel is decoded.

import "context"

// Cost is what rendering a source is expected to take.
type Cost struct {
	// Bytes is the estimated peak memory: decode buffers (or streamed
	// rows), the box-reduced intermediates, the resized variants and their
	// copies, and the encoded source (twice: the buffer it is read into
	// grows by doubling). It is reserved from the memory budget
	// (Options.MaxInFlightBytes) while Resize runs.
	Bytes int64
	// Pixels is the number of source samples decoded (at the chosen DCT
	// scale): a proxy for the CPU time.
	Pixels int64
	// Scans is the number of JPEG scans (each one walks every block).
	Scans int
	// Scale is the JPEG DCT scale of the decode, Scale/8 (8: full size,
	// and for every other format).
	Scale int
}

// prepared is a source whose header passed the limits, with its plan.
type prepared struct {
	hdr    header
	source Source
	ow, oh int // oriented size
	sizes  [][2]int
	geoms  []Geometry
	n      int    // JPEG DCT scale n/8 (8: full decode)
	ks     []grid // per preset, in decoded (stored) coordinates
}

// prepare reads the header, checks every limit and plans the decode.
// presets must be validated.
func (r *Resizer) prepare(data []byte, presets []Preset) (*prepared, error) {
	p := &prepared{}
	hdr, err := r.inspect(data)
	if err != nil {
		return p, err
	}
	p.hdr = hdr
	p.ow, p.oh = orientedSize(hdr.width, hdr.height, hdr.orientation)
	p.source = Source{Format: hdr.format, Width: p.ow, Height: p.oh, Orientation: hdr.orientation, Frames: hdr.frames}
	p.sizes = make([][2]int, len(presets))
	p.geoms = make([]Geometry, len(presets))
	for i, ps := range presets {
		g, _ := ParseGeometry(ps.Geometry) // validated
		p.geoms[i] = g
		w, h := g.Size(p.ow, p.oh)
		p.sizes[i] = [2]int{w, h}
	}
	if err := r.checkBounds(hdr, p.ow, p.oh, p.sizes, presets); err != nil {
		return p, err
	}
	// A JPEG is decoded at n/8 scale in the DCT domain when that still
	// leaves ≥ minIntermediate× every target.
	p.n, p.ks = plan(p.ow, p.oh, p.sizes, hdr.format == "jpeg" && r.scaledJPEG, hdr.orientation)
	return p, nil
}

// Estimate returns the cost of rendering presets from data (the encoded
// source; the headers are enough, but JPEG scans are counted in the bytes
// given), or the *Error Resize refuses it with before decoding.
func (r *Resizer) Estimate(data []byte, presets []Preset) (Cost, error) {
	presets, err := ValidatePresets(presets)
	if err != nil {
		return Cost{}, err
	}
	p, err := r.prepare(data, presets)
	if err != nil {
		return Cost{}, err
	}
	c := p.cost(p.n, p.ks, r.streamPNG, len(data))
	return c, r.fits(c.Bytes)
}

// cost estimates the job decoded at n/8 with box grids ks; stream tells
// that a PNG is streamed row by row.
func (p *prepared) cost(n int, ks []grid, stream bool, encoded int) Cost {
	h := p.hdr
	dw, dh := (h.width*n+7)/8, (h.height*n+7)/8
	c := Cost{Pixels: int64(dw) * int64(dh) * int64(max(1, h.comps)), Scans: h.scans, Scale: n}
	streamed := stream && h.format == "png" && !h.interlaced
	switch {
	case n < 8:
		c.Bytes = scaledCost(h, n, encoded)
	case streamed:
		c.Bytes = streamCost(h, ks, encoded) // includes the intermediates
	default:
		c.Bytes = decodeCost(h, encoded)
	}
	// The encoded source is counted once above; reading it whole
	// (bytes.Buffer doubling) leaves up to as much again allocated.
	c.Bytes += int64(encoded)
	seen := map[grid]bool{}
	for i, g := range ks {
		iw, ih := g.size(dw, dh)
		if !seen[g] {
			seen[g] = true
			inter := int64(iw) * int64(ih) * 4
			if !streamed {
				c.Bytes += inter
			}
			if h.orientation > 1 {
				c.Bytes += inter // orient makes a copy
			}
		}
		// bild's Lanczos: a horizontal pass (w × ih) then the variant,
		// copied once more before encoding; the encoder's buffers are
		// smaller than one more copy.
		w, hh := int64(p.sizes[i][0]), int64(p.sizes[i][1])
		c.Bytes += 4*w*int64(ih) + 3*4*w*hh
	}
	return c
}

// reserve makes the budget held (*got) at least want: it gives back what is
// held and waits for the larger amount (asking for more while holding
// could deadlock two calls waiting for each other). A job that needs more
// than the whole budget is refused: no wait would make it fit.
func (r *Resizer) reserve(ctx context.Context, got *int64, want int64) error {
	if want <= *got {
		return nil
	}
	if err := r.fits(want); err != nil {
		return err
	}
	r.sem.release(*got)
	*got = 0
	n, err := r.sem.acquire(ctx, want)
	if err != nil {
		return stopped(ctx)
	}
	*got = n
	return nil
}

// fits refuses a cost over the whole memory budget.
func (r *Resizer) fits(bytes int64) error {
	if bytes > r.sem.size {
		return newErr(KindTooLarge, ErrOverBudget,
			"image too large: decoding it needs about %d MB, more than the %d MB memory budget (refused before decoding)",
			(bytes+1<<20-1)>>20, r.sem.size>>20)
	}
	return nil
}
