package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/imgate/imgate/resizer"
)

func TestOpenSource(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.jpg")
	want := []byte("\xff\xd8\xff\xe0 not really a jpeg")
	if err := os.WriteFile(path, want, 0o644); err != nil {
		t.Fatal(err)
	}
	f, src, err := openSource(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sized, ok := src.(resizer.Sized)
	if !ok {
		t.Fatalf("a regular file's source %T has no Size: the resizer would grow its buffer by doubling", src)
	}
	if sized.Size() != int64(len(want)) {
		t.Errorf("Size() = %d, want %d", sized.Size(), len(want))
	}
	got, err := io.ReadAll(src)
	if err != nil || string(got) != string(want) {
		t.Errorf("read %q, %v; want %q", got, err, want)
	}

	// Not a regular file: no size is claimed.
	dev, src, err := openSource(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	if _, ok := src.(resizer.Sized); ok {
		t.Errorf("%s's source claims a size", os.DevNull)
	}

	if _, _, err := openSource(filepath.Join(t.TempDir(), "missing.jpg")); !os.IsNotExist(err) {
		t.Errorf("missing file: err = %v, want not-exist", err)
	}
}
