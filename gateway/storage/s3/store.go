// Package s3 is the storage backend for S3-compatible servers (MinIO, AWS
// S3), built on minio-go. Bodies are streamed both ways; an upload of
// unknown size holds at most one part (PartSize) in memory.
package s3

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/imgate/imgate/gateway/storage"
)

// PartSize is the part size of multipart uploads this backend drives itself
// (objects of unknown size, or over MaxSinglePut): the memory one such
// upload holds.
const PartSize = 16 << 20

// MaxSinglePut is the largest object sent in one PUT request (S3's limit).
const MaxSinglePut = 5 << 30

// Config says how to reach the S3 server. The zero value of each optional
// field is the default.
type Config struct {
	// Endpoint is host[:port], without scheme (e.g. "127.0.0.1:9000", "s3.amazonaws.com").
	Endpoint string
	// Region is the bucket region; empty lets the client discover it.
	Region       string
	AccessKey    string
	SecretKey    string
	SessionToken string // for temporary credentials
	UseSSL       bool
	// PathStyle forces path-style requests (http://host/bucket/key), as
	// MinIO usually wants; otherwise the client picks (virtual-host on AWS).
	PathStyle bool
	// MaxRetries bounds retries of failed requests (minio-go's default when 0).
	MaxRetries int
	// Transport replaces the default HTTP transport (tests, proxies).
	Transport http.RoundTripper
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	if c.Endpoint == "" {
		errs = append(errs, errors.New("s3 endpoint is empty"))
	} else if strings.Contains(c.Endpoint, "://") || strings.Contains(c.Endpoint, "/") {
		errs = append(errs, fmt.Errorf("s3 endpoint %q must be host[:port], without scheme or path", c.Endpoint))
	}
	if (c.AccessKey == "") != (c.SecretKey == "") {
		errs = append(errs, errors.New("s3 access key and secret key must be set together"))
	}
	if c.MaxRetries < 0 {
		errs = append(errs, errors.New("s3 max retries must not be negative"))
	}
	return errors.Join(errs...)
}

// Store is a storage.Storage and storage.Presigner on an S3 server.
type Store struct {
	client *minio.Client
	core   minio.Core
	region string
}

var (
	_ storage.Storage   = (*Store)(nil)
	_ storage.Presigner = (*Store)(nil)
)

// New returns a Store for cfg. It does not contact the server (see Ping).
func New(ctx context.Context, cfg Config) (*Store, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	lookup := minio.BucketLookupAuto
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	var creds *credentials.Credentials
	if cfg.AccessKey != "" {
		creds = credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, cfg.SessionToken)
	} else {
		creds = credentials.NewStatic("", "", "", credentials.SignatureAnonymous)
	}
	c, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:        creds,
		Secure:       cfg.UseSSL,
		Region:       cfg.Region,
		BucketLookup: lookup,
		MaxRetries:   cfg.MaxRetries,
		Transport:    cfg.Transport,
	})
	if err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	return &Store{client: c, core: minio.Core{Client: c}, region: cfg.Region}, nil
}

// Client returns the underlying minio-go client, for features outside storage.Storage.
func (s *Store) Client() *minio.Client { return s.client }

// Ping checks the server answers. Any S3 reply, even AccessDenied for
// credentials that may not list buckets, proves it is reachable; network
// errors and bad credentials do not.
func (s *Store) Ping(ctx context.Context) error {
	_, err := s.client.ListBuckets(ctx)
	if err == nil {
		return nil
	}
	var er minio.ErrorResponse
	if errors.As(err, &er) && er.Code == "AccessDenied" {
		return nil
	}
	return wrap("ping", "", "", err)
}

// EnsureBucket creates the bucket unless it exists (and is ours).
func (s *Store) EnsureBucket(ctx context.Context, bucket string) error {
	if err := storage.ValidateBucket(bucket); err != nil {
		return fmt.Errorf("s3 ensure bucket: %w", err)
	}
	err := s.client.MakeBucket(ctx, bucket, minio.MakeBucketOptions{Region: s.region})
	if err == nil {
		return nil
	}
	var er minio.ErrorResponse
	if errors.As(err, &er) && er.Code == "BucketAlreadyOwnedByYou" {
		return nil
	}
	if ok, xerr := s.client.BucketExists(ctx, bucket); xerr == nil && ok {
		return nil
	}
	return wrap("ensure bucket", bucket, "", err)
}

// BucketExists reports whether the bucket exists.
func (s *Store) BucketExists(ctx context.Context, bucket string) (bool, error) {
	if err := storage.ValidateBucket(bucket); err != nil {
		return false, fmt.Errorf("s3 bucket exists: %w", err)
	}
	ok, err := s.client.BucketExists(ctx, bucket)
	if err != nil {
		return false, wrap("bucket exists", bucket, "", err)
	}
	return ok, nil
}

// validate checks bucket and key before any request.
func validate(op, bucket, key string) error {
	if err := storage.ValidateBucket(bucket); err != nil {
		return fmt.Errorf("s3 %s: %w", op, err)
	}
	if err := storage.ValidateKey(key); err != nil {
		return fmt.Errorf("s3 %s: %w", op, err)
	}
	return nil
}

// errorCodes maps S3 error codes to the storage sentinels.
var errorCodes = map[string]error{
	"NoSuchKey":                  storage.ErrNotFound,
	"NoSuchBucket":               storage.ErrBucketNotFound,
	"NoSuchUpload":               storage.ErrUploadNotFound,
	"InvalidPart":                storage.ErrInvalidPart,
	"InvalidPartOrder":           storage.ErrInvalidPartOrder,
	"EntityTooSmall":             storage.ErrPartTooSmall,
	"BadDigest":                  storage.ErrBadDigest,
	"XAmzContentSHA256Mismatch":  storage.ErrBadDigest,
	"InvalidDigest":              storage.ErrBadDigest,
	"InvalidRange":               storage.ErrInvalidRange,
	"InvalidBucketName":          storage.ErrInvalidBucket,
	"XMinioInvalidObjectName":    storage.ErrInvalidKey,
	"KeyTooLongError":            storage.ErrInvalidKey,
	"SlowDown":                   storage.ErrUnavailable,
	"ServiceUnavailable":         storage.ErrUnavailable,
	"XMinioServerNotInitialized": storage.ErrUnavailable,
}

// wrap names the operation and adds the matching storage sentinel to a
// minio-go error, keeping the original in the chain for errors.As.
func wrap(op, bucket, key string, err error) error {
	if err == nil {
		return nil
	}
	where := bucket
	if key != "" {
		where += "/" + key
	}
	if sentinel := classify(err); sentinel != nil {
		return fmt.Errorf("s3 %s %s: %w: %w", op, where, sentinel, err)
	}
	return fmt.Errorf("s3 %s %s: %w", op, where, err)
}

// classify returns the storage sentinel err stands for, or nil.
func classify(err error) error {
	var er minio.ErrorResponse
	if errors.As(err, &er) {
		if s, ok := errorCodes[er.Code]; ok {
			return s
		}
		if er.StatusCode == http.StatusServiceUnavailable {
			return storage.ErrUnavailable
		}
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return nil
	}
	var ne net.Error
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return storage.ErrUnavailable
	}
	var oe *net.OpError
	var de *net.DNSError
	if errors.As(err, &oe) || errors.As(err, &de) {
		return storage.ErrUnavailable
	}
	return nil
}

// detachedContext is used to clean up (abort an upload) after ctx was cancelled.
func detachedContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
}
