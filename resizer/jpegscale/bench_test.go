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

// benchFiles returns the largest corpus JPEG and the largest baseline
// (sequential) corpus JPEG, or IMGATE_BENCH_JPEG when set.
func benchFiles(b *testing.B) map[string][]byte {
	b.Helper()
	out := map[string][]byte{}
	if p := os.Getenv("IMGATE_BENCH_JPEG"); p != "" {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		out[filepath.Base(p)] = data
		return out
	}
	var bestAll, bestBase string
	var sizeAll, sizeBase int64
	for _, f := range testenv.CorpusImages(b) {
		if !strings.HasSuffix(strings.ToLower(f), ".jpg") {
			continue
		}
		st, err := os.Stat(f)
		if err != nil {
			b.Fatal(err)
		}
		if st.Size() > sizeAll {
			sizeAll, bestAll = st.Size(), f
		}
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		if cfg, err := DecodeConfig(data); err == nil && !cfg.Progressive && st.Size() > sizeBase {
			sizeBase, bestBase = st.Size(), f
		}
	}
	for _, f := range []string{bestAll, bestBase} {
		if f == "" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		out[filepath.Base(f)] = data
	}
	return out
}

// BenchmarkDecode compares Decode at 1/8, 1/4, 1/2 and 1/1 with
// image/jpeg.Decode on the largest corpus JPEG (progressive) and the
// largest baseline one.
func BenchmarkDecode(b *testing.B) {
	for name, data := range benchFiles(b) {
		b.Run(strings.TrimSuffix(name, ".jpg"), func(b *testing.B) {
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
				b.Run("jpegscale-1_"+string(rune('0'+denom)), func(b *testing.B) {
					b.ReportAllocs()
					b.SetBytes(int64(len(data)))
					for b.Loop() {
						if _, err := DecodeBytes(data, denom, Options{}); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}
