package s3

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/minio/minio-go/v7"

	"github.com/imgate/imgate/gateway/storage"
)

// CreateMultipart starts a multipart upload on the server.
func (s *Store) CreateMultipart(ctx context.Context, bucket, key string, opts storage.PutOptions) (string, error) {
	if err := validate("create multipart", bucket, key); err != nil {
		return "", err
	}
	id, err := s.core.NewMultipartUpload(ctx, bucket, key, putOptions(opts))
	if err != nil {
		return "", wrap("create multipart", bucket, key, err)
	}
	return id, nil
}

// PutPart uploads one part. With size -1 the part is sent as a chunked
// stream; md5sum, when set, is checked by the server.
func (s *Store) PutPart(ctx context.Context, bucket, key, uploadID string, partNumber int, r io.Reader, size int64, md5sum []byte) (storage.PartInfo, error) {
	if err := validate("put part", bucket, key); err != nil {
		return storage.PartInfo{}, err
	}
	if partNumber < 1 || partNumber > 10000 {
		return storage.PartInfo{}, fmt.Errorf("s3 put part: %w: part number %d not in 1..10000", storage.ErrInvalidPart, partNumber)
	}
	if !plausibleUploadID(uploadID) {
		return storage.PartInfo{}, fmt.Errorf("s3 put part: %w: %q", storage.ErrUploadNotFound, uploadID)
	}
	o := minio.PutObjectPartOptions{DisableContentSha256: true} // see body.go
	if md5sum != nil {
		o.Md5Base64 = base64.StdEncoding.EncodeToString(md5sum)
	}
	if size < 0 {
		body, n, cleanup, err := spool(ctx, r)
		if err != nil {
			return storage.PartInfo{}, fmt.Errorf("s3 put part %d %s/%s: %w", partNumber, bucket, key, err)
		}
		defer cleanup()
		r, size = body, n
	}
	p, err := s.core.PutObjectPart(ctx, bucket, key, uploadID, partNumber, newFinalByteReader(ctx, r, size), size, o)
	if err != nil {
		return storage.PartInfo{}, wrap(fmt.Sprintf("put part %d", partNumber), bucket, key, err)
	}
	return storage.PartInfo{PartNumber: p.PartNumber, ETag: strings.Trim(p.ETag, `"`), Size: p.Size, LastModified: p.LastModified}, nil
}

// ListParts returns every part uploaded so far, following the server's pages.
func (s *Store) ListParts(ctx context.Context, bucket, key, uploadID string) ([]storage.PartInfo, error) {
	if err := validate("list parts", bucket, key); err != nil {
		return nil, err
	}
	if !plausibleUploadID(uploadID) {
		return nil, fmt.Errorf("s3 list parts: %w: %q", storage.ErrUploadNotFound, uploadID)
	}
	var out []storage.PartInfo
	marker := 0
	for {
		res, err := s.core.ListObjectParts(ctx, bucket, key, uploadID, marker, 1000)
		if err != nil {
			return nil, wrap("list parts", bucket, key, err)
		}
		for _, p := range res.ObjectParts {
			out = append(out, storage.PartInfo{PartNumber: p.PartNumber, ETag: strings.Trim(p.ETag, `"`), Size: p.Size, LastModified: p.LastModified})
		}
		if !res.IsTruncated || res.NextPartNumberMarker <= marker {
			return out, nil
		}
		marker = res.NextPartNumberMarker
	}
}

// CompleteMultipart asks the server to assemble the parts, then reads the
// new object's attributes.
func (s *Store) CompleteMultipart(ctx context.Context, bucket, key, uploadID string, parts []storage.CompletePart) (storage.ObjectInfo, error) {
	if err := validate("complete multipart", bucket, key); err != nil {
		return storage.ObjectInfo{}, err
	}
	if !plausibleUploadID(uploadID) {
		return storage.ObjectInfo{}, fmt.Errorf("s3 complete multipart: %w: %q", storage.ErrUploadNotFound, uploadID)
	}
	if len(parts) == 0 {
		return storage.ObjectInfo{}, fmt.Errorf("s3 complete multipart: %w: no parts", storage.ErrInvalidPart)
	}
	cps := make([]minio.CompletePart, len(parts))
	for i, p := range parts {
		cps[i] = minio.CompletePart{PartNumber: p.PartNumber, ETag: strings.Trim(p.ETag, `"`)}
	}
	if _, err := s.core.CompleteMultipartUpload(ctx, bucket, key, uploadID, cps, minio.PutObjectOptions{}); err != nil {
		return storage.ObjectInfo{}, wrap("complete multipart", bucket, key, err)
	}
	info, err := s.Stat(ctx, bucket, key)
	if err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("s3 complete multipart: %w", err)
	}
	return info, nil
}

// AbortMultipart discards an upload and its parts. An unknown upload is
// ErrUploadNotFound, as on AWS (MinIO itself answers 204, so the upload is
// looked up first).
func (s *Store) AbortMultipart(ctx context.Context, bucket, key, uploadID string) error {
	if err := validate("abort multipart", bucket, key); err != nil {
		return err
	}
	if !plausibleUploadID(uploadID) {
		return fmt.Errorf("s3 abort multipart: %w: %q", storage.ErrUploadNotFound, uploadID)
	}
	if _, err := s.core.ListObjectParts(ctx, bucket, key, uploadID, 0, 1); err != nil {
		return wrap("abort multipart", bucket, key, err)
	}
	return wrap("abort multipart", bucket, key, s.core.AbortMultipartUpload(ctx, bucket, key, uploadID))
}

// ListMultipartUploads lists the uploads in progress whose key starts with
// prefix, following the server's pages. The prefix is applied here, not by
// the server: MinIO treats it as an exact key.
func (s *Store) ListMultipartUploads(ctx context.Context, bucket, prefix string) ([]storage.Upload, error) {
	if err := storage.ValidateBucket(bucket); err != nil {
		return nil, fmt.Errorf("s3 list uploads: %w", err)
	}
	var (
		out             []storage.Upload
		keyMark, idMark string
	)
	for {
		res, err := s.core.ListMultipartUploads(ctx, bucket, "", keyMark, idMark, "", 1000)
		if err != nil {
			return nil, wrap("list uploads", bucket, "", err)
		}
		for _, u := range res.Uploads {
			if !strings.HasPrefix(u.Key, prefix) {
				continue
			}
			out = append(out, storage.Upload{Key: u.Key, UploadID: u.UploadID, Initiated: u.Initiated})
		}
		if !res.IsTruncated || (res.NextKeyMarker == keyMark && res.NextUploadIDMarker == idMark) {
			return out, nil
		}
		keyMark, idMark = res.NextKeyMarker, res.NextUploadIDMarker
	}
}

// plausibleUploadID rejects ids no server issues (empty, with '/', '\',
// control characters or a ".." component) before they reach a URL.
func plausibleUploadID(id string) bool {
	if id == "" || len(id) > 1024 || strings.Contains(id, "..") {
		return false
	}
	for _, r := range id {
		if r < 0x20 || r == 0x7f || r == '/' || r == '\\' {
			return false
		}
	}
	return true
}

// spool makes a body of unknown size sendable as one part: up to PartSize
// stays in memory, a larger body goes to a temporary file.
func spool(ctx context.Context, r io.Reader) (io.Reader, int64, func(), error) {
	buf := make([]byte, PartSize)
	n, err := io.ReadFull(ctxReader{ctx, r}, buf)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return bytes.NewReader(buf[:n]), int64(n), func() {}, nil
	}
	if err != nil {
		return nil, 0, nil, err
	}
	f, err := os.CreateTemp("", "imgate-part-*")
	if err != nil {
		return nil, 0, nil, err
	}
	cleanup := func() {
		f.Close()
		os.Remove(f.Name())
	}
	total, err := io.Copy(f, io.MultiReader(bytes.NewReader(buf), ctxReader{ctx, r}))
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		cleanup()
		return nil, 0, nil, err
	}
	return f, total, cleanup, nil
}
