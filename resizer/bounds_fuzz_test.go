package resizer

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/imgate/imgate/internal/hostile"
	"github.com/imgate/imgate/resizer/jpegscale"
)

// FuzzProgressiveScans: the scan count read from the header (which refuses
// a file before any decoder runs) never undercounts what the decoder
// meets, so no file slips past MaxScans; counting never panics.
func FuzzProgressiveScans(f *testing.F) {
	for _, n := range []int{1, 3, 40} {
		f.Add(hostile.ProgressiveJPEG(16, 24, n))
	}
	f.Add(hostile.JPEGHeader(8, 8))
	for _, name := range []string{"progressive.jpg", "tiny_progressive.jpg", "progressive_restart.jpg"} {
		f.Add(readTestdata(f, name))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := jpegHeader(data)
		if err != nil || int64(h.width)*int64(h.height) > 1<<20 {
			return
		}
		if h.scans < 1 {
			t.Fatalf("a header that reached SOS counted %d scans", h.scans)
		}
		_, err = jpegscale.DecodeBytes(data, 8, jpegscale.Options{MaxScans: h.scans, MaxPixels: 1 << 20})
		if errors.Is(err, jpegscale.ErrTooManyScans) {
			t.Fatalf("header counted %d scans, the decoder met more", h.scans)
		}
	})
}

// FuzzEstimate: the header cost estimate never panics, is positive and
// within the budget when it accepts, and refuses exactly what Resize
// refuses before decoding (same kind and message).
func FuzzEstimate(f *testing.F) {
	for _, hf := range hostile.Files() {
		if d := hf.Data(); len(d) < 64<<10 {
			f.Add(d, "150x")
		}
	}
	f.Add(hostile.PNG(300, 20, true, false), "50x50^")
	f.Add(hostile.PNG(40, 3000, false, true), "x150")
	f.Add(hostile.GIF(10, 10, 2), "20x20")
	f.Add(hostile.ProgressiveJPEG(64, 64, 5), "8x8")
	r := New(Options{Limits: Limits{MaxPixels: 1 << 22, MaxOutputPixels: 1 << 20}, MaxInFlightBytes: 32 << 20})
	f.Fuzz(func(t *testing.T, data []byte, geometry string) {
		presets, err := ValidatePresets([]Preset{{Geometry: geometry}})
		if err != nil {
			return
		}
		c, err := r.Estimate(data, presets)
		if err == nil {
			if c.Bytes <= 0 || c.Bytes > 32<<20 || c.Pixels < 0 {
				t.Fatalf("Estimate = %+v", c)
			}
			return
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("Estimate error %v is no *Error", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // refused before decoding: the context is never needed
		_, _, rerr := r.Resize(ctx, bytes.NewReader(data), presets)
		var re *Error
		if !errors.As(rerr, &re) || re.Kind != e.Kind || re.Msg != e.Msg {
			t.Fatalf("Estimate refused with %v, Resize with %v", err, rerr)
		}
	})
}
