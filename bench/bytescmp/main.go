// Command bytescmp is bench/bytes.sh's helper: it encodes lossless
// reference images with imgate's encoders (timing each variant) and scores
// any tool's outputs against the references (bytes and SSIM).
//
//	bytescmp encode -format jpeg -quality 85 -out DIR REF.png…
//	bytescmp score -label NAME -ref REFDIR DIR   (one line: files, bytes, SSIM)
//	bytescmp ladder -format webp -qualities 75,80,85 -target SSIM REF.png…
//	                (bytes at a luma SSIM, interpolated over imgate's qualities)
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/draw"
	_ "image/jpeg"
	_ "image/png"

	_ "github.com/gen2brain/avif" // AVIF decoder for score (libavif converts to RGB itself)
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/imgate/imgate/resizer"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: bytescmp encode|score|ladder …")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "encode":
		err = encode(os.Args[2:])
	case "score":
		err = score(os.Args[2:])
	case "ladder":
		err = ladder(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bytescmp:", err)
		os.Exit(1)
	}
}

// readRGBA decodes an image file to RGBA. WebP files are decoded by
// libwebp's own dwebp (Debian package webp): gen2brain/webp's Decode hands
// back VP8's limited-range YCbCr planes in Go types whose conversion
// assumes full range, which lifts black to 16 and dims white to 236 and so
// scored every WebP far below its real quality.
func readRGBA(path string) (*image.RGBA, error) {
	var b []byte
	var err error
	if strings.EqualFold(filepath.Ext(path), ".webp") {
		b, err = exec.Command("dwebp", "-quiet", path, "-o", "-").Output()
		if err != nil {
			return nil, fmt.Errorf("dwebp %s: %w", path, err)
		}
	} else if b, err = os.ReadFile(path); err != nil {
		return nil, err
	}
	m, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := image.NewRGBA(image.Rect(0, 0, m.Bounds().Dx(), m.Bounds().Dy()))
	draw.Draw(out, out.Rect, m, m.Bounds().Min, draw.Src)
	return out, nil
}

func stem(p string) string {
	b := filepath.Base(p)
	return strings.TrimSuffix(b, filepath.Ext(b))
}

// encode writes OUT/STEM.EXT for every reference and prints the mean
// encode time per variant in milliseconds.
func encode(args []string) error {
	fs := flag.NewFlagSet("encode", flag.ExitOnError)
	format := fs.String("format", "jpeg", "output format")
	quality := fs.Int("quality", 85, "quality 1..100")
	out := fs.String("out", "", "output directory")
	_ = fs.Parse(args)
	if *out == "" {
		return errors.New("-out is required")
	}
	var total time.Duration
	for _, ref := range fs.Args() {
		m, err := readRGBA(ref)
		if err != nil {
			return err
		}
		start := time.Now()
		b, err := resizer.Encode(m, *format, resizer.Preset{Geometry: "1x1", Quality: *quality})
		total += time.Since(start)
		if err != nil {
			return fmt.Errorf("%s: %w", ref, err)
		}
		if err := os.WriteFile(filepath.Join(*out, stem(ref)+resizer.Extension(*format)), b, 0o644); err != nil {
			return err
		}
	}
	if n := len(fs.Args()); n > 0 {
		fmt.Printf("%.2f\n", float64(total.Microseconds())/1000/float64(n))
	}
	return nil
}

// score prints "files bytes meanSSIM(RGB) meanSSIM(Y)" for DIR against REFDIR (matched by
// file stem).
func score(args []string) error {
	fs := flag.NewFlagSet("score", flag.ExitOnError)
	refDir := fs.String("ref", "", "reference directory (PNG)")
	_ = fs.Parse(args)
	if fs.NArg() != 1 || *refDir == "" {
		return errors.New("want -ref REFDIR DIR")
	}
	files, err := filepath.Glob(filepath.Join(fs.Arg(0), "*"))
	if err != nil {
		return err
	}
	var n int
	var bytesTotal int64
	var sum, sumY float64
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil || st.IsDir() {
			continue
		}
		ref, err := readRGBA(filepath.Join(*refDir, stem(f)+".png"))
		if err != nil {
			return err
		}
		got, err := readRGBA(f)
		if err != nil {
			return err
		}
		if got.Rect != ref.Rect {
			return fmt.Errorf("%s: %v, reference %v", f, got.Rect, ref.Rect)
		}
		n++
		bytesTotal += st.Size()
		sum += ssimRGB(ref, got)
		sumY += ssimY(ref, got)
	}
	if n == 0 {
		return fmt.Errorf("%s: no files", fs.Arg(0))
	}
	fmt.Printf("%d %d %.5f %.5f\n", n, bytesTotal, sum/float64(n), sumY/float64(n))
	return nil
}
