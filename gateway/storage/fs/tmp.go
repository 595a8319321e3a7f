package fs

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// tempFile is a file being written under tmp/, later renamed into place.
type tempFile struct {
	s    *Store
	f    *os.File
	name string // relative to the root
}

// newTemp creates tmp/<pid>.<random>. The pid lets New remove files of dead processes.
func (s *Store) newTemp() (*tempFile, error) {
	var rnd [12]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, err
	}
	name := path.Join(tmpDir, strconv.Itoa(os.Getpid())+"."+hex.EncodeToString(rnd[:]))
	f, err := s.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, filePerm)
	if err != nil {
		return nil, fmt.Errorf("fs: create temporary file: %w", err)
	}
	return &tempFile{s: s, f: f, name: name}, nil
}

// discard closes and removes the temporary file (after a failure).
func (t *tempFile) discard() {
	if t.f != nil {
		t.f.Close()
		t.f = nil
	}
	_ = t.s.root.Remove(t.name)
}

// ctxReader fails reads once its context is done, so a cancelled request
// stops a stream between reads.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// errSizeMismatch reports a body shorter or longer than its declared size.
var errSizeMismatch = errors.New("body length does not match the declared size")

// writeContent streams r (exactly size bytes, or to EOF when size < 0) into
// the temporary file and returns the byte count and MD5.
func (t *tempFile) writeContent(ctx context.Context, r io.Reader, size int64) (int64, []byte, error) {
	h := md5.New()
	src := io.Reader(ctxReader{ctx, r})
	if size >= 0 {
		src = io.LimitReader(src, size+1)
	}
	buf := make([]byte, 256<<10)
	n, err := io.CopyBuffer(io.MultiWriter(t.f, h), src, buf)
	if err != nil {
		return n, nil, fmt.Errorf("fs: write: %w", err)
	}
	if size >= 0 && n != size {
		return n, nil, fmt.Errorf("fs: %w: got %d bytes, declared %d", errSizeMismatch, n, size)
	}
	return n, h.Sum(nil), nil
}

// finish appends the metadata trailer, fsyncs and closes the file.
func (t *tempFile) finish(m *objMeta) error {
	tr, err := appendTrailer(m)
	if err != nil {
		return err
	}
	if _, err := t.f.Write(tr); err != nil {
		return fmt.Errorf("fs: write metadata: %w", err)
	}
	if err := t.f.Sync(); err != nil {
		return fmt.Errorf("fs: fsync: %w", err)
	}
	err = t.f.Close()
	t.f = nil
	if err != nil {
		return fmt.Errorf("fs: close: %w", err)
	}
	return nil
}

// commit renames the finished file to dst, creating dst's directories when
// mkdir is set, and fsyncs the directory. A concurrent Delete may remove an
// empty parent while MkdirAll runs or before Rename, and a concurrent put may
// create the same directory; all are retried.
func (t *tempFile) commit(dst string, mkdir bool) error {
	dir := path.Dir(dst)
	var err error
	for range 20 {
		if mkdir {
			if err = t.s.root.MkdirAll(dir, dirPerm); err != nil {
				// A concurrent delete removed a parent, or a concurrent put
				// created one first (os.Root.MkdirAll then reports EEXIST).
				if errors.Is(err, iofs.ErrNotExist) || errors.Is(err, iofs.ErrExist) {
					continue
				}
				return err
			}
		}
		if err = t.s.root.Rename(t.name, dst); err == nil {
			return t.s.syncDir(dir)
		}
		if !mkdir || !errors.Is(err, iofs.ErrNotExist) {
			return err
		}
	}
	return err
}

// cleanTemp removes temporary files whose writer process is gone.
func (s *Store) cleanTemp() error {
	d, err := s.root.Open(tmpDir)
	if err != nil {
		return fmt.Errorf("fs: open %s: %w", tmpDir, err)
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return fmt.Errorf("fs: read %s: %w", tmpDir, err)
	}
	for _, n := range names {
		if tempOwnerAlive(n) {
			continue
		}
		_ = s.root.Remove(path.Join(tmpDir, n))
	}
	return nil
}

// tempOwnerAlive reports whether the process that named a temp file still runs.
func tempOwnerAlive(name string) bool {
	pidStr, _, ok := strings.Cut(name, ".")
	pid, err := strconv.Atoi(pidStr)
	if !ok || err != nil || pid <= 0 {
		return false
	}
	if pid == os.Getpid() {
		return true
	}
	err = syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// now is the modification time recorded for new objects.
func now() time.Time { return time.Now().UTC() }
