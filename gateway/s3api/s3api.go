// Package s3api serves imgate's S3-compatible HTTP surface: path-style
// requests (/BUCKET/KEY) against the two buckets NAME-original (clients read
// and write) and NAME-resized (clients read only), plus the STS AssumeRole
// action on POST /.
//
// Every request is authenticated with SigV4 (package sigv4), authorized per
// identity (package auth), and answered with S3's XML bodies and error codes
// and a request id. Bodies are streamed to the storage backend: memory per
// request is bounded whatever the object size. Uploads are limited in size
// (checked from the declared length before the body is read, and enforced
// while streaming), in concurrency (503 SlowDown when full, never queued),
// and in content type (sniffed from the first bytes, never trusted from the
// header).
package s3api

import (
	"context"
	"errors"
	"fmt"
	"github.com/imgate/imgate/resizer"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/imgate/imgate/gateway/auth"
	"github.com/imgate/imgate/gateway/sigv4"
	"github.com/imgate/imgate/gateway/storage"
	"github.com/prometheus/client_golang/prometheus"
)

// Hooks are called around writes into NAME-original.
type Hooks struct {
	// Uploaded is called after an object is stored in NAME-original, BEFORE the client gets its 200.
	// If it fails, the client gets 503 SlowDown (the object stays; the reconcile scan will find it).
	Uploaded func(ctx context.Context, obj storage.ObjectInfo) error
	// Deleted is called after an original is deleted through the gateway.
	Deleted func(ctx context.Context, bucket, key string) error
}

// Config configures the S3 handler. Zero values select the defaults.
type Config struct {
	Storage  storage.Storage
	Bucket   string // NAME: serves NAME-original (read/write) and NAME-resized (read-only to clients)
	Region   string // default "us-east-1"
	Verifier *sigv4.Verifier
	Auth     *auth.Store

	MaxObjectBytes       int64    // default 5 GiB
	MaxConcurrentUploads int      // default 64; beyond it 503 SlowDown
	AllowedContentTypes  []string // sniffed from the first bytes; empty = DefaultContentTypes
	MaxUploadsPerClient  int      // slots one access key or remote address may hold; default MaxConcurrentUploads/2 (at least 1)

	// BodyIdleTimeout cuts a request body that makes no progress for this
	// long (default 30 s); BodyMinRate cuts one whose average rate falls
	// under this many bytes/s after a 10 s grace (default 1024; negative: off).
	BodyIdleTimeout time.Duration
	BodyMinRate     int64

	// PublicVariants lets unsigned GET/HEAD read NAME-resized (never
	// NAME-original). Variant GETs negotiate WebP/AVIF siblings by Accept.
	PublicVariants bool
	// RenderMissing, if set, renders a missing variant of preset for the
	// original key and stores it (lazy rendering); storage.ErrNotFound when
	// the original or the preset does not exist.
	RenderMissing func(ctx context.Context, preset, key string) error
	// SiblingFormats, if set, names the sibling formats ("avif", "webp")
	// preset is configured to have. A client that accepts one of them but
	// gets the primary because the sibling is not stored yet gets it with
	// "Cache-Control: no-cache", so no CDN keeps that answer for long.
	SiblingFormats func(ctx context.Context, preset string) []string

	Hooks      Hooks
	Logger     *slog.Logger
	Registerer prometheus.Registerer // may be nil
}

// Defaults.
const (
	DefaultRegion                = "us-east-1"
	DefaultMaxObjectBytes  int64 = 5 << 30
	DefaultMaxConcurrent         = 64
	DefaultBodyIdleTimeout       = 30 * time.Second
	DefaultBodyMinRate     int64 = 1024
)

// DefaultContentTypes are the content types accepted when
// Config.AllowedContentTypes is empty: every type the resizer decodes.
var DefaultContentTypes = resizer.ContentTypes()

// maxPartBytes is S3's limit on one multipart part.
const maxPartBytes int64 = 5 << 30

// maxParts is S3's limit on the number of parts of an upload.
const maxParts = 10000

// Validate checks the configuration and fills in defaults.
func (c *Config) Validate() error {
	if c.Storage == nil {
		return errors.New("s3api: Storage is required")
	}
	if c.Verifier == nil {
		return errors.New("s3api: Verifier is required")
	}
	if c.Auth == nil {
		return errors.New("s3api: Auth is required")
	}
	if c.Bucket == "" {
		return errors.New("s3api: Bucket is required")
	}
	for _, b := range []string{c.Bucket + "-original", c.Bucket + "-resized"} {
		if err := storage.ValidateBucket(b); err != nil {
			return fmt.Errorf("s3api: bucket name: %w", err)
		}
	}
	if c.Region == "" {
		c.Region = DefaultRegion
	}
	if c.MaxObjectBytes <= 0 {
		c.MaxObjectBytes = DefaultMaxObjectBytes
	}
	if c.MaxConcurrentUploads <= 0 {
		c.MaxConcurrentUploads = DefaultMaxConcurrent
	}
	if c.MaxUploadsPerClient <= 0 {
		c.MaxUploadsPerClient = max(c.MaxConcurrentUploads/2, 1)
	}
	if c.BodyIdleTimeout <= 0 {
		c.BodyIdleTimeout = DefaultBodyIdleTimeout
	}
	if c.BodyMinRate == 0 {
		c.BodyMinRate = DefaultBodyMinRate
	}
	types := c.AllowedContentTypes
	if len(types) == 0 {
		types = DefaultContentTypes
	}
	c.AllowedContentTypes = nil
	for _, t := range types {
		if t = strings.ToLower(strings.TrimSpace(t)); t != "" {
			c.AllowedContentTypes = append(c.AllowedContentTypes, t)
		}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}

type handler struct {
	cfg       Config
	log       *slog.Logger
	original  string
	resized   string
	created   time.Time
	uploads   chan struct{} // semaphore of in-flight uploads
	perClient *clientCaps   // slots held per access key and remote address
	tally     *partTally    // stored part sizes of multipart uploads in progress
	paceGrace time.Duration // before a body's minimum rate applies (tests shorten it)
	allowed   map[string]bool
	metrics   *metrics
}

// New returns the S3 handler.
func New(cfg Config) (http.Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h := &handler{
		cfg:       cfg,
		log:       cfg.Logger,
		original:  cfg.Bucket + "-original",
		resized:   cfg.Bucket + "-resized",
		created:   time.Now().UTC().Truncate(time.Second),
		uploads:   make(chan struct{}, cfg.MaxConcurrentUploads),
		paceGrace: paceGrace,
		perClient: &clientCaps{limit: cfg.MaxUploadsPerClient, counts: map[string]int{}},
		tally:     newPartTally(cfg.Storage.ListParts, tallyTTL, time.Now),
		allowed:   map[string]bool{},
	}
	for _, t := range cfg.AllowedContentTypes {
		h.allowed[t] = true
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	h.metrics = m
	return h, nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc := &requestCtx{id: newRequestID()}
	rc.hostID = rc.id
	r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, rc))
	w.Header().Set("x-amz-request-id", rc.id)
	w.Header().Set("x-amz-id-2", rc.hostID)
	w.Header().Set("Server", "imgate")
	start := time.Now()
	h.pace(w, r)
	h.route(w, r, rc)
	h.metrics.observe(rc.op, rc.code, time.Since(start))
}

// route dispatches a path-style request to its operation.
func (h *handler) route(w http.ResponseWriter, r *http.Request, rc *requestCtx) {
	bucket, key := splitPath(r.URL.Path)
	rc.bucket, rc.key = bucket, key
	q := queryValues(r.URL.Query())

	if bucket == "" {
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			rc.op = "ListBuckets"
			h.listBuckets(w, r)
		case http.MethodPost:
			rc.op = "STS"
			h.sts(w, r)
		default:
			rc.op = "Unknown"
			h.writeError(w, r, errMethodNotAllowed)
		}
		return
	}

	if key == "" {
		h.routeBucket(w, r, rc, bucket, q)
		return
	}
	h.routeObject(w, r, rc, bucket, key, q)
}

func (h *handler) routeBucket(w http.ResponseWriter, r *http.Request, rc *requestCtx, bucket string, q queryValues) {
	switch r.Method {
	case http.MethodHead:
		rc.op = "HeadBucket"
		h.headBucket(w, r, bucket)
	case http.MethodGet:
		switch {
		case q.has("location"):
			rc.op = "GetBucketLocation"
			h.getBucketLocation(w, r, bucket)
		case q.has("versioning"):
			rc.op = "GetBucketVersioning"
			h.getBucketVersioning(w, r, bucket)
		case q.has("uploads"):
			rc.op = "ListMultipartUploads"
			h.listMultipartUploads(w, r, bucket)
		case q.has("object-lock"):
			rc.op = "GetObjectLockConfiguration"
			h.bucketSubresourceMissing(w, r, bucket, &Error{"ObjectLockConfigurationNotFoundError", http.StatusNotFound, "Object Lock configuration does not exist for this bucket."})
		case q.has("policy"):
			rc.op = "GetBucketPolicy"
			h.bucketSubresourceMissing(w, r, bucket, &Error{"NoSuchBucketPolicy", http.StatusNotFound, "The bucket policy does not exist."})
		case q.has("tagging"):
			rc.op = "GetBucketTagging"
			h.bucketSubresourceMissing(w, r, bucket, &Error{"NoSuchTagSet", http.StatusNotFound, "The TagSet does not exist."})
		case q.has("encryption"):
			rc.op = "GetBucketEncryption"
			h.bucketSubresourceMissing(w, r, bucket, &Error{"ServerSideEncryptionConfigurationNotFoundError", http.StatusNotFound, "The server side encryption configuration was not found."})
		case q.has("lifecycle"):
			rc.op = "GetBucketLifecycle"
			h.bucketSubresourceMissing(w, r, bucket, &Error{"NoSuchLifecycleConfiguration", http.StatusNotFound, "The lifecycle configuration does not exist."})
		case q.has("cors"):
			rc.op = "GetBucketCors"
			h.bucketSubresourceMissing(w, r, bucket, &Error{"NoSuchCORSConfiguration", http.StatusNotFound, "The CORS configuration does not exist."})
		case q.has("acl"), q.has("notification"), q.has("replication"), q.has("website"), q.has("logging"), q.has("accelerate"), q.has("requestPayment"), q.has("ownershipControls"), q.has("policyStatus"):
			rc.op = "GetBucketSubresource"
			h.bucketSubresourceMissing(w, r, bucket, errNotImplemented)
		case q.get("list-type") == "2":
			rc.op = "ListObjectsV2"
			h.listObjects(w, r, bucket, true)
		default:
			rc.op = "ListObjects"
			h.listObjects(w, r, bucket, false)
		}
	case http.MethodPut:
		rc.op = "CreateBucket"
		if len(q) > 0 {
			rc.op = "PutBucketSubresource"
		}
		h.createBucket(w, r, bucket, len(q) > 0)
	case http.MethodPost:
		switch {
		case q.has("delete"):
			rc.op = "DeleteObjects"
			h.deleteObjects(w, r, bucket)
		case strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "multipart/form-data"):
			rc.op = "PostObject"
			h.postObject(w, r, bucket)
		default:
			rc.op = "Unknown"
			h.writeError(w, r, errNotImplemented)
		}
	case http.MethodDelete:
		rc.op = "DeleteBucket"
		h.authThenError(w, r, "s3:DeleteBucket", bucket, "", errorf("AccessDenied", http.StatusForbidden, "imgate's buckets cannot be deleted through the S3 API."))
	default:
		rc.op = "Unknown"
		h.writeError(w, r, errMethodNotAllowed)
	}
}

func (h *handler) routeObject(w http.ResponseWriter, r *http.Request, rc *requestCtx, bucket, key string, q queryValues) {
	switch r.Method {
	case http.MethodPut:
		switch {
		case q.has("partNumber") && q.has("uploadId"):
			rc.op = "UploadPart"
			if r.Header.Get("x-amz-copy-source") != "" {
				rc.op = "UploadPartCopy"
				h.authThenError(w, r, "s3:PutObject", bucket, key, errNotImplemented)
				return
			}
			h.uploadPart(w, r, bucket, key)
		case q.has("tagging"), q.has("acl"), q.has("retention"), q.has("legal-hold"):
			rc.op = "PutObjectSubresource"
			h.authThenError(w, r, "s3:PutObject", bucket, key, errNotImplemented)
		case r.Header.Get("x-amz-copy-source") != "":
			rc.op = "CopyObject"
			h.authThenError(w, r, "s3:PutObject", bucket, key, errorf("NotImplemented", http.StatusNotImplemented, "CopyObject is not supported by imgate; upload the object instead."))
		default:
			rc.op = "PutObject"
			h.putObject(w, r, bucket, key)
		}
	case http.MethodPost:
		switch {
		case q.has("uploads"):
			rc.op = "CreateMultipartUpload"
			h.createMultipart(w, r, bucket, key)
		case q.has("uploadId"):
			rc.op = "CompleteMultipartUpload"
			h.completeMultipart(w, r, bucket, key)
		default:
			rc.op = "Unknown"
			h.writeError(w, r, errNotImplemented)
		}
	case http.MethodGet:
		switch {
		case q.has("uploadId"):
			rc.op = "ListParts"
			h.listParts(w, r, bucket, key)
		case q.has("tagging"):
			rc.op = "GetObjectTagging"
			h.getObjectTagging(w, r, bucket, key)
		case q.has("acl"), q.has("retention"), q.has("legal-hold"), q.has("attributes"), q.has("torrent"):
			rc.op = "GetObjectSubresource"
			h.authThenError(w, r, "s3:GetObject", bucket, key, errNotImplemented)
		default:
			rc.op = "GetObject"
			h.getObject(w, r, bucket, key, false)
		}
	case http.MethodHead:
		rc.op = "HeadObject"
		h.getObject(w, r, bucket, key, true)
	case http.MethodDelete:
		if q.has("uploadId") {
			rc.op = "AbortMultipartUpload"
			h.abortMultipart(w, r, bucket, key)
			return
		}
		rc.op = "DeleteObject"
		h.deleteObject(w, r, bucket, key)
	default:
		rc.op = "Unknown"
		h.writeError(w, r, errMethodNotAllowed)
	}
}

// splitPath splits a path-style request path into bucket and key. The key
// keeps every byte after the first '/' following the bucket.
func splitPath(p string) (bucket, key string) {
	p = strings.TrimPrefix(p, "/")
	bucket, key, _ = strings.Cut(p, "/")
	return bucket, key
}
