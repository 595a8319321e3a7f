package resizer

import (
	"math"

	"github.com/anthonynsimon/bild/transform"
)

// lanczosSteps is the resolution of the tabulated Lanczos-3 kernel: samples
// per unit of distance. Linear interpolation between them is off by less
// than 1e-6 (h²/8 times the largest second derivative), far below the 1/255 a sample is rounded to.
const lanczosSteps = 1024

var lanczosTab = func() []float64 {
	t := make([]float64, 3*lanczosSteps+2)
	for i := range t {
		t[i] = transform.Lanczos.Fn(float64(i) / lanczosSteps)
	}
	return t
}()

// lanczos is bild's Lanczos-3 filter with its kernel read from a table:
// bild evaluates the kernel for every tap of every output sample (two
// math.Sin calls each), which made it a quarter of a corpus resize.
var lanczos = transform.ResampleFilter{
	Support: 3,
	Fn: func(x float64) float64 {
		x = math.Abs(x)
		if !(x < 3) {
			return 0
		}
		p := x * lanczosSteps
		i := int(p)
		a := lanczosTab[i]
		return a + (p-float64(i))*(lanczosTab[i+1]-a)
	},
}
