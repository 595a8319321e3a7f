package jpegscale

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/imgate/imgate/internal/testenv"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/output_hashes.txt from the current decoder")

const goldenFile = "testdata/output_hashes.txt"

// goldenInputs lists the JPEGs whose decoded output is pinned: this
// package's testdata and every JPEG of the shared corpus (malformed ones
// included: their error must stay the same too).
func goldenInputs(t *testing.T) map[string]string {
	t.Helper()
	in := map[string]string{}
	local, err := filepath.Glob("testdata/*.jpg")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range local {
		in["testdata/"+filepath.Base(f)] = f
	}
	dir := testenv.Corpus(t)
	for _, sub := range []string{"", "malformed"} {
		fs, err := filepath.Glob(filepath.Join(dir, sub, "*.jpg"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			in[filepath.Join("corpus", sub, filepath.Base(f))] = f
		}
	}
	return in
}

// outputHash hashes what DecodeBytes returns at one scale: the image type,
// bounds and the visible samples of every plane, or the kind of error
// (the texts may change, the kind may not).
func outputHash(t *testing.T, data []byte, denom int) string {
	img, err := DecodeBytes(data, denom, Options{MaxPixels: 1 << 28})
	switch {
	case errors.Is(err, ErrTooLarge):
		return "error: too large"
	case errors.Is(err, ErrUnsupported):
		return "error: unsupported"
	case err != nil:
		return "error: corrupt"
	}
	kind, ps := planes(t, img)
	h := sha256.New()
	fmt.Fprintf(h, "%s %v\n", kind, img.Bounds())
	for _, p := range ps {
		for y := 0; y < p.h; y++ {
			h.Write(p.pix[y*p.stride : y*p.stride+p.w])
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestOutputHashes pins the decoder's output: every input at every scale
// must decode to exactly the samples recorded in the golden file (recorded
// before the entropy decoder was rewritten for speed). Regenerate with
// go test -run TestOutputHashes -update-golden only for an intended change.
func TestOutputHashes(t *testing.T) {
	inputs := goldenInputs(t)
	names := make([]string, 0, len(inputs))
	for n := range inputs {
		names = append(names, n)
	}
	sort.Strings(names)
	got := map[string]string{}
	for _, n := range names {
		data, err := os.ReadFile(inputs[n])
		if err != nil {
			t.Fatal(err)
		}
		for _, denom := range []int{1, 2, 4, 8} {
			got[fmt.Sprintf("%s 1/%d", n, denom)] = outputHash(t, data, denom)
		}
	}
	if *updateGolden {
		var b strings.Builder
		keys := make([]string, 0, len(got))
		for k := range got {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "%s\t%s\n", k, got[k])
		}
		if err := os.WriteFile(goldenFile, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	f, err := os.Open(goldenFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			t.Fatalf("bad golden line %q", sc.Text())
		}
		want[k] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for k, v := range got {
		w, ok := want[k]
		if !ok {
			t.Errorf("%s: not in %s (new input? run with -update-golden)", k, goldenFile)
			continue
		}
		if v != w {
			t.Errorf("%s: output changed\n got %s\nwant %s", k, v, w)
		}
	}
	for k := range want {
		if _, ok := got[k]; !ok {
			t.Errorf("%s: in %s but not decoded (corpus incomplete?)", k, goldenFile)
		}
	}
}
