package resizer

import (
	"math"
	"testing"

	"github.com/anthonynsimon/bild/transform"
)

// TestLanczosTable compares the tabulated kernel with bild's over its
// support, at the table's points and between them.
func TestLanczosTable(t *testing.T) {
	worst := 0.0
	for i := -300000; i <= 300000; i++ {
		x := float64(i) / 100000 * 1.0000003
		d := math.Abs(lanczos.Fn(x) - transform.Lanczos.Fn(x))
		worst = max(worst, d)
	}
	if worst > 1e-6 {
		t.Fatalf("tabulated Lanczos off by %g", worst)
	}
	for _, x := range []float64{0, 3, -3, 3.5, math.Inf(1), math.NaN()} {
		if got, want := lanczos.Fn(x), transform.Lanczos.Fn(x); got != want && !(math.IsNaN(x) && got == 0) {
			t.Errorf("Fn(%v) = %v, want %v", x, got, want)
		}
	}
}
