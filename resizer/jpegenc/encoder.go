package jpegenc

import (
	"encoding/binary"
	"image"
)

type encoder struct {
	w, h  int
	comps []*component
	quant [2][64]uint8 // natural order
}

func newEncoder(m image.Image, o Options) *encoder {
	r := m.Bounds()
	e := &encoder{w: r.Dx(), h: r.Dy()}
	e.quant[0] = scaleTable(&baseLuma, o.Quality)
	e.quant[1] = scaleTable(&baseChroma, o.Quality)
	ps := planesOf(m, o.Gray)
	if o.Gray {
		c := &component{id: 1, h: 1, v: 1, bw: (e.w + 7) / 8, bh: (e.h + 7) / 8}
		c.fill(ps[0], &e.quant[0])
		e.comps = []*component{c}
		return e
	}
	sub := o.Subsampling
	if sub == 0 {
		sub = 420
		if e.w <= Small444 && e.h <= Small444 {
			sub = 444
		}
	}
	hy := 1
	if sub == 420 {
		hy = 2
	}
	mcux, mcuy := (e.w+8*hy-1)/(8*hy), (e.h+8*hy-1)/(8*hy)
	for i, p := range ps {
		c := &component{id: uint8(i + 1), h: 1, v: 1, tq: min(i, 1), bw: mcux, bh: mcuy}
		if i == 0 {
			c.h, c.v, c.bw, c.bh = hy, hy, mcux*hy, mcuy*hy
		} else if hy == 2 {
			p = halve(p)
		}
		c.fill(p, &e.quant[c.tq])
		e.comps = append(e.comps, c)
	}
	return e
}

func baselineScans(n int) []scan {
	all := []int{0, 1, 2}[:n]
	return []scan{{comps: all, ss: 0, se: 63}}
}

// progressiveScripts are the progressive scan scripts tried, the first
// being libjpeg's jpeg_simple_progression. On the corpus thumbnails the
// spectral-selection-only scripts and the one luma refinement pass beat it:
// every scan carries its own Huffman tables, which costs more than
// successive approximation saves in a few-kilobyte file. Chroma scans are
// left out for one-component images.
func progressiveScripts(n int) [][]scan {
	dc := []int{0, 1, 2}[:n]
	scripts := [][]scan{
		{
			{comps: dc, ss: 0, se: 0, al: 1},
			{comps: []int{0}, ss: 1, se: 5, al: 2},
			{comps: []int{2}, ss: 1, se: 63, al: 1},
			{comps: []int{1}, ss: 1, se: 63, al: 1},
			{comps: []int{0}, ss: 6, se: 63, al: 2},
			{comps: []int{0}, ss: 1, se: 63, ah: 2, al: 1},
			{comps: dc, ss: 0, se: 0, ah: 1},
			{comps: []int{2}, ss: 1, se: 63, ah: 1},
			{comps: []int{1}, ss: 1, se: 63, ah: 1},
			{comps: []int{0}, ss: 1, se: 63, ah: 1},
		},
		{ // luma in two passes of successive approximation
			{comps: dc, ss: 0, se: 0},
			{comps: []int{0}, ss: 1, se: 63, al: 1},
			{comps: []int{1}, ss: 1, se: 63},
			{comps: []int{2}, ss: 1, se: 63},
			{comps: []int{0}, ss: 1, se: 63, ah: 1},
		},
		{ // spectral selection only
			{comps: dc, ss: 0, se: 0},
			{comps: []int{0}, ss: 1, se: 5},
			{comps: []int{0}, ss: 6, se: 63},
			{comps: []int{1}, ss: 1, se: 63},
			{comps: []int{2}, ss: 1, se: 63},
		},
		{ // one AC scan per component
			{comps: dc, ss: 0, se: 0},
			{comps: []int{0}, ss: 1, se: 63},
			{comps: []int{1}, ss: 1, se: 63},
			{comps: []int{2}, ss: 1, se: 63},
		},
	}
	for i, sc := range scripts {
		kept := sc[:0:0]
		for _, s := range sc {
			if s.comps[0] < n {
				kept = append(kept, s)
			}
		}
		scripts[i] = kept
	}
	return scripts
}

// entropy codes the scans, each with its own optimal Huffman tables, and
// returns the DHT + SOS segments and entropy-coded data of all of them.
func (e *encoder) entropy(scans []scan) []byte {
	var out []byte
	for _, sc := range scans {
		toks := encodeScan(e.comps, sc)
		var freq [4][256]int
		for _, t := range toks {
			if t.tbl >= 0 {
				freq[t.tbl][t.sym]++
			}
		}
		var tables [4]*huffTable
		var dht []byte
		for i := range tables {
			used := false
			for _, f := range freq[i] {
				if f > 0 {
					used = true
					break
				}
			}
			if !used {
				continue
			}
			t := optimalTable(&freq[i])
			tables[i] = t
			class := byte(i / 2) // 0 DC, 1 AC
			dht = append(dht, class<<4|byte(i%2))
			dht = append(dht, t.bits[1:]...)
			dht = append(dht, t.vals...)
		}
		if len(dht) > 0 {
			out = segment(out, 0xc4, dht)
		}
		sos := []byte{byte(len(sc.comps))}
		for _, ci := range sc.comps {
			sel := byte(min(ci, 1))
			sos = append(sos, e.comps[ci].id, sel<<4|sel)
		}
		sos = append(sos, byte(sc.ss), byte(sc.se), byte(sc.ah<<4|sc.al))
		out = segment(out, 0xda, sos)
		bw := bitWriter{out: out}
		for _, t := range toks {
			if t.tbl >= 0 {
				h := tables[t.tbl]
				bw.write(uint32(h.code[t.sym]), uint(h.size[t.sym]))
			}
			bw.write(uint32(t.bits), uint(t.n))
		}
		bw.flush()
		out = bw.out
	}
	return out
}

// segment appends marker 0xFF m with payload p (length-prefixed).
func segment(dst []byte, m byte, p []byte) []byte {
	dst = append(dst, 0xff, m)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(p)+2))
	return append(dst, p...)
}

// file wraps the scans in SOI, DQT, SOF and EOI. No JFIF APP0: three
// components with ids 1, 2, 3 are YCbCr to every decoder (libjpeg's
// default_decompress_parms, Go's image/jpeg), and metadata is stripped.
func (e *encoder) file(dst, scans []byte, progressive bool) []byte {
	dst = append(dst, 0xff, 0xd8)
	ntables := 2
	if len(e.comps) == 1 {
		ntables = 1
	}
	var dqt []byte
	for t := range ntables {
		dqt = append(dqt, byte(t))
		for _, n := range zigzag {
			dqt = append(dqt, e.quant[t][n])
		}
	}
	dst = segment(dst, 0xdb, dqt)
	sof := []byte{8, byte(e.h >> 8), byte(e.h), byte(e.w >> 8), byte(e.w), byte(len(e.comps))}
	for _, c := range e.comps {
		sof = append(sof, c.id, byte(c.h<<4|c.v), byte(c.tq))
	}
	m := byte(0xc0)
	if progressive {
		m = 0xc2
	}
	dst = segment(dst, m, sof)
	dst = append(dst, scans...)
	return append(dst, 0xff, 0xd9)
}
