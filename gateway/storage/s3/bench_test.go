package s3_test

import (
	"fmt"
	"io"
	"testing"

	"github.com/imgate/imgate/gateway/storage"
	"github.com/imgate/imgate/gateway/storage/s3"
	"github.com/imgate/imgate/internal/testenv"
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

// BenchmarkPut streams 64 MiB objects to a real MinIO; B/op shows the
// memory a put allocates (bounded by PartSize for unknown sizes).
func BenchmarkPut(b *testing.B) {
	m := testenv.StartMinIO(b)
	s, err := s3.New(b.Context(), s3.Config{Endpoint: m.Endpoint, Region: "us-east-1", AccessKey: m.AccessKey, SecretKey: m.SecretKey, PathStyle: true})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.EnsureBucket(b.Context(), "bench"); err != nil {
		b.Fatal(err)
	}
	const size = 64 << 20
	for _, declared := range []int64{size, -1} {
		b.Run(fmt.Sprintf("size=%d", declared), func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Put(b.Context(), "bench", "obj", &zeroReader{size}, declared, storage.PutOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
