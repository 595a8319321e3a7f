// Package fs is the embedded storage backend: objects kept in a local data
// directory, with no other process needed.
//
// Layout under the data directory:
//
//	buckets/<bucket>/d<segment>/…/f<segment>   one file per object
//	uploads/<bucket>/<upload id>/upload.json   multipart upload state
//	uploads/<bucket>/<upload id>/part.NNNNN    multipart parts
//	tmp/<pid>.<random>                          files being written
//
// Every path segment of a key but the last becomes a directory named "d"+segment
// and the last a file named "f"+segment, so keys "a" and "a/b" can both exist.
// An object file holds the content followed by a JSON metadata trailer (see
// meta.go), so content and metadata are committed together by one rename.
// All access goes through an os.Root, so no path can leave the data directory,
// and object files are opened with O_NOFOLLOW.
package fs

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path"
	"strings"
	"syscall"

	"github.com/imgate/imgate/gateway/storage"
)

const (
	bucketsDir = "buckets"
	uploadsDir = "uploads"
	tmpDir     = "tmp"

	dirPerm  = 0o750
	filePerm = 0o640

	// maxSegment is the longest key path segment the backend accepts: a file
	// name is at most 255 bytes and one byte goes to the "d"/"f" prefix.
	maxSegment = 254
)

// Store is a storage.Storage kept in a local directory. It is safe for
// concurrent use, also by several Stores on the same directory.
type Store struct {
	root *os.Root
	dir  string
}

var _ storage.Storage = (*Store)(nil)

// New opens (creating it if needed) a data directory and removes the temporary
// files left behind by processes that died while writing.
func New(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("fs: empty data directory")
	}
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return nil, fmt.Errorf("fs: create data directory: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("fs: open data directory: %w", err)
	}
	for _, d := range []string{bucketsDir, uploadsDir, tmpDir} {
		if err := root.MkdirAll(d, dirPerm); err != nil {
			root.Close()
			return nil, fmt.Errorf("fs: create %s: %w", d, err)
		}
	}
	s := &Store{root: root, dir: dir}
	if err := s.cleanTemp(); err != nil {
		root.Close()
		return nil, err
	}
	return s, nil
}

// Dir returns the data directory the store was opened on.
func (s *Store) Dir() string { return s.dir }

// Close releases the data directory.
func (s *Store) Close() error { return s.root.Close() }

// Ping reports whether the data directory is still usable.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	st, err := s.root.Stat(bucketsDir)
	if err != nil {
		return fmt.Errorf("fs ping: %w: %w", storage.ErrUnavailable, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("fs ping: %w: %s is not a directory", storage.ErrUnavailable, bucketsDir)
	}
	return nil
}

// EnsureBucket creates the bucket directory if it does not exist.
func (s *Store) EnsureBucket(ctx context.Context, bucket string) error {
	if err := storage.ValidateBucket(bucket); err != nil {
		return fmt.Errorf("fs ensure bucket: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.root.MkdirAll(path.Join(bucketsDir, bucket), dirPerm); err != nil {
		return fmt.Errorf("fs ensure bucket %s: %w", bucket, err)
	}
	return nil
}

// BucketExists reports whether the bucket directory exists.
func (s *Store) BucketExists(ctx context.Context, bucket string) (bool, error) {
	if err := storage.ValidateBucket(bucket); err != nil {
		return false, fmt.Errorf("fs bucket exists: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	st, err := s.root.Lstat(path.Join(bucketsDir, bucket))
	if errors.Is(err, iofs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("fs bucket exists %s: %w", bucket, err)
	}
	return st.IsDir(), nil
}

// checkBucket validates the name and returns ErrBucketNotFound if it does not exist.
func (s *Store) checkBucket(ctx context.Context, bucket string) error {
	ok, err := s.BucketExists(ctx, bucket)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: %s", storage.ErrBucketNotFound, bucket)
	}
	return nil
}

// objectPath maps a validated bucket and key to the object's file, relative
// to the data directory. It validates both first.
func objectPath(bucket, key string) (string, error) {
	if err := storage.ValidateBucket(bucket); err != nil {
		return "", err
	}
	if err := storage.ValidateKey(key); err != nil {
		return "", err
	}
	segs := strings.Split(key, "/")
	var b strings.Builder
	b.Grow(len(bucketsDir) + len(bucket) + len(key) + 2*len(segs) + 2)
	b.WriteString(bucketsDir)
	b.WriteByte('/')
	b.WriteString(bucket)
	for i, seg := range segs {
		if len(seg) > maxSegment {
			return "", fmt.Errorf("%w: path segment of %d bytes, the fs backend allows %d", storage.ErrInvalidKey, len(seg), maxSegment)
		}
		b.WriteByte('/')
		if i == len(segs)-1 {
			b.WriteByte('f')
		} else {
			b.WriteByte('d')
		}
		b.WriteString(seg)
	}
	return b.String(), nil
}

// syncDir fsyncs a directory so a rename into it survives a crash.
func (s *Store) syncDir(dir string) error {
	d, err := s.root.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return err
	}
	return nil
}
