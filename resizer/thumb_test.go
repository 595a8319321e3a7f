package resizer

import (
	"image"
	"testing"
)

func TestThumbnail(t *testing.T) {
	for _, tc := range []struct{ w, h, tw, th int }{
		{400, 300, 32, 24}, {300, 400, 24, 32}, {10, 5, 10, 5}, {1000, 1, 32, 1}, {1, 1000, 1, 32},
	} {
		m := image.NewRGBA(image.Rect(0, 0, tc.w, tc.h))
		for i := range m.Pix {
			m.Pix[i] = 200
		}
		th := thumbnail(m, 32)
		if th.Rect.Dx() != tc.tw || th.Rect.Dy() != tc.th {
			t.Errorf("%dx%d → %dx%d, want %dx%d", tc.w, tc.h, th.Rect.Dx(), th.Rect.Dy(), tc.tw, tc.th)
		}
		for _, p := range th.Pix {
			if p != 200 {
				t.Fatalf("%dx%d: a flat image averaged to %d", tc.w, tc.h, p)
			}
		}
	}
}
