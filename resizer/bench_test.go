package resizer

import (
	"context"
	"os"
	"testing"
)

// BenchmarkScaledJPEG measures the DCT-scaled decoder on corpus files
// (skipped without the corpus).
func BenchmarkScaledJPEG(b *testing.B) {
	for _, tc := range []struct {
		name string
		n    int
	}{{"j01_kleiber_6028x3391.jpg", 2}, {"j11_elephants_5640x3172.jpg", 2}, {"j02_seeding_5312x2988.jpg", 1}} {
		data, err := os.ReadFile("../../shared/corpus/" + tc.name)
		if err != nil {
			b.Skip("corpus not found")
		}
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := decodeJPEGScaled(context.Background(), data, tc.n, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
