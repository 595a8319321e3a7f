package resizer

import (
	"bytes"
	"io"
	"testing"
)

// onlyRead hides every method of its reader but Read.
type onlyRead struct{ io.Reader }

// sizedRead is a plain reader that states its length (resizer.Sized).
type sizedRead struct {
	io.Reader
	n int64
}

func (s sizedRead) Size() int64 { return s.n }

// TestReadLimitedSized: a source that states its size is read into one
// buffer of that size — about half the bytes an unsized source of 8 MiB
// costs while its buffer doubles — and the limit still holds.
func TestReadLimitedSized(t *testing.T) {
	data := bytes.Repeat([]byte{0xAB}, 8<<20)
	allocated := func(mk func() io.Reader) uint64 {
		res := testing.Benchmark(func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				got, err := readLimited(mk(), 16<<20)
				if err != nil || len(got) != len(data) {
					b.Fatalf("readLimited: %d bytes, %v", len(got), err)
				}
			}
		})
		return uint64(res.AllocedBytesPerOp())
	}
	sized := allocated(func() io.Reader { return sizedRead{onlyRead{bytes.NewReader(data)}, int64(len(data))} })
	unsized := allocated(func() io.Reader { return onlyRead{bytes.NewReader(data)} })
	if sized > uint64(len(data))+64<<10 {
		t.Errorf("sized source: %d bytes allocated for %d bytes read", sized, len(data))
	}
	if unsized < sized*3/2 {
		t.Errorf("unsized source allocated %d bytes, sized %d: the test no longer shows the difference", unsized, sized)
	}
	t.Logf("8 MiB read: %d bytes allocated with a stated size, %d without", sized, unsized)

	// A stated size never lifts the limit.
	if _, err := readLimited(sizedRead{onlyRead{bytes.NewReader(data)}, 10}, 1<<20); KindOf(err) != KindTooLarge {
		t.Errorf("over the limit with a small stated size: %v, want too large", err)
	}
}
