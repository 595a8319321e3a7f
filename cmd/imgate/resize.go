package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/imgate/imgate/resizer"
)

func init() {
	register("resize", "resize image files into DIR/PRESET/NAME (like the -resized bucket)", runResize)
}

// sizesFlag is a list of geometries: "50x50,150x,x150" on the command line,
// or a JSON list ["50x50","150x"] from the config file's "sizes" key.
type sizesFlag []string

func (s *sizesFlag) String() string { return strings.Join(*s, ",") }

func (s *sizesFlag) Set(v string) error {
	v = strings.TrimSpace(v)
	var list []string
	if strings.HasPrefix(v, "[") {
		if err := json.Unmarshal([]byte(v), &list); err != nil {
			return fmt.Errorf("not a JSON list of geometries: %w", err)
		}
	} else {
		for _, g := range strings.Split(v, ",") {
			if g = strings.TrimSpace(g); g != "" {
				list = append(list, g)
			}
		}
	}
	for _, g := range list {
		if _, err := resizer.ParseGeometry(g); err != nil {
			return err
		}
	}
	*s = list
	return nil
}

func runResize(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("resize", "--out DIR [--sizes 50x50,150x,x150] [--workers N] [--config FILE] FILE…",
		"Resize image files with the same pipeline as the server and write DIR/PRESET/BASENAME\n"+
			"for every preset (the -resized bucket layout; the name is kept even when a preset\n"+
			"changes the format). Exit code 1 if any file failed; the others are still written.\n"+
			"The --config file may hold \"sizes\" (a list of geometries) and \"presets\" (a list of\n"+
			"preset objects: name, geometry, format, quality, crop, gravity, background).", stderr)
	var sizes sizesFlag
	fs.Var(&sizes, "sizes", "comma-separated ImageMagick-style geometries (default 50x50,150x,x150 unless the config has presets)")
	out := fs.String("out", "", "output directory (required)")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "files resized at the same time")
	fs.String("config", "", "JSON config file (sizes, presets, and any flag by name)")
	maxPixels := fs.Int64("max-pixels", resizer.DefaultMaxPixels, "refuse sources with more pixels (checked from the header)")
	maxBytes := fs.Int64("max-bytes", resizer.DefaultMaxBytes, "refuse source files larger than this")
	maxFrames := fs.Int("max-frames", resizer.DefaultMaxFrames, "refuse animations with more frames")
	maxInFlight := fs.Int64("max-inflight-bytes", resizer.DefaultMaxInFlightBytes, "memory budget for decoding across workers (bytes)")
	file, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *out == "" {
		return usagef("--out DIR is required")
	}
	if *workers < 1 {
		return usagef("--workers must be at least 1")
	}
	files := fs.Args()
	if len(files) == 0 {
		return usagef("no input files")
	}
	presets, err := resizePresets(sizes, file)
	if err != nil {
		return usagef("%v", err)
	}

	rz := resizer.New(resizer.Options{
		Limits:           resizer.Limits{MaxPixels: *maxPixels, MaxBytes: *maxBytes, MaxFrames: *maxFrames},
		MaxInFlightBytes: *maxInFlight,
	})
	for _, p := range presets {
		if err := os.MkdirAll(filepath.Join(*out, p.Name), 0o755); err != nil {
			return fmt.Errorf("create output directory: %w", err)
		}
	}

	start := time.Now()
	done, failed := resizeAll(ctx, rz, presets, files, *out, *workers, newProgress(stderr, len(files)))
	elapsed := time.Since(start)
	notDone := len(files) - done
	ok := done - failed
	rate := float64(ok) / max(elapsed.Seconds(), 1e-9)
	summary := fmt.Sprintf("%d ok, %d failed", ok, failed)
	if notDone > 0 {
		summary += fmt.Sprintf(", %d not started", notDone)
	}
	fmt.Fprintf(stdout, "%s, %d presets, %.2fs, %.2f img/s\n", summary, len(presets), elapsed.Seconds(), rate)
	if ctx.Err() != nil {
		return &exitError{code: 1, msg: "interrupted"}
	}
	if failed > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("%d of %d files failed", failed, len(files))}
	}
	return nil
}

// resizeAll resizes files with workers goroutines, reporting on bar; it
// stops handing out files when ctx ends. done counts the files finished or
// skipped (two inputs with one output name), failed those of them that
// failed.
func resizeAll(ctx context.Context, rz *resizer.Resizer, presets []resizer.Preset, files []string, out string, workers int, bar *progress) (done, failed int) {
	start := time.Now()
	var mu sync.Mutex
	seen := map[string]string{}
	jobs := make(chan string)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for f := range jobs {
				err := resizeFile(ctx, rz, presets, f, out)
				mu.Lock()
				done++
				if err != nil {
					failed++
					bar.printf("%s: %s\n", f, publicError(err))
				}
				bar.update(done, failed, time.Since(start))
				mu.Unlock()
			}
		})
	}
	for _, f := range files {
		base := filepath.Base(f)
		if prev, dup := seen[base]; dup {
			mu.Lock()
			done++
			failed++
			bar.printf("%s: same output name as %s, skipped\n", f, prev)
			mu.Unlock()
			continue
		}
		seen[base] = f
		if ctx.Err() != nil {
			break
		}
		select {
		case jobs <- f:
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
	bar.finish()
	return done, failed
}

// resizePresets combines --sizes (flag, env or config "sizes") with the
// config file's "presets"; with neither it returns the classic three.
func resizePresets(sizes []string, file *configFile) ([]resizer.Preset, error) {
	var presets []resizer.Preset
	for _, g := range sizes {
		presets = append(presets, resizer.Preset{Geometry: g})
	}
	ps, err := file.presetList()
	if err != nil {
		return nil, err
	}
	presets = append(presets, ps...)
	if len(presets) == 0 {
		return resizer.DefaultPresets(), nil
	}
	return resizer.ValidatePresets(presets)
}

// resizeFile renders one file and writes its variants.
func resizeFile(ctx context.Context, rz *resizer.Resizer, presets []resizer.Preset, path, outDir string) error {
	f, src, err := openSource(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, variants, err := rz.Resize(ctx, src, presets)
	if err != nil {
		return err
	}
	base := filepath.Base(path)
	for _, v := range variants {
		if err := writeFileAtomic(filepath.Join(outDir, v.Preset, base), v.Data); err != nil {
			return err
		}
	}
	return nil
}

// openSource opens path for the resizer: a regular file as a reader with
// its size (resizer.Sized), which the resizer reads into one buffer of that
// size. A bare *os.File has no Size, so the buffer would grow by doubling
// and briefly hold about twice the file (a 16 MB JPEG cost 16 MB more peak
// RSS). f is the file to close.
func openSource(path string) (f *os.File, src io.Reader, err error) {
	f, err = os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		return f, f, nil // a pipe or device: its size is unknown
	}
	return f, io.NewSectionReader(f, 0, st.Size()), nil
}

func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".imgate-*")
	if err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write output: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// publicError is the message shown for a failed file: the public message of
// a resizer error, else the error itself (local file errors are the user's own).
func publicError(err error) string {
	var re *resizer.Error
	if errors.As(err, &re) {
		return re.Public()
	}
	return err.Error()
}

// progress draws a one-line bar on a terminal and nothing otherwise; other
// lines (errors) are always printed.
type progress struct {
	w     io.Writer
	tty   bool
	total int
	drawn bool
}

func newProgress(w io.Writer, total int) *progress {
	p := &progress{w: w, total: total}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) printf(format string, args ...any) {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
	fmt.Fprintf(p.w, format, args...)
}

func (p *progress) update(done, failed int, elapsed time.Duration) {
	if !p.tty {
		return
	}
	const width = 30
	filled := width * done / max(p.total, 1)
	rate := float64(done) / max(elapsed.Seconds(), 1e-9)
	fmt.Fprintf(p.w, "\r\033[K[%s%s] %d/%d  %d failed  %.1f img/s",
		strings.Repeat("#", filled), strings.Repeat(".", width-filled), done, p.total, failed, rate)
	p.drawn = true
}

func (p *progress) finish() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}
