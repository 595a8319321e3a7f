package fs

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path"
	"strings"
	"syscall"

	"github.com/imgate/imgate/gateway/storage"
)

// defaultContentType is recorded when a put names none, as S3 does.
const defaultContentType = "application/octet-stream"

// Put streams r into bucket/key atomically: the object appears whole, with
// its metadata, or not at all. size is the exact length or -1.
func (s *Store) Put(ctx context.Context, bucket, key string, r io.Reader, size int64, opts storage.PutOptions) (storage.ObjectInfo, error) {
	dst, err := objectPath(bucket, key)
	if err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("fs put: %w", err)
	}
	if opts.MD5 != nil && len(opts.MD5) != 16 {
		return storage.ObjectInfo{}, fmt.Errorf("fs put %s/%s: %w: MD5 must be 16 bytes", bucket, key, storage.ErrBadDigest)
	}
	if err := s.checkBucket(ctx, bucket); err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("fs put %s/%s: %w", bucket, key, err)
	}
	t, err := s.newTemp()
	if err != nil {
		return storage.ObjectInfo{}, err
	}
	committed := false
	defer func() {
		if !committed {
			t.discard()
		}
	}()
	n, sum, err := t.writeContent(ctx, r, size)
	if err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("fs put %s/%s: %w", bucket, key, err)
	}
	if opts.MD5 != nil && !bytes.Equal(opts.MD5, sum) {
		return storage.ObjectInfo{}, fmt.Errorf("fs put %s/%s: %w", bucket, key, storage.ErrBadDigest)
	}
	m := newMeta(key, n, hex.EncodeToString(sum), opts)
	if err := t.finish(m); err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("fs put %s/%s: %w", bucket, key, err)
	}
	if err := ctx.Err(); err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("fs put %s/%s: %w", bucket, key, err)
	}
	if err := t.commit(dst, true); err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("fs put %s/%s: commit: %w", bucket, key, err)
	}
	committed = true
	return m.info(bucket, key), nil
}

// newMeta builds the trailer of a new object from its put options.
func newMeta(key string, size int64, etag string, opts storage.PutOptions) *objMeta {
	ct := opts.ContentType
	if ct == "" {
		ct = defaultContentType
	}
	var md map[string]string
	if len(opts.Metadata) > 0 {
		md = make(map[string]string, len(opts.Metadata))
		for k, v := range opts.Metadata {
			md[strings.ToLower(k)] = v
		}
	}
	return &objMeta{
		Key:          key,
		Size:         size,
		ETag:         etag,
		ContentType:  ct,
		CacheControl: opts.CacheControl,
		ModTime:      now(),
		Metadata:     md,
	}
}

// openObject opens an object file (never through a final symlink) and reads
// its trailer. A missing file is ErrNotFound.
func (s *Store) openObject(ctx context.Context, bucket, key string) (*os.File, *objMeta, error) {
	p, err := objectPath(bucket, key)
	if err != nil {
		return nil, nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	f, err := s.root.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		if errors.Is(err, iofs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			if berr := s.checkBucket(ctx, bucket); berr != nil {
				return nil, nil, berr
			}
			return nil, nil, fmt.Errorf("%w: %s/%s", storage.ErrNotFound, bucket, key)
		}
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		if st.IsDir() {
			return nil, nil, fmt.Errorf("%w: %s/%s", storage.ErrNotFound, bucket, key)
		}
		return nil, nil, fmt.Errorf("fs: %s is not a regular file", p)
	}
	m, err := readTrailer(f, st.Size())
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, m, nil
}

// Get opens bucket/key for reading, from opts.Offset for opts.Length bytes
// (Length <= 0 reads to the end). An offset at or past the end of a
// non-empty object is ErrInvalidRange.
func (s *Store) Get(ctx context.Context, bucket, key string, opts storage.GetOptions) (io.ReadCloser, storage.ObjectInfo, error) {
	f, m, err := s.openObject(ctx, bucket, key)
	if err != nil {
		return nil, storage.ObjectInfo{}, fmt.Errorf("fs get: %w", err)
	}
	off, n, err := storage.ResolveRange(opts, m.Size)
	if err != nil {
		f.Close()
		return nil, storage.ObjectInfo{}, fmt.Errorf("fs get %s/%s: %w", bucket, key, err)
	}
	return &objectReader{SectionReader: io.NewSectionReader(f, off, n), f: f}, m.info(bucket, key), nil
}

// objectReader reads a section of an object file and closes the file.
type objectReader struct {
	*io.SectionReader
	f *os.File
}

// Close closes the underlying file.
func (o *objectReader) Close() error { return o.f.Close() }

// Stat returns the attributes of bucket/key.
func (s *Store) Stat(ctx context.Context, bucket, key string) (storage.ObjectInfo, error) {
	f, m, err := s.openObject(ctx, bucket, key)
	if err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("fs stat: %w", err)
	}
	f.Close()
	return m.info(bucket, key), nil
}

// Delete removes bucket/key and then its parent directories that became
// empty. Deleting a missing object is not an error.
func (s *Store) Delete(ctx context.Context, bucket, key string) error {
	p, err := objectPath(bucket, key)
	if err != nil {
		return fmt.Errorf("fs delete: %w", err)
	}
	if err := s.checkBucket(ctx, bucket); err != nil {
		return fmt.Errorf("fs delete %s/%s: %w", bucket, key, err)
	}
	st, err := s.root.Lstat(p)
	switch {
	case errors.Is(err, iofs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
		return nil
	case err != nil:
		return fmt.Errorf("fs delete %s/%s: %w", bucket, key, err)
	case st.IsDir():
		return nil
	}
	if err := s.root.Remove(p); err != nil && !errors.Is(err, iofs.ErrNotExist) {
		return fmt.Errorf("fs delete %s/%s: %w", bucket, key, err)
	}
	_ = s.syncDir(path.Dir(p))
	s.pruneDirs(path.Dir(p), path.Join(bucketsDir, bucket))
	return nil
}

// pruneDirs removes dir and its parents up to (not including) stop while
// they are empty. rmdir fails on a non-empty directory, so a concurrent put
// never loses its directory (commit retries if it raced the removal).
func (s *Store) pruneDirs(dir, stop string) {
	for dir != stop && strings.HasPrefix(dir, stop+"/") {
		if err := s.root.Remove(dir); err != nil {
			return
		}
		dir = path.Dir(dir)
	}
}
