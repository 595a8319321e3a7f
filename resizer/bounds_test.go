package resizer

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/imgate/imgate/internal/hostile"
	"github.com/imgate/imgate/resizer/jpegscale"
)

func hostileFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "internal", "hostile", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestHostileRefusedFromHeader: every crafted hostile file is refused by
// Estimate and Resize with a permanent *Error naming the limit, and those
// within the limits render.
func TestHostileRefusedFromHeader(t *testing.T) {
	want := map[string]error{
		"wide.png": ErrAspectRatio, "tall.png": ErrAspectRatio, "interlaced.png": ErrOverBudget,
		"scans.jpg": ErrTooManyScans,
	}
	r := New(Options{})
	for _, f := range hostile.Files() {
		t.Run(f.Name, func(t *testing.T) {
			data := hostileFile(t, f.Name)
			c, err := r.Estimate(data, DefaultPresets())
			if !f.Refused {
				if err != nil {
					t.Fatalf("Estimate: %v", err)
				}
				if c.Bytes <= 0 || c.Bytes > DefaultMaxInFlightBytes {
					t.Fatalf("Estimate = %+v", c)
				}
				if _, vs, err := r.Resize(context.Background(), bytes.NewReader(data), DefaultPresets()); err != nil || len(vs) != 3 {
					t.Fatalf("Resize: %d variants, %v", len(vs), err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Estimate accepted it: %+v", c)
			}
			_, _, rerr := r.Resize(context.Background(), bytes.NewReader(data), DefaultPresets())
			for _, e := range []error{err, rerr} {
				if KindOf(e) != KindTooLarge || !IsPermanent(e) {
					t.Fatalf("error %v: kind %v, want a permanent %v", e, KindOf(e), KindTooLarge)
				}
				if w := want[f.Name]; w != nil && !errors.Is(e, w) {
					t.Fatalf("error %v does not wrap %v", e, w)
				}
			}
			t.Logf("%s: %s", f.Name, rerr.(*Error).Public())
		})
	}
}

func TestOutputCap(t *testing.T) {
	data := hostileFile(t, "big.png") // 7000×7000
	r := New(Options{})
	_, err := r.Estimate(data, []Preset{{Name: "huge", Geometry: "5000x5000"}})
	if !errors.Is(err, ErrOutputTooLarge) || !IsPermanent(err) {
		t.Fatalf("5000x5000 of 7000x7000: %v, want ErrOutputTooLarge", err)
	}
	if _, err := r.Estimate(data, []Preset{{Name: "ok", Geometry: "1000x1000"}}); err != nil {
		t.Fatalf("1000x1000: %v", err)
	}
	r = New(Options{Limits: Limits{MaxOutputPixels: 1000}})
	if _, err := r.Estimate(data, DefaultPresets()); !errors.Is(err, ErrOutputTooLarge) {
		t.Fatalf("150x of 7000x7000 under a 1000-pixel cap: %v", err)
	}
}

// TestResizeHonoursDeadline: a deadline hit while decoding ends the call
// with the context's error (not permanent), for each streaming decoder.
func TestResizeHonoursDeadline(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		data []byte
	}{
		{"big.png", Options{}, nil},                             // streamed PNG rows
		{"scans499.jpg", Options{}, nil},                        // jpegscale at 1/8: DC scan rows, skipped AC scans
		{"scans499.jpg", Options{DisableScaledJPEG: true}, nil}, // jpegscale 1/1, then image/jpeg through ctxReader
		{"3000x3000.png", Options{DisableStreamingPNG: true}, hostile.PNG(3000, 3000, true, false)}, // image/png through ctxReader
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.data
			if data == nil {
				data = hostileFile(t, tc.name)
			}
			// The deadline is a fifth of what the whole call takes on this
			// machine, so it falls inside the decoding however fast or
			// loaded the machine is (a fixed 20 ms once did not).
			start := time.Now()
			if _, _, err := New(tc.opts).Resize(context.Background(), bytes.NewReader(data), DefaultPresets()); err != nil {
				t.Fatalf("without a deadline: %v", err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Since(start)/5)
			defer cancel()
			_, _, err := New(tc.opts).Resize(ctx, bytes.NewReader(data), DefaultPresets())
			if !errors.Is(err, context.DeadlineExceeded) || IsPermanent(err) {
				t.Fatalf("err = %v, want the deadline (not permanent)", err)
			}
		})
	}
}

func TestJPEGScanCount(t *testing.T) {
	for _, n := range []int{1, 2, 499, 501, 20000} {
		data := hostile.ProgressiveJPEG(64, 64, n)
		h, err := jpegHeader(data)
		if err != nil {
			t.Fatal(err)
		}
		if h.scans != n {
			t.Errorf("%d scans counted as %d", n, h.scans)
		}
		_, err = jpegscale.DecodeBytes(data, 1, jpegscale.Options{MaxScans: 500})
		if (n > 500) != errors.Is(err, jpegscale.ErrTooManyScans) {
			t.Errorf("%d scans, MaxScans 500: %v", n, err)
		}
		if n <= 500 && err != nil {
			t.Errorf("%d scans: %v", n, err)
		}
	}
}

// TestHostileMemory renders the crafted hostile files with 2 concurrent
// workers in a child process (see TestMain): peak RSS ≤ 200 MB.
func TestHostileMemory(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("VmHWM is Linux-only")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "RESIZER_RSS_CHILD="+filepath.Join("..", "internal", "hostile", "testdata"))
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	kb, err := strconv.Atoi(regexpFind(string(out), "VmHWM_KB="))
	if err != nil || kb == 0 {
		t.Fatalf("no VmHWM in child output:\n%s", out)
	}
	t.Logf("peak RSS rendering the hostile files with 2 workers: %d MB (%s)", kb/1024, time.Since(start).Round(time.Millisecond))
	if kb > 200*1024 {
		t.Errorf("peak RSS %d MB, want ≤ 200 MB", kb/1024)
	}
}

// TestTooManyScansNoFallback: should a file get past the header's scan
// count, the decoder's own limit refuses it and image/jpeg never gets it.
func TestTooManyScansNoFallback(t *testing.T) {
	data := hostile.ProgressiveJPEG(64, 64, 40)
	for _, full := range []bool{false, true} {
		var err error
		if full {
			_, _, err = decodeJPEGFull(context.Background(), data, 10)
		} else {
			_, err = decodeJPEGScaled(context.Background(), data, 2, 10)
		}
		if !errors.Is(err, ErrTooManyScans) || !IsPermanent(err) {
			t.Errorf("full=%v: %v, want a permanent ErrTooManyScans", full, err)
		}
	}
}
