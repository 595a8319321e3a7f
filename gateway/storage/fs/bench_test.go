package fs_test

import (
	"fmt"
	"io"
	"testing"

	"github.com/imgate/imgate/gateway/storage"
)

// zeroReader yields n bytes without holding them.
type zeroReader struct{ n int64 }

func (z *zeroReader) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), z.n)]
	clear(p)
	z.n -= int64(len(p))
	return len(p), nil
}

// BenchmarkPut measures streaming puts (write, MD5, fsync, rename).
func BenchmarkPut(b *testing.B) {
	for _, size := range []int64{64 << 10, 8 << 20} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			s := newStoreB(b)
			b.SetBytes(size)
			for i := 0; b.Loop(); i++ {
				if _, err := s.Put(b.Context(), "bench", fmt.Sprintf("k/%d", i%16), &zeroReader{size}, size, storage.PutOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkList measures listing a bucket of 2000 keys in two levels.
func BenchmarkList(b *testing.B) {
	s := newStoreB(b)
	for i := range 2000 {
		if _, err := s.Put(b.Context(), "bench", fmt.Sprintf("d%02d/k%04d", i%20, i), &zeroReader{10}, 10, storage.PutOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		n := 0
		for _, err := range s.List(b.Context(), "bench", storage.ListOptions{}) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != 2000 {
			b.Fatalf("listed %d", n)
		}
	}
}
