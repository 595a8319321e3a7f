package jpegscale

import (
	"bytes"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgate/imgate/internal/testenv"
)

// largestCorpusJPEG returns the biggest JPEG of the corpus (or of
// IMGATE_BENCH_JPEG when set).
func largestCorpusJPEG(b *testing.B) (string, []byte) {
	b.Helper()
	path := os.Getenv("IMGATE_BENCH_JPEG")
	if path == "" {
		var best int64
		for _, f := range testenv.CorpusImages(b) {
			if !strings.HasSuffix(strings.ToLower(f), ".jpg") {
				continue
			}
			if st, err := os.Stat(f); err == nil && st.Size() > best {
				best, path = st.Size(), f
			}
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	return filepath.Base(path), data
}

// BenchmarkDecode compares Decode at 1/8, 1/4, 1/2 and 1/1 with
// image/jpeg.Decode on the largest corpus JPEG.
func BenchmarkDecode(b *testing.B) {
	name, data := largestCorpusJPEG(b)
	b.Logf("file %s (%d bytes)", name, len(data))
	b.Run("image-jpeg", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, denom := range []int{8, 4, 2, 1} {
		b.Run("jpegscale-1/"+string(rune('0'+denom)), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := DecodeBytes(data, denom, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
