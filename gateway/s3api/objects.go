package s3api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/imgate/imgate/gateway/storage"
)

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

// acquire takes an upload slot without waiting; false means the gateway is
// at MaxConcurrentUploads and the client must slow down.
func (h *handler) acquire() (release func(), ok bool) {
	select {
	case h.uploads <- struct{}{}:
		h.metrics.inflight.Inc()
		return func() {
			<-h.uploads
			h.metrics.inflight.Dec()
		}, true
	default:
		return nil, false
	}
}

// openUpload takes an upload slot (SlowDown when none is free) and opens the
// verified body, limited to limit bytes with size declared; done closes the
// body and frees the slot.
func (h *handler) openUpload(r *http.Request, c *caller, limit, size int64) (*uploadReader, func(), error) {
	release, ok := h.acquire()
	if !ok {
		return nil, nil, errSlowDown
	}
	body, err := c.bodyMD5ByStorage(r)
	if err != nil {
		release()
		return nil, nil, err
	}
	ur := &uploadReader{r: body, limit: limit, tooLarge: errEntityTooLarge(limit), declared: size}
	return ur, func() { body.Close(); release() }, nil
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

// sniffed is the head of an upload read to decide its content type.
type sniffed struct {
	head []byte
	typ  string
}

// sniff reads up to sniffLen bytes of body and checks the content type.
func (h *handler) sniff(body io.Reader) (*sniffed, error) {
	buf := make([]byte, sniffLen)
	n, err := io.ReadFull(body, buf)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, err
	}
	s := &sniffed{head: buf[:n], typ: sniffContentType(buf[:n])}
	if n == 0 {
		return nil, errInvalidArgument("The object is empty; imgate accepts only images (%s).", strings.Join(h.cfg.AllowedContentTypes, ", "))
	}
	if !h.allowed[s.typ] {
		return nil, h.errNotAllowedType(s.typ)
	}
	return s, nil
}

// putObject handles PutObject: every payload mode goes through the
// verifier's body reader, which checks chunk signatures, checksums and
// Content-MD5; any failure aborts the put and nothing is stored.
func (h *handler) putObject(w http.ResponseWriter, r *http.Request, bucket, key string) {
	c, ok := h.prepareWrite(w, r, actPutObject, bucket, key)
	if !ok {
		return
	}
	size, err := h.checkDeclaredSize(r, h.cfg.MaxObjectBytes)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	md5sum, err := contentMD5(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	meta := userMetadata(r.Header)
	if metadataTooLarge(meta) {
		h.writeError(w, r, errorf("MetadataTooLarge", http.StatusBadRequest, "Your metadata headers exceed the maximum allowed metadata size (2048 bytes)."))
		return
	}
	ur, done, err := h.openUpload(r, c, h.cfg.MaxObjectBytes, size)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	defer done()
	sn, err := h.sniff(ur)
	if err != nil {
		h.writeError(w, r, ur.cause(err))
		return
	}
	opts := storage.PutOptions{
		ContentType:  sn.typ,
		CacheControl: r.Header.Get("Cache-Control"),
		Metadata:     meta,
		MD5:          md5sum,
	}
	info, err := h.cfg.Storage.Put(r.Context(), bucket, key, io.MultiReader(bytes.NewReader(sn.head), ur), size, opts)
	if err != nil {
		h.writeError(w, r, ur.cause(err))
		return
	}
	h.metrics.uploadedBytes.Add(float64(info.Size))
	if err := h.uploaded(r.Context(), info); err != nil {
		h.writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", quoteETag(info.ETag))
	h.echoChecksums(w, r, c)
	w.WriteHeader(http.StatusOK)
}

// uploaded runs the Uploaded hook; its failure is answered as SlowDown
// (the object stays and the reconcile scan finds it).
func (h *handler) uploaded(ctx context.Context, info storage.ObjectInfo) error {
	if h.cfg.Hooks.Uploaded == nil {
		return nil
	}
	// The object is stored: record it even if the client hangs up now.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), hookTimeout)
	defer cancel()
	if err := h.cfg.Hooks.Uploaded(ctx, info); err != nil {
		h.log.ErrorContext(ctx, "upload hook failed; the reconcile scan will pick the object up",
			"request_id", reqCtxFromContext(ctx).id, "bucket", info.Bucket, "key", info.Key, "err", err)
		return errSlowDown
	}
	return nil
}

func reqCtxFromContext(ctx context.Context) *requestCtx {
	if rc, ok := ctx.Value(ctxKey{}).(*requestCtx); ok {
		return rc
	}
	return &requestCtx{}
}

// echoChecksums answers the x-amz-checksum-* values the client sent (as
// headers or, for aws-chunked bodies, as a verified trailer).
func (h *handler) echoChecksums(w http.ResponseWriter, r *http.Request, c *caller) {
	for _, name := range checksumHeaders {
		if v := r.Header.Get(name); v != "" {
			w.Header().Set(name, v)
		}
	}
	for name, v := range c.verifiedChecksums() {
		w.Header().Set(name, v)
	}
}

func quoteETag(etag string) string {
	if strings.HasPrefix(etag, `"`) {
		return etag
	}
	return `"` + etag + `"`
}

// getObject handles GetObject and HeadObject, with Range and conditional headers.
func (h *handler) getObject(w http.ResponseWriter, r *http.Request, bucket, key string, head bool) {
	if _, ok := h.prepareRead(w, r, actGetObject, bucket, key); !ok {
		return
	}
	ctx := r.Context()
	info, err := h.cfg.Storage.Stat(ctx, bucket, key)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if status := checkConditions(r, info); status != 0 {
		if status == http.StatusPreconditionFailed {
			h.writeError(w, r, errPreconditionFailed)
			return
		}
		setObjectHeaders(w, info)
		w.WriteHeader(status)
		return
	}
	offset, length, partial, err := parseRange(r.Header.Get("Range"), info.Size)
	if err != nil {
		w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", info.Size))
		h.writeError(w, r, err)
		return
	}
	if pn := r.URL.Query().Get("partNumber"); pn != "" && pn != "1" {
		h.writeError(w, r, errInvalidArgument("Only partNumber=1 is supported for objects read through imgate."))
		return
	}
	setObjectHeaders(w, info)
	applyResponseOverrides(w, r)
	w.Header().Set("Content-Length", strconv.FormatInt(length, 10))
	status := http.StatusOK
	if partial {
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", offset, offset+length-1, info.Size))
		status = http.StatusPartialContent
	}
	if head {
		w.WriteHeader(status)
		return
	}
	opts := storage.GetOptions{Offset: offset, Length: length}
	if !partial {
		opts = storage.GetOptions{Offset: 0, Length: -1}
	}
	rc, _, err := h.cfg.Storage.Get(ctx, bucket, key, opts)
	if err != nil {
		w.Header().Del("Content-Length")
		w.Header().Del("Content-Range")
		h.writeError(w, r, err)
		return
	}
	defer rc.Close()
	w.WriteHeader(status)
	if _, err := io.CopyN(w, rc, length); err != nil {
		// Headers are gone; the client sees a short body. Log it.
		h.log.WarnContext(ctx, "s3 GetObject body copy failed", "request_id", reqCtx(r).id,
			"bucket", bucket, "key", key, "err", err)
	}
}

func setObjectHeaders(w http.ResponseWriter, info storage.ObjectInfo) {
	hd := w.Header()
	hd.Set("ETag", quoteETag(info.ETag))
	if !info.LastModified.IsZero() {
		hd.Set("Last-Modified", info.LastModified.UTC().Format(http.TimeFormat))
	}
	// Objects that did not come through the gateway's sniffing (uploaded
	// straight to the backend) may claim any type: only raster image types
	// are served as such, anything else as an attachment, and a sandboxing
	// CSP keeps even a wrongly typed object from running in a browser.
	ct := info.ContentType
	if !safeInlineType(ct) {
		ct = "application/octet-stream"
		hd.Set("Content-Disposition", "attachment")
	}
	hd.Set("Content-Type", ct)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	hd.Set("Accept-Ranges", "bytes")
	if info.CacheControl != "" {
		hd.Set("Cache-Control", info.CacheControl)
	}
	for k, v := range info.Metadata {
		hd.Set("x-amz-meta-"+k, v)
	}
}

// safeInlineType reports whether a stored content type may be served as is.
func safeInlineType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || !strings.HasPrefix(mt, "image/") {
		return false
	}
	return mt != "image/svg+xml"
}

// applyResponseOverrides honours the response-* query parameters of signed GETs.
func applyResponseOverrides(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for param, header := range map[string]string{
		"response-content-type":        "Content-Type",
		"response-content-disposition": "Content-Disposition",
		"response-cache-control":       "Cache-Control",
		"response-content-language":    "Content-Language",
		"response-expires":             "Expires",
		"response-content-encoding":    "Content-Encoding",
	} {
		if v := q.Get(param); v != "" {
			w.Header().Set(header, v)
		}
	}
}

// checkConditions evaluates If-Match, If-None-Match, If-Modified-Since and
// If-Unmodified-Since; it returns 0 to proceed, 304 or 412.
func checkConditions(r *http.Request, info storage.ObjectInfo) int {
	etag := strings.Trim(info.ETag, `"`)
	matches := func(list string) bool {
		for _, v := range strings.Split(list, ",") {
			v = strings.TrimSpace(v)
			v = strings.TrimPrefix(v, "W/")
			if v == "*" || strings.Trim(v, `"`) == etag {
				return true
			}
		}
		return false
	}
	lm := info.LastModified.UTC().Truncate(time.Second)
	if v := r.Header.Get("If-Match"); v != "" {
		if !matches(v) {
			return http.StatusPreconditionFailed
		}
	} else if v := r.Header.Get("If-Unmodified-Since"); v != "" {
		if t, err := http.ParseTime(v); err == nil && lm.After(t) {
			return http.StatusPreconditionFailed
		}
	}
	if v := r.Header.Get("If-None-Match"); v != "" {
		if matches(v) {
			return http.StatusNotModified
		}
	} else if v := r.Header.Get("If-Modified-Since"); v != "" {
		if t, err := http.ParseTime(v); err == nil && !lm.After(t) {
			return http.StatusNotModified
		}
	}
	return 0
}

// parseRange parses a single "bytes=" range against an object of size
// bytes. Unparseable or multi-range headers are ignored (the whole object is
// sent, as S3 does); unsatisfiable ranges are InvalidRange.
func parseRange(v string, size int64) (offset, length int64, partial bool, err error) {
	if v == "" {
		return 0, size, false, nil
	}
	spec, ok := strings.CutPrefix(strings.TrimSpace(v), "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return 0, size, false, nil
	}
	first, last, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return 0, size, false, nil
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	if first == "" {
		n, perr := strconv.ParseInt(last, 10, 64)
		if perr != nil || n < 0 {
			return 0, size, false, nil
		}
		if n == 0 || size == 0 {
			// A suffix range of an empty object selects nothing: unsatisfiable (RFC 9110 §14.1.2).
			return 0, 0, false, errInvalidRange
		}
		if n > size {
			n = size
		}
		return size - n, n, true, nil
	}
	start, perr := strconv.ParseInt(first, 10, 64)
	if perr != nil || start < 0 {
		return 0, size, false, nil
	}
	if start >= size {
		return 0, 0, false, errInvalidRange
	}
	end := size - 1
	if last != "" {
		e, perr := strconv.ParseInt(last, 10, 64)
		if perr != nil || e < start {
			return 0, size, false, nil
		}
		if e < end {
			end = e
		}
	}
	return start, end - start + 1, true, nil
}

// deleteObject handles DeleteObject; deleting an original runs the Deleted hook.
func (h *handler) deleteObject(w http.ResponseWriter, r *http.Request, bucket, key string) {
	if _, ok := h.prepareWrite(w, r, actDeleteObject, bucket, key); !ok {
		return
	}
	if err := h.removeObject(r.Context(), bucket, key); err != nil {
		h.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *handler) removeObject(ctx context.Context, bucket, key string) error {
	if err := h.cfg.Storage.Delete(ctx, bucket, key); err != nil {
		return err
	}
	if h.cfg.Hooks.Deleted != nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), hookTimeout)
		defer cancel()
		if err := h.cfg.Hooks.Deleted(ctx, bucket, key); err != nil {
			h.log.ErrorContext(ctx, "delete hook failed", "request_id", reqCtxFromContext(ctx).id,
				"bucket", bucket, "key", key, "err", err)
			return errSlowDown
		}
	}
	return nil
}
