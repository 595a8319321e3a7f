package s3api

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// sniffLen is how many leading bytes decide an object's content type
// (what http.DetectContentType looks at).
const sniffLen = 512

// sniffContentType names the content type of an object's first bytes. It
// never trusts a header: http.DetectContentType plus the formats it does not
// know (WebP is known since Go 1.x only as "image/webp"; AVIF/HEIC are not).
func sniffContentType(head []byte) string {
	if len(head) >= 12 && string(head[0:4]) == "RIFF" && string(head[8:12]) == "WEBP" {
		return "image/webp"
	}
	if len(head) >= 12 && string(head[4:8]) == "ftyp" {
		switch string(head[8:12]) {
		case "avif", "avis":
			return "image/avif"
		case "heic", "heix", "heim", "heis", "mif1", "msf1":
			return "image/heic"
		}
	}
	if len(head) >= 4 && (bytes.Equal(head[:4], []byte("II*\x00")) || bytes.Equal(head[:4], []byte("MM\x00*"))) {
		return "image/tiff"
	}
	ct := http.DetectContentType(head)
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.TrimSpace(ct)
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
