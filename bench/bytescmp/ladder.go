package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/imgate/imgate/resizer"
)

// rung is one quality of a ladder: the totals over every reference.
type rung struct {
	quality     int
	bytes       int64
	ssim, ssimY float64
}

// ladder encodes every reference with imgate's encoder for format at each
// preset quality in -qualities, scores each rung (mean luma SSIM against the
// references), and prints the rungs and the bytes at -target luma SSIM,
// interpolated linearly between the two rungs around it: the bytes "at
// equal SSIM" to a yardstick such as imgate's JPEG.
func ladder(args []string) error {
	fs := flag.NewFlagSet("ladder", flag.ExitOnError)
	format := fs.String("format", "webp", "output format")
	qualities := fs.String("qualities", "70,75,80,85,90,95", "preset qualities, comma-separated")
	target := fs.Float64("target", 0, "luma SSIM to interpolate the bytes at")
	_ = fs.Parse(args)
	if fs.NArg() == 0 || *target <= 0 {
		return errors.New("want -target SSIM REF.png…")
	}
	var qs []int
	for f := range strings.SplitSeq(*qualities, ",") {
		q, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || q < 1 || q > 100 {
			return fmt.Errorf("quality %q: want 1..100", f)
		}
		qs = append(qs, q)
	}
	slices.Sort(qs)
	tmp, err := os.MkdirTemp("", "bytescmp-ladder")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	var rungs []rung
	for _, q := range qs {
		r, err := encodeRung(*format, q, fs.Args(), tmp)
		if err != nil {
			return err
		}
		fmt.Printf("rung q%d %d %.5f %.5f\n", r.quality, r.bytes, r.ssim, r.ssimY)
		rungs = append(rungs, r)
	}
	b, ok := bytesAt(rungs, *target)
	if !ok {
		fmt.Printf("equal none (target %.5f outside the ladder)\n", *target)
		return nil
	}
	fmt.Printf("equal %.0f\n", b)
	return nil
}

// encodeRung encodes and scores every reference at one quality.
func encodeRung(format string, q int, refs []string, tmp string) (rung, error) {
	r := rung{quality: q}
	for _, ref := range refs {
		m, err := readRGBA(ref)
		if err != nil {
			return r, err
		}
		b, err := resizer.Encode(m, format, resizer.Preset{Geometry: "1x1", Quality: q})
		if err != nil {
			return r, fmt.Errorf("%s: %w", ref, err)
		}
		path := filepath.Join(tmp, stem(ref)+resizer.Extension(format))
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return r, err
		}
		got, err := readRGBA(path)
		if err != nil {
			return r, err
		}
		r.bytes += int64(len(b))
		r.ssim += ssimRGB(m, got)
		r.ssimY += ssimY(m, got)
	}
	r.ssim /= float64(len(refs))
	r.ssimY /= float64(len(refs))
	return r, nil
}

// bytesAt interpolates the bytes at luma SSIM target between the first
// pair of consecutive rungs that brackets it.
func bytesAt(rungs []rung, target float64) (float64, bool) {
	for i := 1; i < len(rungs); i++ {
		lo, hi := rungs[i-1], rungs[i]
		if lo.ssimY <= target && target <= hi.ssimY && hi.ssimY > lo.ssimY {
			f := (target - lo.ssimY) / (hi.ssimY - lo.ssimY)
			return float64(lo.bytes) + f*float64(hi.bytes-lo.bytes), true
		}
	}
	return 0, false
}
