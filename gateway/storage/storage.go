// Package storage defines the one interface imgate uses to keep objects,
// whatever the backend: a local directory (package fs, the embedded default)
// or any S3-compatible server such as MinIO or AWS S3 (package s3).
//
// Every call takes a context first. Backends return the sentinel errors of
// this package (wrapped with %w) so callers can map them to S3 or JSON errors
// without knowing which backend is in use.
package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"time"
	"unicode/utf8"
)

// Sentinel errors. Backends wrap them; test with errors.Is.
var (
	ErrNotFound         = errors.New("object not found")
	ErrBucketNotFound   = errors.New("bucket not found")
	ErrInvalidKey       = errors.New("invalid object key")
	ErrInvalidBucket    = errors.New("invalid bucket name")
	ErrUploadNotFound   = errors.New("multipart upload not found")
	ErrInvalidPart      = errors.New("invalid multipart part")
	ErrInvalidPartOrder = errors.New("multipart parts not in ascending order")
	ErrPartTooSmall     = errors.New("multipart part too small")
	ErrBadDigest        = errors.New("content digest mismatch")
	ErrUnavailable      = errors.New("storage backend unavailable")
)

// MaxKeyLength is the longest key accepted, in bytes (S3's limit).
const MaxKeyLength = 1024

// MinPartSize is the smallest size of every multipart part but the last (S3's limit).
const MinPartSize = 5 << 20

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Bucket       string
	Key          string
	Size         int64
	ETag         string // hex MD5 of the content, or "<md5-of-md5s>-N" for multipart; no quotes
	ContentType  string
	CacheControl string
	LastModified time.Time
	// Metadata is user metadata (the x-amz-meta-* headers), keys in lower case without the prefix.
	Metadata map[string]string
}

// PutOptions are the optional attributes of a new object. The zero value is valid.
type PutOptions struct {
	ContentType  string
	CacheControl string
	Metadata     map[string]string
	// MD5 (raw 16 bytes), when set, is checked against the content; a mismatch
	// fails the put with ErrBadDigest and stores nothing.
	MD5 []byte
}

// GetOptions select part of an object. The zero value reads all of it.
type GetOptions struct {
	// Offset and Length select a byte range: Length <= 0 means "to the
	// end" (in every backend, as in ResolveRange). A negative Offset, or
	// one at or past the end of a non-empty object, is ErrInvalidRange
	// (the conformance suite checks both).
	Offset int64
	Length int64
}

// ListOptions select the objects List returns, in lexical key order.
type ListOptions struct {
	Prefix     string
	StartAfter string // only keys strictly greater than this
}

// PartInfo describes an uploaded multipart part.
type PartInfo struct {
	PartNumber   int
	ETag         string // hex MD5, no quotes
	Size         int64
	LastModified time.Time
}

// CompletePart names a part in a CompleteMultipartUpload request.
type CompletePart struct {
	PartNumber int
	ETag       string
}

// Upload describes an in-progress multipart upload.
type Upload struct {
	Key       string
	UploadID  string
	Initiated time.Time
}

// Storage keeps objects in buckets. Implementations must be safe for
// concurrent use, stream bodies (never hold a whole object in memory) and
// make puts atomic: a reader sees the old object or the new one, never a part.
type Storage interface {
	// Ping reports whether the backend is reachable.
	Ping(ctx context.Context) error
	// EnsureBucket creates the bucket if it does not exist.
	EnsureBucket(ctx context.Context, bucket string) error
	// BucketExists reports whether the bucket exists.
	BucketExists(ctx context.Context, bucket string) (bool, error)

	// Put stores r as bucket/key. size is the exact length, or -1 if unknown.
	Put(ctx context.Context, bucket, key string, r io.Reader, size int64, opts PutOptions) (ObjectInfo, error)
	// Get opens an object for reading. The caller closes the reader.
	Get(ctx context.Context, bucket, key string, opts GetOptions) (io.ReadCloser, ObjectInfo, error)
	// Stat returns an object's attributes.
	Stat(ctx context.Context, bucket, key string) (ObjectInfo, error)
	// List yields objects in lexical key order. Stop early by breaking the loop.
	List(ctx context.Context, bucket string, opts ListOptions) iter.Seq2[ObjectInfo, error]
	// Delete removes an object; deleting a missing object is not an error.
	Delete(ctx context.Context, bucket, key string) error

	// CreateMultipart starts a multipart upload and returns its id.
	CreateMultipart(ctx context.Context, bucket, key string, opts PutOptions) (string, error)
	// PutPart stores one part (1..10000). size is exact, or -1.
	PutPart(ctx context.Context, bucket, key, uploadID string, partNumber int, r io.Reader, size int64, md5sum []byte) (PartInfo, error)
	// ListParts returns the parts uploaded so far, by part number.
	ListParts(ctx context.Context, bucket, key, uploadID string) ([]PartInfo, error)
	// CompleteMultipart assembles the named parts into the object.
	CompleteMultipart(ctx context.Context, bucket, key, uploadID string, parts []CompletePart) (ObjectInfo, error)
	// AbortMultipart discards an upload and its parts.
	AbortMultipart(ctx context.Context, bucket, key, uploadID string) error
	// ListMultipartUploads lists uploads in progress whose key starts with prefix.
	ListMultipartUploads(ctx context.Context, bucket, prefix string) ([]Upload, error)
}

// Presigner is implemented by backends that clients can upload to directly
// (S3/MinIO), so bandwidth never touches the gateway.
type Presigner interface {
	PresignPut(ctx context.Context, bucket, key string, expiry time.Duration) (string, error)
	// PresignPost returns the form URL and fields for a browser POST upload.
	PresignPost(ctx context.Context, p PostPolicy) (string, map[string]string, error)
}

// PostPolicy is what a backend-presigned POST form allows.
type PostPolicy struct {
	Bucket       string
	Key          string // exact key, or empty when KeyPrefix is set
	KeyPrefix    string
	ContentType  string // exact content type, or empty
	MinBytes     int64
	MaxBytes     int64
	Expiry       time.Duration
	ExtraFields  map[string]string
	SuccessCode  int
	ContentTypes []string
}

// ValidateKey checks an object key before it reaches any backend: non-empty,
// valid UTF-8, at most MaxKeyLength bytes, no NUL or other control character,
// no "." or ".." path segment, no leading "/", no "//".
func ValidateKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty key", ErrInvalidKey)
	case len(key) > MaxKeyLength:
		return fmt.Errorf("%w: key is %d bytes, the limit is %d", ErrInvalidKey, len(key), MaxKeyLength)
	case !utf8.ValidString(key):
		return fmt.Errorf("%w: key is not valid UTF-8", ErrInvalidKey)
	case strings.HasPrefix(key, "/"):
		return fmt.Errorf("%w: key starts with '/'", ErrInvalidKey)
	case strings.Contains(key, "//"):
		return fmt.Errorf("%w: key contains an empty path segment", ErrInvalidKey)
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: key contains control character %U", ErrInvalidKey, r)
		}
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "." || seg == ".." {
			return fmt.Errorf("%w: key contains a %q path segment", ErrInvalidKey, seg)
		}
	}
	return nil
}

// ValidateBucket checks a bucket name against S3's rules (3–63 characters,
// lower-case letters, digits, '.', '-', starting and ending with a letter or digit).
func ValidateBucket(name string) error {
	if len(name) < 3 || len(name) > 63 {
		return fmt.Errorf("%w: %q must be 3 to 63 characters", ErrInvalidBucket, name)
	}
	for i, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.'
		if !ok {
			return fmt.Errorf("%w: %q may hold only a-z, 0-9, '-' and '.'", ErrInvalidBucket, name)
		}
		if (i == 0 || i == len(name)-1) && (r == '-' || r == '.') {
			return fmt.Errorf("%w: %q must start and end with a letter or digit", ErrInvalidBucket, name)
		}
	}
	if strings.Contains(name, "..") {
		return fmt.Errorf("%w: %q contains '..'", ErrInvalidBucket, name)
	}
	return nil
}
