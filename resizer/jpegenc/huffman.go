package jpegenc

// huffTable is a Huffman table in the form DHT carries it (counts of codes per
// length 1..16 and the symbols in code order) plus the encoder's lookup.
type huffTable struct {
	bits [17]uint8 // bits[l] = number of codes of length l
	vals []uint8   // symbols ordered by code length, then value
	code [256]uint16
	size [256]uint8 // 0 = symbol not in the table
}

// optimalTable builds the length-limited (≤ 16 bits) optimal Huffman table
// for the symbol frequencies, as T.81 Annex K.2 describes: a reserved code
// point keeps any code from being all ones.
func optimalTable(freq *[256]int) *huffTable {
	var f [257]int
	copy(f[:], freq[:])
	f[256] = 1 // the reserved code point
	var codesize [257]int
	var others [257]int
	for i := range others {
		others[i] = -1
	}
	for {
		c1, c2 := -1, -1
		v := int(^uint(0) >> 1)
		for i := range f {
			if f[i] != 0 && f[i] <= v {
				v, c1 = f[i], i
			}
		}
		v = int(^uint(0) >> 1)
		for i := range f {
			if f[i] != 0 && f[i] <= v && i != c1 {
				v, c2 = f[i], i
			}
		}
		if c2 < 0 {
			break
		}
		f[c1] += f[c2]
		f[c2] = 0
		codesize[c1]++
		for others[c1] >= 0 {
			c1 = others[c1]
			codesize[c1]++
		}
		others[c1] = c2
		codesize[c2]++
		for others[c2] >= 0 {
			c2 = others[c2]
			codesize[c2]++
		}
	}
	var bits [33]int
	for _, s := range codesize {
		if s > 0 {
			bits[s]++
		}
	}
	// Limit code lengths to 16 (K.2, figure K.3).
	for i := 32; i > 16; i-- {
		for bits[i] > 0 {
			j := i - 2
			for bits[j] == 0 {
				j--
			}
			bits[i] -= 2
			bits[i-1]++
			bits[j+1] += 2
			bits[j]--
		}
	}
	i := 16
	for bits[i] == 0 {
		i--
	}
	bits[i]-- // drop the reserved code point (it has the longest code)
	t := &huffTable{}
	for l := 1; l <= 16; l++ {
		t.bits[l] = uint8(bits[l])
	}
	for l := 1; l <= 32; l++ {
		for s := range 256 {
			if codesize[s] == l {
				t.vals = append(t.vals, uint8(s))
			}
		}
	}
	t.vals = t.vals[:countCodes(t)]
	t.assign()
	return t
}

func countCodes(t *huffTable) int {
	n := 0
	for l := 1; l <= 16; l++ {
		n += int(t.bits[l])
	}
	return n
}

// assign computes the canonical codes from bits and vals (T.81 C.2).
func (t *huffTable) assign() {
	code, k := uint16(0), 0
	for l := 1; l <= 16; l++ {
		for range int(t.bits[l]) {
			s := t.vals[k]
			t.code[s], t.size[s] = code, uint8(l)
			code++
			k++
		}
		code <<= 1
	}
}
