package s3

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"io"
	"iter"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/imgate/imgate/gateway/storage"
)

// putOptions converts storage options to minio-go's. Bodies are sent as
// UNSIGNED-PAYLOAD (see body.go).
func putOptions(o storage.PutOptions) minio.PutObjectOptions {
	return minio.PutObjectOptions{
		ContentType:          o.ContentType,
		CacheControl:         o.CacheControl,
		UserMetadata:         o.Metadata,
		DisableContentSha256: true,
	}
}

// maxParts is S3's limit on the parts of one upload.
const maxParts = 10000

// Put streams r to bucket/key. A known size up to MaxSinglePut goes in one
// PUT request (the server checks opts.MD5, and the ETag is the content MD5).
// An unknown size is read one PartSize buffer at a time: if the body ends
// within the first buffer it is one PUT, otherwise a multipart upload (so at
// most 10000 × PartSize = 160 GiB). Known sizes over MaxSinglePut use parts
// of max(PartSize, size/10000).
func (s *Store) Put(ctx context.Context, bucket, key string, r io.Reader, size int64, opts storage.PutOptions) (storage.ObjectInfo, error) {
	if err := validate("put", bucket, key); err != nil {
		return storage.ObjectInfo{}, err
	}
	if opts.MD5 != nil && len(opts.MD5) != md5.Size {
		return storage.ObjectInfo{}, fmt.Errorf("s3 put %s/%s: %w: MD5 must be 16 bytes", bucket, key, storage.ErrBadDigest)
	}
	if size >= 0 && size <= MaxSinglePut {
		return s.putSingle(ctx, bucket, key, r, size, opts)
	}
	partSize := int64(PartSize)
	if size > 0 {
		// S3 allows 10000 parts: grow the parts of huge known sizes.
		partSize = max(partSize, (size+maxParts-1)/maxParts)
	}
	buf := make([]byte, partSize)
	n, err := io.ReadFull(ctxReader{ctx, r}, buf)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		if size >= 0 {
			return storage.ObjectInfo{}, fmt.Errorf("s3 put %s/%s: body of %d bytes, declared %d", bucket, key, n, size)
		}
		return s.putSingle(ctx, bucket, key, bytes.NewReader(buf[:n]), int64(n), opts)
	case err != nil:
		return storage.ObjectInfo{}, fmt.Errorf("s3 put %s/%s: read: %w", bucket, key, err)
	}
	return s.putStream(ctx, bucket, key, io.MultiReader(bytes.NewReader(buf[:n]), r), buf, size, opts)
}

// putSingle sends one PUT request of exactly size bytes.
func (s *Store) putSingle(ctx context.Context, bucket, key string, r io.Reader, size int64, opts storage.PutOptions) (storage.ObjectInfo, error) {
	md5b64 := ""
	if opts.MD5 != nil {
		md5b64 = base64.StdEncoding.EncodeToString(opts.MD5)
	}
	start, replayable := startOf(r)
	for attempt := 0; ; attempt++ {
		ui, err := s.core.PutObject(ctx, bucket, key, newFinalByteReader(ctx, r, size), size, md5b64, "", putOptions(opts))
		if err == nil {
			return uploadInfo(bucket, key, ui, opts), nil
		}
		if !replayable || attempt == len(racedPutRetries) || !racedPrefixDelete(err) {
			return storage.ObjectInfo{}, wrap("put", bucket, key, err)
		}
		if _, serr := r.(io.Seeker).Seek(start, io.SeekStart); serr != nil {
			return storage.ObjectInfo{}, wrap("put", bucket, key, err)
		}
		select {
		case <-ctx.Done():
			return storage.ObjectInfo{}, wrap("put", bucket, key, err)
		case <-time.After(racedPutRetries[attempt]):
		}
	}
}

// racedPutRetries are the pauses before a put that lost a race with a
// delete under the same prefix is sent again.
var racedPutRetries = []time.Duration{10 * time.Millisecond, 50 * time.Millisecond, 200 * time.Millisecond}

// racedPrefixDelete reports an error MinIO gives a PUT whose parent
// directory a concurrent DELETE of the last object under it removed
// (minio/minio#15157: AccessDenied or NoSuchKey instead of success). Sending
// the same body again succeeds; only replayable bodies are retried.
func racedPrefixDelete(err error) bool {
	var er minio.ErrorResponse
	return errors.As(err, &er) && (er.Code == "AccessDenied" || er.Code == "NoSuchKey")
}

// startOf returns r's current offset when r can be rewound to it.
func startOf(r io.Reader) (int64, bool) {
	sk, ok := r.(io.Seeker)
	if !ok {
		return 0, false
	}
	off, err := sk.Seek(0, io.SeekCurrent)
	return off, err == nil
}

// putStream uploads r in PartSize parts through a multipart upload, reusing
// buf for every part, and aborts the upload on any failure. Each part is
// read whole before it is sent, and the upload is completed only after r
// has ended cleanly. The MD5 of the whole body is computed only when there
// is one to check.
func (s *Store) putStream(ctx context.Context, bucket, key string, r io.Reader, buf []byte, size int64, opts storage.PutOptions) (storage.ObjectInfo, error) {
	id, err := s.core.NewMultipartUpload(ctx, bucket, key, putOptions(opts))
	if err != nil {
		return storage.ObjectInfo{}, wrap("put", bucket, key, err)
	}
	done := false
	defer func() {
		if !done {
			actx, cancel := detachedContext(ctx)
			defer cancel()
			_ = s.core.AbortMultipartUpload(actx, bucket, key, id)
		}
	}()
	var whole hash.Hash
	if opts.MD5 != nil {
		whole = md5.New()
	}
	var (
		parts []minio.CompletePart
		total int64
	)
	src := ctxReader{ctx, r}
	for num := 1; ; num++ {
		n, rerr := io.ReadFull(src, buf)
		if rerr != nil && rerr != io.EOF && rerr != io.ErrUnexpectedEOF {
			return storage.ObjectInfo{}, fmt.Errorf("s3 put %s/%s: read: %w", bucket, key, rerr)
		}
		if n == 0 && num > 1 {
			break
		}
		if whole != nil {
			whole.Write(buf[:n])
		}
		sum := md5.Sum(buf[:n])
		p, err := s.core.PutObjectPart(ctx, bucket, key, id, num, bytes.NewReader(buf[:n]), int64(n),
			minio.PutObjectPartOptions{Md5Base64: base64.StdEncoding.EncodeToString(sum[:]), DisableContentSha256: true})
		if err != nil {
			return storage.ObjectInfo{}, wrap("put part", bucket, key, err)
		}
		parts = append(parts, minio.CompletePart{PartNumber: num, ETag: p.ETag})
		total += int64(n)
		if rerr != nil {
			break
		}
	}
	if size >= 0 && total != size {
		return storage.ObjectInfo{}, fmt.Errorf("s3 put %s/%s: body of %d bytes, declared %d", bucket, key, total, size)
	}
	if whole != nil && !bytes.Equal(opts.MD5, whole.Sum(nil)) {
		return storage.ObjectInfo{}, fmt.Errorf("s3 put %s/%s: %w", bucket, key, storage.ErrBadDigest)
	}
	ui, err := s.core.CompleteMultipartUpload(ctx, bucket, key, id, parts, putOptions(opts))
	if err != nil {
		return storage.ObjectInfo{}, wrap("put complete", bucket, key, err)
	}
	done = true
	ui.Size = total
	return uploadInfo(bucket, key, ui, opts), nil
}

// uploadInfo builds the ObjectInfo of a fresh upload without another request.
func uploadInfo(bucket, key string, ui minio.UploadInfo, opts storage.PutOptions) storage.ObjectInfo {
	ct := opts.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	mod := ui.LastModified
	if mod.IsZero() {
		mod = time.Now().UTC()
	}
	var md map[string]string
	if len(opts.Metadata) > 0 {
		md = make(map[string]string, len(opts.Metadata))
		for k, v := range opts.Metadata {
			md[strings.ToLower(k)] = v
		}
	}
	return storage.ObjectInfo{
		Bucket: bucket, Key: key, Size: ui.Size, ETag: strings.Trim(ui.ETag, `"`),
		ContentType: ct, CacheControl: opts.CacheControl, LastModified: mod, Metadata: md,
	}
}

// objectInfo converts minio-go's ObjectInfo.
func objectInfo(bucket string, oi minio.ObjectInfo) storage.ObjectInfo {
	var md map[string]string
	if len(oi.UserMetadata) > 0 {
		md = make(map[string]string, len(oi.UserMetadata))
		for k, v := range oi.UserMetadata {
			md[strings.ToLower(k)] = v
		}
	}
	return storage.ObjectInfo{
		Bucket:       bucket,
		Key:          oi.Key,
		Size:         oi.Size,
		ETag:         strings.Trim(oi.ETag, `"`),
		ContentType:  oi.ContentType,
		CacheControl: oi.Metadata.Get("Cache-Control"),
		LastModified: oi.LastModified,
		Metadata:     md,
	}
}

// Get opens bucket/key, or the range opts selects (Length <= 0: to the end).
func (s *Store) Get(ctx context.Context, bucket, key string, opts storage.GetOptions) (io.ReadCloser, storage.ObjectInfo, error) {
	if err := validate("get", bucket, key); err != nil {
		return nil, storage.ObjectInfo{}, err
	}
	var o minio.GetObjectOptions
	if opts.Offset < 0 {
		return nil, storage.ObjectInfo{}, fmt.Errorf("s3 get %s/%s: %w: negative offset", bucket, key, storage.ErrInvalidRange)
	}
	if opts.Offset > 0 || opts.Length > 0 {
		end := int64(0) // "bytes=off-"
		if opts.Length > 0 {
			end = opts.Offset + opts.Length - 1
		}
		if err := o.SetRange(opts.Offset, end); err != nil {
			return nil, storage.ObjectInfo{}, fmt.Errorf("s3 get %s/%s: %w: %w", bucket, key, storage.ErrInvalidRange, err)
		}
	}
	rc, oi, hdr, err := s.core.GetObject(ctx, bucket, key, o)
	if err != nil {
		return nil, storage.ObjectInfo{}, wrap("get", bucket, key, err)
	}
	info := objectInfo(bucket, oi)
	info.Key = key
	if cr := hdr.Get("Content-Range"); cr != "" {
		// "bytes a-b/total": the object's size, not the range's.
		if i := strings.LastIndexByte(cr, '/'); i >= 0 {
			var total int64
			if _, err := fmt.Sscan(cr[i+1:], &total); err == nil {
				info.Size = total
			}
		}
	}
	return rc, info, nil
}

// Stat returns the attributes of bucket/key.
func (s *Store) Stat(ctx context.Context, bucket, key string) (storage.ObjectInfo, error) {
	if err := validate("stat", bucket, key); err != nil {
		return storage.ObjectInfo{}, err
	}
	oi, err := s.client.StatObject(ctx, bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return storage.ObjectInfo{}, wrap("stat", bucket, key, err)
	}
	info := objectInfo(bucket, oi)
	info.Key = key
	return info, nil
}

// List yields the objects of a bucket in key order, page by page. The
// entries carry key, size, ETag and modification time (not content type or
// user metadata: S3 listings do not return them).
func (s *Store) List(ctx context.Context, bucket string, opts storage.ListOptions) iter.Seq2[storage.ObjectInfo, error] {
	return func(yield func(storage.ObjectInfo, error) bool) {
		if err := storage.ValidateBucket(bucket); err != nil {
			yield(storage.ObjectInfo{}, fmt.Errorf("s3 list: %w", err))
			return
		}
		lctx, cancel := context.WithCancel(ctx)
		defer cancel() // stops minio-go's listing goroutine when the caller breaks
		for oi := range s.client.ListObjects(lctx, bucket, minio.ListObjectsOptions{
			Prefix: opts.Prefix, StartAfter: opts.StartAfter, Recursive: true,
		}) {
			if oi.Err != nil {
				yield(storage.ObjectInfo{}, wrap("list", bucket, "", oi.Err))
				return
			}
			if !yield(objectInfo(bucket, oi), nil) {
				return
			}
		}
		if err := ctx.Err(); err != nil {
			yield(storage.ObjectInfo{}, fmt.Errorf("s3 list %s: %w", bucket, err))
		}
	}
}

// Delete removes bucket/key; a missing key is not an error, a missing bucket is.
func (s *Store) Delete(ctx context.Context, bucket, key string) error {
	if err := validate("delete", bucket, key); err != nil {
		return err
	}
	err := s.client.RemoveObject(ctx, bucket, key, minio.RemoveObjectOptions{})
	if errors.Is(classify(err), storage.ErrNotFound) {
		return nil
	}
	return wrap("delete", bucket, key, err)
}

// ctxReader fails reads once ctx is done, so a cancelled put stops reading.
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
