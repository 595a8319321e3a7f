package s3api

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/imgate/imgate/gateway/auth"
	"github.com/imgate/imgate/gateway/sigv4"
	"github.com/imgate/imgate/gateway/storage"
)

// Plumbing every operation shares: the request context, authentication, the
// bucket/key/permission checks and the small header helpers.

// requestCtx is the per-request state shared by handlers and error writing.
type requestCtx struct {
	id     string
	hostID string
	op     string
	bucket string
	key    string
	code   string
}

type ctxKey struct{}

func reqCtx(r *http.Request) *requestCtx {
	if rc, ok := r.Context().Value(ctxKey{}).(*requestCtx); ok {
		return rc
	}
	return &requestCtx{}
}

func reqCtxFromContext(ctx context.Context) *requestCtx {
	if rc, ok := ctx.Value(ctxKey{}).(*requestCtx); ok {
		return rc
	}
	return &requestCtx{}
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// Actions checked against an identity's permissions (IAM names).
const (
	actGetObject          = "s3:GetObject"
	actPutObject          = "s3:PutObject"
	actDeleteObject       = "s3:DeleteObject"
	actListBucket         = "s3:ListBucket"
	actListAllMyBuckets   = "s3:ListAllMyBuckets"
	actAbortMultipart     = "s3:AbortMultipartUpload"
	actListMultipartParts = "s3:ListMultipartUploadParts"
	actListUploads        = "s3:ListBucketMultipartUploads"
	actGetBucketLocation  = "s3:GetBucketLocation"
)

// hookTimeout bounds a Hooks call; it runs even if the client has gone.
const hookTimeout = 30 * time.Second

// caller is an authenticated request: its verified signature and the
// identity (root, static key or temporary credentials) behind it.
type caller struct {
	auth *sigv4.Auth
	id   *auth.Identity
	// sums returns the verified x-amz-checksum-* values once the body is consumed.
	sums func() map[string]string
}

// authenticate verifies r's SigV4 signature for service ("s3" or "sts") and
// resolves the caller's identity.
func (h *handler) authenticate(r *http.Request, service string) (*caller, error) {
	a, err := h.cfg.Verifier.Verify(r.Context(), r, service)
	if err != nil {
		return nil, err
	}
	id, err := h.cfg.Auth.Identity(r.Context(), a)
	if err != nil {
		return nil, err
	}
	return &caller{auth: a, id: id}, nil
}

// allowed reports whether the caller may perform action on bucket/key.
func (c *caller) allowed(action, bucket, key string) bool {
	return c.id.Allowed(action, bucket, key)
}

// body returns the verified request body: aws-chunked decoding, chunk
// signatures, payload hash, x-amz-checksum-* and Content-MD5 are checked
// while it is read, and a failure is returned by Read instead of io.EOF.
func (c *caller) body(r *http.Request, opts ...sigv4.BodyOption) (io.ReadCloser, error) {
	rc, err := c.auth.Body(r, opts...)
	if err != nil {
		return nil, err
	}
	if b, ok := rc.(*sigv4.BodyReader); ok {
		c.sums = b.Checksums
	}
	return rc, nil
}

// verifiedChecksums returns the x-amz-checksum-* values (header or
// trailer) the body reader verified, by lower-case header name.
func (c *caller) verifiedChecksums() map[string]string {
	if c == nil || c.sums == nil {
		return nil
	}
	return c.sums()
}

// bucketKind tells the two served buckets apart.
type bucketKind int

const (
	bucketUnknown bucketKind = iota
	bucketOriginal
	bucketResized
)

func (h *handler) kind(bucket string) bucketKind {
	switch bucket {
	case h.original:
		return bucketOriginal
	case h.resized:
		return bucketResized
	}
	return bucketUnknown
}

// readable checks that bucket is one of the served buckets.
func (h *handler) readable(bucket string) error {
	if h.kind(bucket) == bucketUnknown {
		if storage.ValidateBucket(bucket) != nil {
			return errorf("InvalidBucketName", http.StatusBadRequest, "The specified bucket is not valid.")
		}
		return errNoSuchBucket
	}
	return nil
}

// writable checks that clients may write into bucket: only NAME-original.
func (h *handler) writable(bucket string) error {
	switch h.kind(bucket) {
	case bucketOriginal:
		return nil
	case bucketResized:
		return errResizedReadOnly
	}
	return h.readable(bucket)
}

// checkKey validates a key with clear errors before it reaches a backend.
func checkKey(key string) error {
	if len(key) > storage.MaxKeyLength {
		return errorf("KeyTooLongError", http.StatusBadRequest, "Your key is too long: %d bytes, the limit is %d.", len(key), storage.MaxKeyLength)
	}
	if err := storage.ValidateKey(key); err != nil {
		msg := err.Error()
		if i := strings.Index(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
		return errInvalidArgument("Invalid object key: %s.", msg)
	}
	return nil
}

// prepareWrite runs the checks every write shares, in S3's order:
// signature, then bucket, key and permission.
func (h *handler) prepareWrite(w http.ResponseWriter, r *http.Request, action, bucket, key string) (*caller, bool) {
	return h.prepare(w, r, action, bucket, key, h.writable)
}

// prepareRead is prepareWrite for reads (both buckets).
func (h *handler) prepareRead(w http.ResponseWriter, r *http.Request, action, bucket, key string) (*caller, bool) {
	return h.prepare(w, r, action, bucket, key, h.readable)
}

// prepare authenticates the request, checks the bucket with bucketOK, the key
// (when there is one) and the caller's permission; on failure it has written
// the S3 error and returns false.
func (h *handler) prepare(w http.ResponseWriter, r *http.Request, action, bucket, key string, bucketOK func(string) error) (*caller, bool) {
	c, err := h.authenticate(r, "s3")
	if err != nil {
		h.writeError(w, r, err)
		return nil, false
	}
	if err := bucketOK(bucket); err != nil {
		h.writeError(w, r, err)
		return nil, false
	}
	if key != "" {
		if err := checkKey(key); err != nil {
			h.writeError(w, r, err)
			return nil, false
		}
	}
	if !c.allowed(action, bucket, key) {
		h.writeError(w, r, errAccessDenied)
		return nil, false
	}
	return c, true
}

// prepareList is prepareRead for listings: the identity is checked against
// the list prefix (which is not validated as a key: it may be empty or end
// in the middle of a segment).
func (h *handler) prepareList(w http.ResponseWriter, r *http.Request, action, bucket, prefix string) (*caller, bool) {
	c, err := h.authenticate(r, "s3")
	if err != nil {
		h.writeError(w, r, err)
		return nil, false
	}
	if err := h.readable(bucket); err != nil {
		h.writeError(w, r, err)
		return nil, false
	}
	if len(prefix) > storage.MaxKeyLength {
		h.writeError(w, r, errorf("KeyTooLongError", http.StatusBadRequest, "Your prefix is too long."))
		return nil, false
	}
	if !c.allowed(action, bucket, prefix) {
		h.writeError(w, r, errAccessDenied)
		return nil, false
	}
	return c, true
}

// authThenError authenticates and authorizes, then answers err: for
// operations imgate refuses or does not implement, so that unauthenticated
// callers learn nothing more than AccessDenied.
func (h *handler) authThenError(w http.ResponseWriter, r *http.Request, action, bucket, key string, err error) {
	c, aerr := h.authenticate(r, "s3")
	if aerr != nil {
		h.writeError(w, r, aerr)
		return
	}
	if rerr := h.readable(bucket); rerr != nil {
		h.writeError(w, r, rerr)
		return
	}
	if !c.allowed(action, bucket, key) {
		h.writeError(w, r, errAccessDenied)
		return
	}
	h.writeError(w, r, err)
}

// queryValues is url.Values with S3's subresource test: "?uploads" has the
// key with an empty value.
type queryValues url.Values

func (q queryValues) has(k string) bool { _, ok := q[k]; return ok }

func (q queryValues) get(k string) string { return url.Values(q).Get(k) }

// drainSmall reads and discards at most limit bytes of r.
func drainSmall(r io.Reader, limit int64) (int64, error) {
	return io.Copy(io.Discard, io.LimitReader(r, limit))
}

// declaredSize returns the object length the client declared, or -1: the
// decoded length for aws-chunked bodies, else Content-Length.
func declaredSize(r *http.Request) (int64, error) {
	if v := r.Header.Get("x-amz-decoded-content-length"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, errInvalidArgument("x-amz-decoded-content-length is not a valid length.")
		}
		return n, nil
	}
	if isAWSChunked(r) {
		return -1, nil
	}
	return r.ContentLength, nil
}

func isAWSChunked(r *http.Request) bool {
	if strings.HasPrefix(r.Header.Get("x-amz-content-sha256"), "STREAMING-") {
		return true
	}
	for _, ce := range strings.Split(r.Header.Get("Content-Encoding"), ",") {
		if strings.EqualFold(strings.TrimSpace(ce), "aws-chunked") {
			return true
		}
	}
	return false
}

// checkDeclaredSize refuses a declared length above limit before any body byte is read.
func (h *handler) checkDeclaredSize(r *http.Request, limit int64) (int64, error) {
	size, err := declaredSize(r)
	if err != nil {
		return 0, err
	}
	if size > limit {
		return 0, errEntityTooLarge(limit)
	}
	return size, nil
}

// contentMD5 decodes the Content-MD5 header (nil when absent).
func contentMD5(r *http.Request) ([]byte, error) {
	v := r.Header.Get("Content-MD5")
	if v == "" {
		return nil, nil
	}
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(b) != 16 {
		return nil, errInvalidDigest
	}
	return b, nil
}

// checksumHeaders are the x-amz-checksum-* headers S3 echoes after a write.
var checksumHeaders = []string{
	"x-amz-checksum-crc32", "x-amz-checksum-crc32c", "x-amz-checksum-crc64nvme",
	"x-amz-checksum-sha1", "x-amz-checksum-sha256",
}

// userMetadata collects the x-amz-meta-* headers (keys lower-cased, without the prefix).
func userMetadata(hdr http.Header) map[string]string {
	var m map[string]string
	for k, v := range hdr {
		lk := strings.ToLower(k)
		if name, ok := strings.CutPrefix(lk, "x-amz-meta-"); ok && name != "" && len(v) > 0 {
			if m == nil {
				m = map[string]string{}
			}
			m[name] = strings.Join(v, ",")
		}
	}
	return m
}

// metadataTooLarge reports whether user metadata exceeds S3's 2 KB limit.
func metadataTooLarge(m map[string]string) bool {
	n := 0
	for k, v := range m {
		n += len(k) + len(v)
	}
	return n > 2048
}

func quoteETag(etag string) string {
	if strings.HasPrefix(etag, `"`) {
		return etag
	}
	return `"` + etag + `"`
}

type owner struct {
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName"`
}

var imgateOwner = owner{ID: "imgate", DisplayName: "imgate"}

func s3Time(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func intParam(v string, def, lo, hi int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo {
		return 0, errInvalidArgument("Invalid integer parameter %q.", v)
	}
	return min(n, hi), nil
}
