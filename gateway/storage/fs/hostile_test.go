package fs_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgate/imgate/gateway/storage"
	"github.com/imgate/imgate/gateway/storage/fs"
)

// snapshot records every path under dir with its size and mode, skipping skip.
func snapshot(t *testing.T, dir, skip string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d iofs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == skip {
			return filepath.SkipDir
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out[p] = fmt.Sprintf("%v %d %v", info.Mode(), info.Size(), info.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameSnapshot(t *testing.T, before, after map[string]string) {
	t.Helper()
	for p, v := range after {
		if before[p] != v {
			t.Errorf("written outside the data directory: %s (%s, was %q)", p, v, before[p])
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			t.Errorf("removed outside the data directory: %s", p)
		}
	}
}

// TestHostileKeysStayInside runs every operation with hostile keys, bucket
// names and upload ids, and proves nothing changed outside the data dir.
func TestHostileKeysStayInside(t *testing.T) {
	parent := t.TempDir()
	data := filepath.Join(parent, "deep", "data")
	for _, d := range []string{"etc", "deep/etc", "deep/buckets", "deep/data/../etc"} {
		if err := os.MkdirAll(filepath.Join(parent, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(parent, "etc", "passwd"), []byte("root:x:0:0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := fs.New(data)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := t.Context()
	if err := s.EnsureBucket(c, "photos"); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, parent, data)

	keys := []string{
		"../../etc/passwd", "../../../etc/passwd", "..", "../x", "a/../../../etc/passwd", "a/..", "./a",
		"a\x00b", "\x00", "", strings.Repeat("k", 2048), strings.Repeat("s", 300), "/etc/passwd",
		"a//b", "bad\xff", "new\nline",
	}
	for _, k := range keys {
		name := fmt.Sprintf("%.30q", k)
		_, err := s.Put(c, "photos", k, bytes.NewReader([]byte("pwned")), 5, storage.PutOptions{})
		if !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("Put(%s) = %v, want ErrInvalidKey", name, err)
		} else if !strings.Contains(err.Error(), "invalid object key") {
			t.Errorf("Put(%s) error %q is not clear", name, err)
		}
		if _, _, err := s.Get(c, "photos", k, storage.GetOptions{}); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("Get(%s) = %v", name, err)
		}
		if err := s.Delete(c, "photos", k); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("Delete(%s) = %v", name, err)
		}
		if _, err := s.CreateMultipart(c, "photos", k, storage.PutOptions{}); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("CreateMultipart(%s) = %v", name, err)
		}
		for range s.List(c, "photos", storage.ListOptions{Prefix: k}) {
		}
	}
	for _, b := range []string{"..", "../etc", "../../etc", "a/b", "etc/../..", ".", "-x-"} {
		_, err := s.Put(c, b, "passwd", bytes.NewReader([]byte("pwned")), 5, storage.PutOptions{})
		if !errors.Is(err, storage.ErrInvalidBucket) {
			t.Errorf("Put to bucket %q = %v, want ErrInvalidBucket", b, err)
		}
		if err := s.EnsureBucket(c, b); !errors.Is(err, storage.ErrInvalidBucket) {
			t.Errorf("EnsureBucket(%q) = %v", b, err)
		}
	}
	for _, id := range []string{"../../../etc", "..", "../../../../etc/passwd", "0123456789abcdef0123456789abcde/"} {
		_, err := s.PutPart(c, "photos", "k", id, 1, bytes.NewReader([]byte("pwned")), 5, nil)
		if !errors.Is(err, storage.ErrUploadNotFound) {
			t.Errorf("PutPart(upload %q) = %v", id, err)
		}
		if err := s.AbortMultipart(c, "photos", "k", id); !errors.Is(err, storage.ErrUploadNotFound) {
			t.Errorf("AbortMultipart(upload %q) = %v", id, err)
		}
	}
	sameSnapshot(t, before, snapshot(t, parent, data))
}

// TestSymlinksRefused plants symbolic links inside the data directory that
// point outside it, and checks no operation reads or writes through them.
func TestSymlinksRefused(t *testing.T) {
	parent := t.TempDir()
	data := filepath.Join(parent, "data")
	outside := filepath.Join(parent, "outside")
	if err := os.MkdirAll(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	// A file named as the fs layout would name key "secret".
	if err := os.WriteFile(filepath.Join(outside, "fsecret"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := fs.New(data)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := t.Context()
	if err := s.EnsureBucket(c, "bkt"); err != nil {
		t.Fatal(err)
	}
	bdir := filepath.Join(data, "buckets", "bkt")
	mustLink := func(target, link string) {
		t.Helper()
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	mustLink(outside, filepath.Join(bdir, "devil"))                           // key prefix "evil/"
	mustLink(filepath.Join(outside, "fsecret"), filepath.Join(bdir, "flink")) // key "link"
	mustLink(outside, filepath.Join(data, "buckets", "linkedbucket"))
	before := snapshot(t, parent, data)

	for _, k := range []string{"evil/secret", "link"} {
		rc, _, err := s.Get(c, "bkt", k, storage.GetOptions{})
		if err == nil {
			got, _ := io.ReadAll(rc)
			rc.Close()
			t.Errorf("Get(%q) read through a symlink: %q", k, got)
		}
		if _, err := s.Stat(c, "bkt", k); err == nil {
			t.Errorf("Stat(%q) followed a symlink", k)
		}
	}
	if _, err := s.Put(c, "bkt", "evil/new", bytes.NewReader([]byte("pwned")), 5, storage.PutOptions{}); err == nil {
		t.Errorf("Put(evil/new) wrote through a directory symlink")
	}
	_ = s.Delete(c, "bkt", "evil/secret")
	for info, err := range s.List(c, "bkt", storage.ListOptions{}) {
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		t.Errorf("List shows %q, which is a symlink", info.Key)
	}
	// Overwriting the linked key replaces the link, never its target.
	if _, err := s.Put(c, "bkt", "link", bytes.NewReader([]byte("new")), 3, storage.PutOptions{}); err != nil {
		t.Errorf("Put(link): %v", err)
	}
	if ok, _ := s.BucketExists(c, "linkedbucket"); ok {
		t.Errorf("a symlinked bucket counts as a bucket")
	}
	_, err = s.Put(c, "linkedbucket", "secret", bytes.NewReader([]byte("pwned")), 5, storage.PutOptions{})
	if err == nil {
		t.Errorf("Put into a symlinked bucket succeeded")
	}
	_ = s.EnsureBucket(c, "linkedbucket")

	// A symlinked temporary directory must not receive the stream either.
	tmp := filepath.Join(data, "tmp")
	if err := os.RemoveAll(tmp); err != nil {
		t.Fatal(err)
	}
	mustLink(outside, tmp)
	if _, err := s.Put(c, "bkt", "via-tmp", bytes.NewReader([]byte("pwned")), 5, storage.PutOptions{}); err == nil {
		t.Errorf("Put wrote through a symlinked tmp directory")
	}
	sameSnapshot(t, before, snapshot(t, parent, data))
	if got, _ := os.ReadFile(filepath.Join(outside, "fsecret")); string(got) != "secret" {
		t.Errorf("file outside changed: %q", got)
	}
}
