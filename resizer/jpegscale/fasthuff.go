package jpegscale

import (
	"bytes"
	"encoding/binary"
)

// fastBits is the lookahead of the sequential decoder's combined tables.
const fastBits = 10

// A fast entry resolves one fastBits-bit lookahead of a sequential scan in
// a single probe: the code's length and, when they fit in the same
// lookahead, the value bits that follow it. Packed in a uint32 so that the
// hot loops keep it in a register:
//
//	bits 0-4   used: bits the probe consumes; 0: the code is longer than fastBits
//	bits 5-9   extra: value bits after the probe's (the size, when they did not fit)
//	bits 10-14 adv (AC): zig-zag positions advanced: run+1, 16 for ZRL, 0 for EOB
//	bit 15     coef (AC): the symbol carries a coefficient (size > 0)
//	bits 16-31 val: the sign-extended value when extra = 0
//
// The skip table holds, for the loops that only need to stay in sync, the
// total length (code + value bits, bits 0-7) and adv | coef<<5 (bits 8-13).
const (
	fUsed  = 31
	fExtra = 5
	fAdv   = 10
	fCoef  = 1 << 15
	fVal   = 16
)

func packFast(used, extra, adv int, coef bool, val int32) uint32 {
	e := uint32(used) | uint32(extra)<<fExtra | uint32(adv)<<fAdv | uint32(uint16(int16(val)))<<fVal
	if coef {
		e |= fCoef
	}
	return e
}

// skipOf converts a fast entry to its skip form.
func skipOf(e uint32) uint16 {
	return uint16(e&fUsed+e>>fExtra&31) | uint16(e>>fAdv&63)<<8
}

// symEnt describes a Huffman symbol as a fast entry with all its value
// bits extra. An AC symbol RS is run R, size S; S = 0 is EOB, or ZRL for
// R = 15 (T.81 F.1.2.2). ok is false for a DC category over 16.
func symEnt(sym uint8, l int, ac bool) (used, size, adv int, coef, ok bool) {
	if !ac {
		return l, int(sym), 0, false, sym <= 16
	}
	r, s := int(sym>>4), int(sym&15)
	switch {
	case s != 0:
		adv, coef = r+1, true
	case r == 15:
		adv = 16
	}
	return l, s, adv, coef, true
}

// buildFast fills t.fast and t.skip from the canonical code (after build).
// DC categories over 16 are left to the slow path, which rejects them.
func (t *huffTable) buildFast(ac bool) {
	t.fast = [1 << fastBits]uint32{}
	t.skip = [1 << fastBits]uint16{}
	for l := 1; l <= fastBits; l++ {
		if t.maxcode[l] < 0 {
			continue
		}
		for c := t.mincode[l]; c <= t.maxcode[l]; c++ {
			used, size, adv, coef, ok := symEnt(t.vals[(t.valptr[l]+c-t.mincode[l])&255], l, ac)
			if !ok {
				continue
			}
			shift := fastBits - l
			for j := 0; j < 1<<shift; j++ {
				e := packFast(used, size, adv, coef, 0)
				if size > 0 && size <= shift {
					v := extend(int32(j>>(shift-size))&(1<<size-1), uint8(size))
					e = packFast(used+size, 0, adv, coef, v)
				}
				t.fast[int(c)<<shift|j] = e
				t.skip[int(c)<<shift|j] = skipOf(e)
			}
		}
	}
}

// slowEnt decodes a code longer than fastBits from the top 16 bits of acc
// and returns it as a fast entry whose value bits are all extra.
//
//go:noinline
func (t *huffTable) slowEnt(acc uint64, ac bool) (uint32, bool) {
	code := int32(acc >> 48)
	for l := fastBits + 1; l <= 16; l++ {
		c := code >> (16 - l)
		if c > t.maxcode[l] {
			continue
		}
		used, size, adv, coef, ok := symEnt(t.vals[(t.valptr[l]+c-t.mincode[l])&255], l, ac)
		return packFast(used, size, adv, coef, 0), ok
	}
	return 0, false
}

// extend sign-extends the s-bit value v (T.81 F.2.2.1 EXTEND).
func extend(v int32, s uint8) int32 {
	if s > 0 && v < 1<<(s-1) {
		v += -1<<s + 1
	}
	return v
}

const (
	// ecsChunk is how many unstuffed bytes ecsReader holds at most.
	ecsChunk = 64 << 10
	// ecsReserve exceeds the bytes one MCU can consume: at most 10 blocks
	// of a DC code and value (32 bits) and 63 AC probes of at most 31 bits,
	// 2482 bytes, plus the 8 bytes of a load.
	ecsReserve = 4096
)

// ecsReader feeds the entropy-coded data of a sequential scan to the
// decoder with the byte stuffing already removed: chunks of the file are
// copied into buf, 0xFF00 becoming 0xFF, up to the next marker. The bit
// accumulator is then refilled without looking at the bytes: one 8-byte
// load, branch-free. Past a marker (or the end of the file) buf holds
// zeros, so a truncated scan reads zero bits; overrun reports when any of
// those was consumed.
type ecsReader struct {
	src  []byte
	sp   int    // next byte of src to unstuff
	done bool   // unstuffing stopped at a marker (src[sp] = 0xFF) or at the end of src
	buf  []byte // len ecsChunk + ecsReserve
	end  int    // unstuffed bytes in buf
	pos  int    // next byte of buf to load into acc
	acc  uint64 // the top n bits are the scan's next bits
	n    uint
}

// reset starts reading entropy-coded data at src[sp].
func (r *ecsReader) reset(src []byte, sp int) {
	if r.buf == nil {
		r.buf = make([]byte, ecsChunk+ecsReserve)
	}
	r.src, r.sp, r.done = src, sp, false
	r.end, r.pos, r.acc, r.n = 0, 0, 0, 0
	r.fill()
}

// fill moves the unread bytes to the front of buf and unstuffs more of
// src behind them, up to ecsChunk bytes or the next marker.
func (r *ecsReader) fill() {
	r.end = copy(r.buf, r.buf[r.pos:r.end])
	r.pos = 0
	for r.end < ecsChunk && !r.done {
		rest := r.src[r.sp:]
		i := bytes.IndexByte(rest, 0xFF)
		if i < 0 {
			i = len(rest)
		}
		if room := ecsChunk - r.end; i > room {
			r.end += copy(r.buf[r.end:], rest[:room])
			r.sp += room
			break
		}
		r.end += copy(r.buf[r.end:], rest[:i])
		r.sp += i
		if r.sp+1 < len(r.src) && r.src[r.sp+1] == 0 {
			r.buf[r.end] = 0xFF
			r.end++
			r.sp += 2
			continue
		}
		r.done = true // a marker, or the end of src
	}
	if r.done {
		clear(r.buf[r.end : r.end+ecsReserve])
	}
}

// need keeps at least ecsReserve unstuffed bytes ahead of pos unless the
// scan's data ends sooner. Called before every MCU.
func (r *ecsReader) need() {
	if !r.done && r.end-r.pos < ecsReserve {
		r.fill()
	}
}

// overrun reports whether bits past the end of the data were consumed.
func (r *ecsReader) overrun() bool {
	return r.done && 8*r.pos-int(r.n) > 8*r.end
}

// refill tops the accumulator up to at least 56 bits (Giesen's branch-free
// refill: the bytes already partly in acc are or-ed in again unchanged).
func refill(buf []byte, acc uint64, n uint, pos int) (uint64, uint, int) {
	acc |= binary.BigEndian.Uint64(buf[pos:]) >> n
	return acc, n | 56, pos + int((63-n)>>3)
}
