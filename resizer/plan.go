package resizer

import (
	"math"
)

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
