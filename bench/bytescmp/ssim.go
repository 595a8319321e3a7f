package main

import (
	"image"
	"math"
)

// ssimRGB is the mean SSIM (Wang et al. 2004: 11×11 Gaussian window,
// σ = 1.5, K1 = 0.01, K2 = 0.03) over R, G and B, averaged like
// ImageMagick's compare -metric SSIM: chroma losses count.
func ssimRGB(a, b *image.RGBA) float64 {
	var s float64
	for c := range 3 {
		s += ssimPlane(channel(a, c), channel(b, c), a.Rect.Dx(), a.Rect.Dy())
	}
	return s / 3
}

// ssimY is the mean SSIM of luma (BT.601 Y), the original definition's
// choice for colour images and what most tools report.
func ssimY(a, b *image.RGBA) float64 {
	return ssimPlane(luma(a), luma(b), a.Rect.Dx(), a.Rect.Dy())
}

func luma(m *image.RGBA) []float64 {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	out := make([]float64, w*h)
	for y := range h {
		for x := range w {
			p := m.Pix[y*m.Stride+4*x:]
			out[y*w+x] = 0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2])
		}
	}
	return out
}

func channel(m *image.RGBA, c int) []float64 {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	out := make([]float64, w*h)
	for y := range h {
		for x := range w {
			out[y*w+x] = float64(m.Pix[y*m.Stride+4*x+c])
		}
	}
	return out
}

var gauss = func() [11]float64 {
	var g [11]float64
	var s float64
	for i := range g {
		d := float64(i - 5)
		g[i] = math.Exp(-d * d / (2 * 1.5 * 1.5))
		s += g[i]
	}
	for i := range g {
		g[i] /= s
	}
	return g
}()

// blur filters p with the separable Gaussian, edges clamped.
func blur(p []float64, w, h int) []float64 {
	tmp := make([]float64, w*h)
	for y := range h {
		for x := range w {
			var s float64
			for i, g := range gauss {
				s += g * p[y*w+min(max(x+i-5, 0), w-1)]
			}
			tmp[y*w+x] = s
		}
	}
	out := make([]float64, w*h)
	for y := range h {
		for x := range w {
			var s float64
			for i, g := range gauss {
				s += g * tmp[min(max(y+i-5, 0), h-1)*w+x]
			}
			out[y*w+x] = s
		}
	}
	return out
}

func ssimPlane(a, b []float64, w, h int) float64 {
	const c1, c2 = (0.01 * 255) * (0.01 * 255), (0.03 * 255) * (0.03 * 255)
	prod := func(x, y []float64) []float64 {
		o := make([]float64, len(x))
		for i := range x {
			o[i] = x[i] * y[i]
		}
		return o
	}
	mu1, mu2 := blur(a, w, h), blur(b, w, h)
	s11, s22, s12 := blur(prod(a, a), w, h), blur(prod(b, b), w, h), blur(prod(a, b), w, h)
	var sum float64
	for i := range a {
		m1, m2 := mu1[i], mu2[i]
		v1, v2, cv := s11[i]-m1*m1, s22[i]-m2*m2, s12[i]-m1*m2
		sum += (2*m1*m2 + c1) * (2*cv + c2) / ((m1*m1 + m2*m2 + c1) * (v1 + v2 + c2))
	}
	return sum / float64(len(a))
}
