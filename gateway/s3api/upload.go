package s3api

import (
	"bytes"
	"context"
	"errors"
	"github.com/imgate/imgate/resizer"
	"io"
	"net/http"
	"strings"

	"github.com/imgate/imgate/gateway/auth"
	"github.com/imgate/imgate/gateway/sigv4"
	"github.com/imgate/imgate/gateway/storage"
)

// sniffLen is how many leading bytes decide an object's content type
// (what http.DetectContentType looks at).
const sniffLen = 512

// sniffContentType names the content type of an object's first bytes. It
// never trusts a header: the resizer's sniffing (the formats it decodes,
// and other image formats by name), else http.DetectContentType.
func sniffContentType(head []byte) string {
	if ct := resizer.SniffContentType(head); ct != "" {
		return ct
	}
	ct := http.DetectContentType(head)
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.TrimSpace(ct)
}

// objectLimit is the largest object id may upload: the gateway's limit,
// narrowed by the max_bytes signed into temporary credentials.
func (h *handler) objectLimit(id *auth.Identity) int64 {
	if m := id.Limits.MaxBytes; m > 0 && m < h.cfg.MaxObjectBytes {
		return m
	}
	return h.cfg.MaxObjectBytes
}

// typeCheck returns the check of a sniffed content type against id's
// signed content_types and, for POST forms, the policy's condition on
// Content-Type (the sniffed type must pass it, not only the form field).
func typeCheck(id *auth.Identity, policyOK func(typ string) error) func(string) *Error {
	return func(typ string) *Error {
		if !id.Limits.AllowsType(typ) {
			return errInvalidArgument("The object's content is %s; these credentials accept only %s (the type is detected from the content).",
				typ, strings.Join(id.Limits.ContentTypes, ", "))
		}
		if policyOK != nil && policyOK(typ) != nil {
			return errorf("AccessDenied", http.StatusForbidden, "The object's content is %s, which the POST policy's Content-Type condition does not allow (the type is detected from the content).", typ)
		}
		return nil
	}
}

// errNotAllowedType is the refusal of content whose sniffed type is not allowed.
func (h *handler) errNotAllowedType(sniffed string) *Error {
	return errorf("InvalidArgument", http.StatusBadRequest,
		"The object's content is %s; imgate accepts only %s (the type is detected from the content, not from the Content-Type header).",
		sniffed, strings.Join(h.cfg.AllowedContentTypes, ", "))
}

// uploadReader wraps an upload body: it counts bytes, refuses more than limit
// (EntityTooLarge) or, at EOF, fewer than min (EntityTooSmall) or a length
// other than the declared one (IncompleteBody), and records the first
// failure so the handler can answer it even if the storage backend wraps it
// into its own error.
type uploadReader struct {
	r        io.Reader
	n        int64
	limit    int64 // refuse more than this many bytes
	tooLarge *Error
	min      int64 // refuse fewer at EOF (POST content-length-range)
	declared int64 // exact length expected, or -1
	err      error // first non-EOF error seen
}

func (u *uploadReader) Read(p []byte) (int, error) {
	if u.err != nil {
		return 0, u.err
	}
	// Read at most one byte past the limit to detect an oversize body
	// without ever storing it.
	if rem := u.limit + 1 - u.n; int64(len(p)) > rem {
		p = p[:rem]
	}
	n, err := u.r.Read(p)
	u.n += int64(n)
	if u.n > u.limit {
		u.err = u.tooLarge
		return 0, u.err
	}
	if err == io.EOF {
		switch {
		case u.declared >= 0 && u.n != u.declared:
			u.err = errIncompleteBody
		case u.n < u.min:
			u.err = errEntityTooSmall
		}
		if u.err != nil {
			return n, u.err
		}
		return n, io.EOF
	}
	if err != nil {
		u.err = err
	}
	return n, err
}

// cause returns the error the client should see for a failed store: the
// body's own failure (bad signature, bad digest, too large, client gone)
// when there was one, else the storage error.
func (u *uploadReader) cause(storeErr error) error {
	if u.err != nil && !errors.Is(u.err, io.EOF) {
		if errors.Is(u.err, io.ErrUnexpectedEOF) {
			return errIncompleteBody
		}
		return u.err
	}
	return storeErr
}

// upload is one object or part being received: the one pipeline PutObject,
// UploadPart and POST object share. It holds an upload slot, reads the
// verified body through the size limits, sniffs the content type from the
// first bytes, stores, counts the bytes and, for whole objects, runs the
// Uploaded hook. Errors it returns are the ones the client should see.
type upload struct {
	h       *handler
	release func()    // frees the slot
	closer  io.Closer // the request body, when the upload opened it
	src     *uploadReader
	c       *caller // the signer of the body; nil for POST (no checksums to echo)
	// accept refuses a sniffed content type the signer's limits (or a POST
	// policy) do not allow; nil accepts every type the gateway allows.
	accept func(typ string) *Error
}

// uploadLimits bounds what an upload may hold.
type uploadLimits struct {
	max      int64  // refuse more bytes than this
	tooLarge *Error // the refusal of more; default errEntityTooLarge(max)
	min      int64  // refuse fewer bytes at EOF (POST content-length-range)
	declared int64  // exact length the client declared, or -1
}

// errClientSlowDown refuses an upload past MaxUploadsPerClient.
var errClientSlowDown = errSlowDown.withMessage("Please reduce your request rate: too many uploads at once from this access key or address.")

// startUpload takes an upload slot for an authenticated signer without
// waiting: SlowDown when the gateway is at MaxConcurrentUploads or the
// signer's access key or remote address at MaxUploadsPerClient (never
// queued). Callers authenticate first: nothing unverified holds a slot.
func (h *handler) startUpload(r *http.Request, accessKey string) (*upload, error) {
	names := clientNames(accessKey, r)
	if !h.perClient.take(names...) {
		return nil, errClientSlowDown
	}
	select {
	case h.uploads <- struct{}{}:
	default:
		h.perClient.release(names...)
		return nil, errSlowDown
	}
	h.metrics.inflight.Inc()
	release := func() {
		<-h.uploads
		h.perClient.release(names...)
		h.metrics.inflight.Dec()
	}
	return &upload{h: h, release: release}, nil
}

// fromRequest reads the upload from r's body, verified against c's
// signature. Content-MD5 is left to the storage backend, which is handed
// the header and stores nothing on a mismatch.
func (u *upload) fromRequest(r *http.Request, c *caller, lim uploadLimits) error {
	body, err := c.body(r, sigv4.ContentMD5CheckedElsewhere())
	if err != nil {
		return err
	}
	u.c, u.closer = c, body
	u.fromReader(body, lim)
	return nil
}

// fromReader reads the upload from src (POST's file part: the policy
// signature covered the fields, not the bytes).
func (u *upload) fromReader(src io.Reader, lim uploadLimits) {
	if lim.tooLarge == nil {
		lim.tooLarge = errEntityTooLarge(lim.max)
	}
	u.src = &uploadReader{r: src, limit: lim.max, tooLarge: lim.tooLarge, min: lim.min, declared: lim.declared}
}

// close closes the body the upload opened and frees its slot.
func (u *upload) close() {
	if u.closer != nil {
		_ = u.closer.Close()
	}
	u.release()
}

// content returns the bytes to store. With sniff, the first bytes are read
// first and refused unless they are of an allowed type; the type is returned.
func (u *upload) content(sniff bool) (io.Reader, string, error) {
	if !sniff {
		return u.src, "", nil
	}
	buf := make([]byte, sniffLen)
	n, err := io.ReadFull(u.src, buf)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, "", u.src.cause(err)
	}
	if n == 0 {
		return nil, "", u.src.cause(errInvalidArgument("The object is empty; imgate accepts only images (%s).", strings.Join(u.h.cfg.AllowedContentTypes, ", ")))
	}
	typ := sniffContentType(buf[:n])
	if !u.h.allowed[typ] {
		return nil, "", u.src.cause(u.h.errNotAllowedType(typ))
	}
	if u.accept != nil {
		if e := u.accept(typ); e != nil {
			return nil, "", u.src.cause(e)
		}
	}
	return io.MultiReader(bytes.NewReader(buf[:n]), u.src), typ, nil
}

// putObject stores the upload as bucket/key (content type sniffed, size
// declared or -1) and runs the Uploaded hook.
func (u *upload) putObject(ctx context.Context, bucket, key string, size int64, opts storage.PutOptions) (storage.ObjectInfo, error) {
	src, typ, err := u.content(true)
	if err != nil {
		return storage.ObjectInfo{}, err
	}
	opts.ContentType = typ
	info, err := u.h.cfg.Storage.Put(ctx, bucket, key, src, size, opts)
	if err != nil {
		return storage.ObjectInfo{}, u.src.cause(err)
	}
	u.h.metrics.uploadedBytes.Add(float64(info.Size))
	return info, u.h.uploaded(ctx, info)
}

// putPart stores the upload as part n of uploadID. Part 1 decides the
// object's content type, so it is sniffed.
func (u *upload) putPart(ctx context.Context, bucket, key, uploadID string, n int, size int64, md5sum []byte) (storage.PartInfo, error) {
	src, _, err := u.content(n == 1)
	if err != nil {
		return storage.PartInfo{}, err
	}
	part, err := u.h.cfg.Storage.PutPart(ctx, bucket, key, uploadID, n, src, size, md5sum)
	if err != nil {
		return storage.PartInfo{}, u.src.cause(err)
	}
	u.h.metrics.uploadedBytes.Add(float64(part.Size))
	return part, nil
}

// echoChecksums answers the x-amz-checksum-* values the client sent (as
// headers or, for aws-chunked bodies, as a verified trailer).
func (u *upload) echoChecksums(w http.ResponseWriter, r *http.Request) {
	for _, name := range checksumHeaders {
		if v := r.Header.Get(name); v != "" {
			w.Header().Set(name, v)
		}
	}
	for name, v := range u.c.verifiedChecksums() {
		w.Header().Set(name, v)
	}
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
