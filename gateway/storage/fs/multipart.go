package fs

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/imgate/imgate/gateway/storage"
)

const (
	uploadFile = "upload.json"
	partPrefix = "part."
	maxPartNum = 10000
)

// uploadState is the content of upload.json.
type uploadState struct {
	Key          string            `json:"key"`
	Initiated    time.Time         `json:"initiated"`
	ContentType  string            `json:"content_type,omitempty"`
	CacheControl string            `json:"cache_control,omitempty"`
	Metadata     map[string]string `json:"metadata,omitempty"`
}

// validUploadID reports whether id is one of ours (32 lower-case hex digits),
// checked before it becomes part of a path.
func validUploadID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func uploadDir(bucket, id string) string { return path.Join(uploadsDir, bucket, id) }

func partName(n int) string { return fmt.Sprintf("%s%05d", partPrefix, n) }

// CreateMultipart starts a multipart upload of bucket/key.
func (s *Store) CreateMultipart(ctx context.Context, bucket, key string, opts storage.PutOptions) (string, error) {
	if _, err := objectPath(bucket, key); err != nil {
		return "", fmt.Errorf("fs create multipart: %w", err)
	}
	if err := s.checkBucket(ctx, bucket); err != nil {
		return "", fmt.Errorf("fs create multipart %s/%s: %w", bucket, key, err)
	}
	var rnd [16]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", err
	}
	id := hex.EncodeToString(rnd[:])
	m := newMeta(key, 0, "", opts)
	js, err := json.Marshal(uploadState{Key: key, Initiated: m.ModTime, ContentType: m.ContentType, CacheControl: m.CacheControl, Metadata: m.Metadata})
	if err != nil {
		return "", err
	}
	t, err := s.newTemp()
	if err != nil {
		return "", err
	}
	if _, err := t.f.Write(js); err != nil {
		t.discard()
		return "", fmt.Errorf("fs create multipart: %w", err)
	}
	if err := t.f.Sync(); err != nil {
		t.discard()
		return "", fmt.Errorf("fs create multipart: %w", err)
	}
	t.f.Close()
	t.f = nil
	if err := t.commit(path.Join(uploadDir(bucket, id), uploadFile), true); err != nil {
		t.discard()
		return "", fmt.Errorf("fs create multipart %s/%s: %w", bucket, key, err)
	}
	return id, nil
}

// loadUpload reads an upload's state; it must belong to bucket/key.
func (s *Store) loadUpload(ctx context.Context, bucket, key, id string) (*uploadState, error) {
	if _, err := objectPath(bucket, key); err != nil {
		return nil, err
	}
	if err := s.checkBucket(ctx, bucket); err != nil {
		return nil, err
	}
	if !validUploadID(id) {
		return nil, fmt.Errorf("%w: %q", storage.ErrUploadNotFound, id)
	}
	js, err := s.root.ReadFile(path.Join(uploadDir(bucket, id), uploadFile))
	if errors.Is(err, iofs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", storage.ErrUploadNotFound, id)
	}
	if err != nil {
		return nil, err
	}
	var u uploadState
	if err := json.Unmarshal(js, &u); err != nil {
		return nil, fmt.Errorf("%w: upload %s: %w", errCorrupt, id, err)
	}
	if u.Key != key {
		return nil, fmt.Errorf("%w: %s is not an upload of %s", storage.ErrUploadNotFound, id, key)
	}
	return &u, nil
}

// PutPart stores one part of an upload atomically; a part uploaded again
// replaces the earlier one. md5sum, when set, is checked (ErrBadDigest).
func (s *Store) PutPart(ctx context.Context, bucket, key, uploadID string, partNumber int, r io.Reader, size int64, md5sum []byte) (storage.PartInfo, error) {
	if _, err := s.loadUpload(ctx, bucket, key, uploadID); err != nil {
		return storage.PartInfo{}, fmt.Errorf("fs put part: %w", err)
	}
	if partNumber < 1 || partNumber > maxPartNum {
		return storage.PartInfo{}, fmt.Errorf("fs put part: %w: part number %d not in 1..%d", storage.ErrInvalidPart, partNumber, maxPartNum)
	}
	t, err := s.newTemp()
	if err != nil {
		return storage.PartInfo{}, err
	}
	committed := false
	defer func() {
		if !committed {
			t.discard()
		}
	}()
	n, sum, err := t.writeContent(ctx, r, size)
	if err != nil {
		return storage.PartInfo{}, fmt.Errorf("fs put part %d: %w", partNumber, err)
	}
	if md5sum != nil && !bytes.Equal(md5sum, sum) {
		return storage.PartInfo{}, fmt.Errorf("fs put part %d: %w", partNumber, storage.ErrBadDigest)
	}
	m := &objMeta{Size: n, ETag: hex.EncodeToString(sum), ModTime: now()}
	if err := t.finish(m); err != nil {
		return storage.PartInfo{}, fmt.Errorf("fs put part %d: %w", partNumber, err)
	}
	// No MkdirAll: if the upload was aborted meanwhile, the rename fails.
	if err := t.commit(path.Join(uploadDir(bucket, uploadID), partName(partNumber)), false); err != nil {
		if errors.Is(err, iofs.ErrNotExist) {
			return storage.PartInfo{}, fmt.Errorf("fs put part: %w: %s", storage.ErrUploadNotFound, uploadID)
		}
		return storage.PartInfo{}, fmt.Errorf("fs put part %d: %w", partNumber, err)
	}
	committed = true
	return storage.PartInfo{PartNumber: partNumber, ETag: m.ETag, Size: n, LastModified: m.ModTime}, nil
}

// ListParts returns the parts uploaded so far, by part number.
func (s *Store) ListParts(ctx context.Context, bucket, key, uploadID string) ([]storage.PartInfo, error) {
	if _, err := s.loadUpload(ctx, bucket, key, uploadID); err != nil {
		return nil, fmt.Errorf("fs list parts: %w", err)
	}
	d, err := s.root.Open(uploadDir(bucket, uploadID))
	if err != nil {
		return nil, fmt.Errorf("fs list parts: %w", err)
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, fmt.Errorf("fs list parts: %w", err)
	}
	slices.Sort(names)
	var parts []storage.PartInfo
	for _, n := range names {
		num, ok := strings.CutPrefix(n, partPrefix)
		if !ok {
			continue
		}
		pn, err := strconv.Atoi(num)
		if err != nil {
			continue
		}
		f, m, err := s.openPart(bucket, uploadID, pn)
		if errors.Is(err, iofs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("fs list parts: %w", err)
		}
		f.Close()
		parts = append(parts, storage.PartInfo{PartNumber: pn, ETag: m.ETag, Size: m.Size, LastModified: m.ModTime})
	}
	return parts, nil
}

// openPart opens a part file and reads its trailer.
func (s *Store) openPart(bucket, id string, n int) (*os.File, *objMeta, error) {
	f, err := s.root.OpenFile(path.Join(uploadDir(bucket, id), partName(n)), os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	m, err := readTrailer(f, st.Size())
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, m, nil
}

// CompleteMultipart checks the named parts (ascending numbers, matching
// ETags, all but the last at least storage.MinPartSize), streams them into
// the object atomically and removes the upload. The ETag is S3's:
// hex(md5(concatenated part MD5s)) + "-" + number of parts.
func (s *Store) CompleteMultipart(ctx context.Context, bucket, key, uploadID string, parts []storage.CompletePart) (storage.ObjectInfo, error) {
	u, err := s.loadUpload(ctx, bucket, key, uploadID)
	if err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("fs complete multipart: %w", err)
	}
	if len(parts) == 0 {
		return storage.ObjectInfo{}, fmt.Errorf("fs complete multipart: %w: no parts", storage.ErrInvalidPart)
	}
	var (
		readers []io.Reader
		sums    []byte
	)
	files := make([]*os.File, 0, len(parts))
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	for i, p := range parts {
		if i > 0 && p.PartNumber <= parts[i-1].PartNumber {
			return storage.ObjectInfo{}, fmt.Errorf("fs complete multipart: %w", storage.ErrInvalidPartOrder)
		}
	}
	for i, p := range parts {
		if p.PartNumber < 1 || p.PartNumber > maxPartNum {
			return storage.ObjectInfo{}, fmt.Errorf("fs complete multipart: %w: part number %d", storage.ErrInvalidPart, p.PartNumber)
		}
		f, m, err := s.openPart(bucket, uploadID, p.PartNumber)
		if errors.Is(err, iofs.ErrNotExist) {
			return storage.ObjectInfo{}, fmt.Errorf("fs complete multipart: %w: part %d was not uploaded", storage.ErrInvalidPart, p.PartNumber)
		}
		if err != nil {
			return storage.ObjectInfo{}, fmt.Errorf("fs complete multipart: %w", err)
		}
		files = append(files, f)
		if !strings.EqualFold(strings.Trim(p.ETag, `"`), m.ETag) {
			return storage.ObjectInfo{}, fmt.Errorf("fs complete multipart: %w: part %d ETag mismatch", storage.ErrInvalidPart, p.PartNumber)
		}
		if i < len(parts)-1 && m.Size < storage.MinPartSize {
			return storage.ObjectInfo{}, fmt.Errorf("fs complete multipart: %w: part %d is %d bytes", storage.ErrPartTooSmall, p.PartNumber, m.Size)
		}
		raw, err := hex.DecodeString(m.ETag)
		if err != nil {
			return storage.ObjectInfo{}, fmt.Errorf("%w: part %d ETag", errCorrupt, p.PartNumber)
		}
		sums = append(sums, raw...)
		readers = append(readers, io.NewSectionReader(f, 0, m.Size))
	}
	sum := md5.Sum(sums)
	etag := hex.EncodeToString(sum[:]) + "-" + strconv.Itoa(len(parts))

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
	n, _, err := t.writeContent(ctx, io.MultiReader(readers...), -1)
	if err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("fs complete multipart: %w", err)
	}
	m := newMeta(key, n, etag, storage.PutOptions{ContentType: u.ContentType, CacheControl: u.CacheControl, Metadata: u.Metadata})
	if err := t.finish(m); err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("fs complete multipart: %w", err)
	}
	dst, _ := objectPath(bucket, key)
	if err := t.commit(dst, true); err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("fs complete multipart: commit: %w", err)
	}
	committed = true
	if err := s.root.RemoveAll(uploadDir(bucket, uploadID)); err != nil {
		return m.info(bucket, key), fmt.Errorf("fs complete multipart: remove parts: %w", err)
	}
	return m.info(bucket, key), nil
}

// AbortMultipart removes an upload and its parts.
func (s *Store) AbortMultipart(ctx context.Context, bucket, key, uploadID string) error {
	if _, err := s.loadUpload(ctx, bucket, key, uploadID); err != nil {
		return fmt.Errorf("fs abort multipart: %w", err)
	}
	// Remove the state first so the upload disappears at once.
	dir := uploadDir(bucket, uploadID)
	if err := s.root.Remove(path.Join(dir, uploadFile)); err != nil {
		return fmt.Errorf("fs abort multipart: %w", err)
	}
	if err := s.root.RemoveAll(dir); err != nil {
		return fmt.Errorf("fs abort multipart: %w", err)
	}
	return nil
}

// ListMultipartUploads lists the uploads in progress whose key starts with
// prefix, ordered by key and then initiation time.
func (s *Store) ListMultipartUploads(ctx context.Context, bucket, prefix string) ([]storage.Upload, error) {
	if err := s.checkBucket(ctx, bucket); err != nil {
		return nil, fmt.Errorf("fs list uploads: %w", err)
	}
	d, err := s.root.Open(path.Join(uploadsDir, bucket))
	if errors.Is(err, iofs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("fs list uploads: %w", err)
	}
	ids, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, fmt.Errorf("fs list uploads: %w", err)
	}
	var out []storage.Upload
	for _, id := range ids {
		if !validUploadID(id) {
			continue
		}
		js, err := s.root.ReadFile(path.Join(uploadDir(bucket, id), uploadFile))
		if err != nil {
			continue // being created or aborted
		}
		var u uploadState
		if json.Unmarshal(js, &u) != nil || !strings.HasPrefix(u.Key, prefix) {
			continue
		}
		out = append(out, storage.Upload{Key: u.Key, UploadID: id, Initiated: u.Initiated})
	}
	slices.SortFunc(out, func(a, b storage.Upload) int {
		if c := strings.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		return a.Initiated.Compare(b.Initiated)
	})
	return out, nil
}
