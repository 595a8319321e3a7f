package s3api

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/imgate/imgate/gateway/storage"
)

// getObject handles GetObject and HeadObject, with Range and conditional headers.
func (h *handler) getObject(w http.ResponseWriter, r *http.Request, bucket, key string, head bool) {
	if !h.anonymousVariantRead(r, bucket) {
		if _, ok := h.prepareRead(w, r, actGetObject, bucket, key); !ok {
			return
		}
	} else if err := checkKey(key); err != nil {
		h.writeError(w, r, err)
		return
	}
	ctx := r.Context()
	key, info, err := h.statForGet(w, r, bucket, key)
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
